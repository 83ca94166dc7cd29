// Test certificates made with openssl into a temporary directory (never committed):
// a CA, leaf certificates it signs, and a second, unrelated CA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Leaf {
  readonly keyPath: string;
  readonly certPath: string;
  readonly key: Buffer;
  readonly cert: Buffer;
}

export interface TestCa {
  readonly certPath: string;
  readonly cert: Buffer;
  /** A certificate with subject CN=`cn`, signed by this CA; `san` as in subjectAltName (e.g. "DNS:localhost,IP:127.0.0.1"). */
  leaf(cn: string, san?: string): Leaf;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

export function makeCa(dir: string, name: string): TestCa {
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.pem`);
  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign',
  ]);
  let serial = 1;
  return {
    certPath,
    cert: readFileSync(certPath),
    leaf(cn: string, san?: string): Leaf {
      const base = join(dir, `${name}-${cn.replace(/[^A-Za-z0-9.-]/g, '_')}`);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
      writeFileSync(`${base}.ext`, `basicConstraints=CA:FALSE\n${san ? `subjectAltName=${san}\n` : ''}`);
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', certPath, '-CAkey', keyPath, '-set_serial', String(1000 + serial++), '-days', '2', '-out', `${base}.pem`, '-extfile', `${base}.ext`]);
      return { keyPath: `${base}.key`, certPath: `${base}.pem`, key: readFileSync(`${base}.key`), cert: readFileSync(`${base}.pem`) };
    },
  };
}

/** A temporary directory and its removal. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
