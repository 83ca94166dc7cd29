// Drives shared/interop/relay.py, the harness nobody here wrote, to pair this
// implementation's `digest-md5 peer` with the JDK's and Cyrus SASL's peers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** shared/interop beside the clone, or $DIGEST_MD5_INTEROP. */
export const INTEROP = resolve(process.env.DIGEST_MD5_INTEROP ?? resolve(REPO, '../shared/interop'));

export function requireInterop(): void {
  if (!existsSync(resolve(INTEROP, 'relay.py'))) {
    throw new Error(`shared/interop not found at ${INTEROP}: clone the project beside shared/ or set DIGEST_MD5_INTEROP`);
  }
  const b = oursBackend();
  if (b !== BACKEND) throw new Error(`our peer runs on the ${b} crypto backend, expected ${BACKEND}`);
}

/** The crypto backend our peer runs on in this suite: DIGEST_MD5_BACKEND=portable selects @noble. */
export const BACKEND = process.env.DIGEST_MD5_BACKEND === 'portable' ? 'portable' : 'node';
const NODE = BACKEND === 'portable' ? 'node --conditions=portable' : 'node';

/** Our peer as a shell command line. */
export function ours(role: 'server' | 'client', args: string): string {
  return `${NODE} ${shellQuote(resolve(REPO, 'dist/cli.js'))} peer ${role} ${args}`;
}

/** What `digest-md5 version` says of the backend, run as `ours` runs. */
export function oursBackend(): string {
  const r = spawnSync('/bin/sh', ['-c', `${NODE} ${shellQuote(resolve(REPO, 'dist/cli.js'))} version`], { encoding: 'utf8' });
  return /crypto backend: (\w+)/.exec(r.stdout)?.[1] ?? `unknown (${r.stdout}${r.stderr})`;
}

/** Every protection the JDK speaks, as [qop, cipher]: plain auth, auth-int, and each cipher of auth-conf. */
export const JDK_PROTECTIONS: readonly [string, string | undefined][] = [
  ['auth', undefined],
  ['auth-int', undefined],
  ['auth-conf', '3des'],
  ['auth-conf', 'des'],
  ['auth-conf', 'rc4'],
  ['auth-conf', 'rc4-56'],
  ['auth-conf', 'rc4-40'],
];

export function java(role: 'server' | 'client', args: string): string {
  return `${shellQuote(resolve(INTEROP, 'java/java-peer'))} ${role} ${args}`;
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface Round {
  round: number;
  server: string;
  client: string;
  steps: number;
  data: unknown[];
}

export interface Verdict {
  pass: boolean;
  rounds: Round[];
  exit: { server: number; client: number };
  stderr: string;
}

export function relay(server: string, client: string, extra: string[] = []): Verdict {
  const r = spawnSync('python3', [resolve(INTEROP, 'relay.py'), '--json', '--server', server, '--client', client, ...extra], {
    cwd: INTEROP,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  let parsed: Omit<Verdict, 'stderr'>;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new Error(`relay.py printed no verdict (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...parsed, stderr: r.stderr };
}

/** The key=value fields of an OK line. */
export function okFields(line: string): Record<string, string> {
  if (!line.startsWith('OK')) throw new Error(`not an OK line: ${line}`);
  return Object.fromEntries(
    line
      .slice(2)
      .trim()
      .split(/\s+/)
      .filter((w) => w.includes('='))
      .map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
  );
}
