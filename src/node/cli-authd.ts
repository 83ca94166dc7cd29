// `digest-md5 authd`: the authenticating server (docs/authd.md) over TLS with client
// certificates, holding a credential file of precalculated hashes; runs until SIGINT or SIGTERM.

import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { DigestMD5Error } from '../errors.js';
import { intFlag, parseArgs, stringFlag, UsageError, type FlagSpec, commandFailure } from './args.js';
import { createAuthServer } from './authd.js';
import { oneLine } from './authd-wire.js';
import { CredentialFile } from './credential-file.js';
import { untilSignalled } from './signals.js';

export const AUTHD_USAGE = `usage: digest-md5 authd --store FILE --cert FILE --key FILE --ca FILE --port P [options]

Runs the authenticating server (docs/authd.md) until SIGINT or SIGTERM. Originating
servers connect over TLS with a client certificate signed by --ca, whose subject CN is
their identity (the serverId of their nonces), and forward their clients' digest-responses;
authd answers with the session key and rspauth, never a stored hash.
Prints "listening on HOST:PORT" on stdout, then one line per request on stderr.

  --store FILE          the credential file (digest-md5 passwd); re-read when it changes
  --cert FILE           authd's certificate (PEM)
  --key FILE            its private key (PEM); refused when every user may read it
  --ca FILE             CA certificate(s) of the originating servers' client certificates (PEM)
  --port P              TCP port; 0 picks a free one
  --host ADDR           address to listen on (default 127.0.0.1)
  --allow ID[,ID2]      only these certificate identities may call (default: any the CA signed)
  --max-connections N   connections at once (default 100)
  --timeout MS          deadline of one verification (default 10000)
  -h, --help            this text

Exit status: 0 stopped by a signal, 1 failure, 2 usage error.`;

const FLAGS: FlagSpec[] = [
  { name: 'store', value: true },
  { name: 'cert', value: true },
  { name: 'key', value: true },
  { name: 'ca', value: true },
  { name: 'port', value: true },
  { name: 'host', value: true },
  { name: 'allow', value: true },
  { name: 'max-connections', value: true },
  { name: 'timeout', value: true },
  { name: 'help', short: 'h', value: false },
];

/** PEM files larger than this are refused. */
const MAX_PEM_BYTES = 1024 * 1024;

export interface AuthdIo {
  stdout: Writable;
  stderr: Writable;
  /** Resolves when authd should stop (default: SIGINT or SIGTERM). */
  stop?: Promise<unknown>;
}

class CliFailure extends Error {}

/** Reads a PEM file, bounded; a private key must not be readable by every user. */
async function readPem(path: string, what: string, secret: boolean): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliFailure(`${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new CliFailure(`${what} ${path}: not a regular file`);
    if (secret && process.platform !== 'win32' && (st.mode & 0o004) !== 0) {
      throw new CliFailure(`${what} ${path}: refusing a private key that every user may read (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); run "chmod o-rwx ${path}"`);
    }
    if (st.size > MAX_PEM_BYTES) throw new CliFailure(`${what} ${path}: larger than ${MAX_PEM_BYTES} bytes`);
    const text = await fh.readFile();
    if (!text.includes('-----BEGIN ')) throw new CliFailure(`${what} ${path}: not PEM`);
    return text;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Runs `authd`; resolves to the exit status. */
export async function runAuthd(argv: readonly string[], io: AuthdIo): Promise<number> {
  const fail = commandFailure(io.stderr, 'authd');
  let o;
  try {
    const a = parseArgs(argv, FLAGS);
    if (a.flags.has('help')) {
      io.stdout.write(AUTHD_USAGE + '\n');
      return 0;
    }
    if (a.positional.length > 0) throw new UsageError(`unexpected argument: ${a.positional[0]}`);
    const need = (name: string): string => {
      const v = stringFlag(a, name);
      if (v === undefined || v.length === 0) throw new UsageError(`--${name} is required`);
      return v;
    };
    const store = need('store');
    const cert = need('cert');
    const key = need('key');
    const ca = need('ca');
    const port = intFlag(a, 'port');
    if (port === undefined) throw new UsageError('--port is required');
    if (port > 65535) throw new UsageError('--port must be in 0..65535');
    const maxConnections = intFlag(a, 'max-connections');
    if (maxConnections === 0) throw new UsageError('--max-connections must be at least 1');
    const timeout = intFlag(a, 'timeout');
    if (timeout === 0) throw new UsageError('--timeout must be at least 1');
    const allow = stringFlag(a, 'allow')?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (allow !== undefined && allow.length === 0) throw new UsageError('--allow needs at least one identity');
    o = { store, cert, key, ca, port, host: stringFlag(a, 'host') ?? '127.0.0.1', maxConnections, timeout, allow };
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message, 2);
    throw e;
  }

  let server;
  let file: CredentialFile;
  try {
    file = await CredentialFile.open(o.store);
    const tls = { cert: await readPem(o.cert, '--cert', false), key: await readPem(o.key, '--key', true), ca: await readPem(o.ca, '--ca', false) };
    server = createAuthServer({
      store: file,
      tls,
      ...(o.allow ? { allowedServers: o.allow } : {}),
      ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
      ...(o.timeout !== undefined ? { requestTimeoutMs: o.timeout } : {}),
    });
  } catch (e) {
    if (e instanceof CliFailure || e instanceof DigestMD5Error) return fail(e.message, 1);
    throw e;
  }
  server.on('request', (e) => {
    const who = `${oneLine(e.username ?? '-', 100)}${e.realm ? ` realm=${oneLine(e.realm, 100)}` : ''}`;
    io.stderr.write(`${oneLine(e.server, 80)} ${e.remote}: ${who} ${e.ok ? 'ok' : `refused ${e.code}: ${e.message}`}\n`);
  });
  server.on('connection-error', (e, remote) => {
    const code = (e as { code?: unknown }).code;
    io.stderr.write(`${remote}: ${typeof code === 'string' ? code + ': ' : ''}${oneLine(e.message)}\n`);
  });
  let address;
  try {
    address = await server.listen(o.port, o.host);
  } catch (e) {
    return fail(`cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`, 1);
  }
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  io.stdout.write(`listening on ${shown}:${address.port}\n`);
  io.stderr.write(`${file.size} user(s) in ${o.store}${o.allow ? `; servers allowed: ${o.allow.join(',')}` : ''}\n`);
  await (io.stop ?? untilSignalled());
  await server.close();
  return 0;
}
