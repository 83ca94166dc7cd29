// `digest-md5 serve`: the sample protocol's server (docs/protocol.md) on TCP, with the
// accounts of a users file; runs until SIGINT or SIGTERM.

import type { Writable } from 'node:stream';
import { CIPHER_NAMES } from '../layer/ciphers/index.js';
import { MAX_MAXBUF, MIN_MAXBUF, QOPS } from '../messages.js';
import { backend as cryptoBackend } from '#crypto';
import { DigestMD5Error } from '../errors.js';
import { intFlag, listFlag, parseArgs, stringFlag, UsageError, type FlagSpec, commandFailure } from './args.js';
import { createProtocolServer } from './protocol/server.js';
import { readUsersFile, UsersFileError } from './users-file.js';
import { untilSignalled } from './signals.js';

export const SERVE_USAGE = `usage: digest-md5 serve --port P --users FILE [options]

Runs the sample protocol's server (docs/protocol.md) until SIGINT or SIGTERM.
Prints "listening on HOST:PORT" on stdout, then one line per session event on stderr.

  --port P            TCP port; 0 picks a free one
  --host ADDR         address to listen on (default 127.0.0.1)
  --users FILE        accounts, one "user:realm:hash" a line, hash = hex H(user:realm:password)
  --realm R[,R2]      realms to offer (default: the realms of the users file)
  --hostname H[,H2]   names clients may put in digest-uri ("*": any; default: localhost and --host)
  --qop LIST          qops to offer, in order (default auth-conf,auth-int,auth)
  --cipher LIST       ciphers to offer with auth-conf (default aes,rc4,3des; des, rc4-56, rc4-40 when named)
  --maxbuf N          the largest security-layer buffer accepted (default 65536)
  --max-sessions N    sessions at once (default 64)
  --name TEXT         the name in the greeting (default "digest-md5 sample server")
  -h, --help          this text`;

const FLAGS: FlagSpec[] = [
  { name: 'port', value: true },
  { name: 'host', value: true },
  { name: 'users', value: true },
  { name: 'realm', value: true },
  { name: 'hostname', value: true },
  { name: 'qop', value: true },
  { name: 'cipher', value: true },
  { name: 'maxbuf', value: true },
  { name: 'max-sessions', value: true },
  { name: 'name', value: true },
  { name: 'help', short: 'h', value: false },
];

export interface ServeIo {
  stdout: Writable;
  stderr: Writable;
  /** Resolves when the server should stop (default: SIGINT or SIGTERM). */
  stop?: Promise<unknown>;
}

function list(v: string | undefined): string[] | undefined {
  return v?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Runs `serve`; resolves to the exit status. */
export async function runServe(argv: readonly string[], io: ServeIo): Promise<number> {
  const fail = commandFailure(io.stderr, 'serve');
  let options;
  try {
    const a = parseArgs(argv, FLAGS);
    if (a.flags.has('help')) {
      io.stdout.write(SERVE_USAGE + '\n');
      return 0;
    }
    if (a.positional.length > 0) throw new UsageError(`unexpected argument: ${a.positional[0]}`);
    const port = intFlag(a, 'port');
    if (port === undefined) throw new UsageError('--port is required');
    if (port > 65535) throw new UsageError('--port must be in 0..65535');
    const usersPath = stringFlag(a, 'users');
    if (usersPath === undefined) throw new UsageError('--users is required');
    const host = stringFlag(a, 'host') ?? '127.0.0.1';
    const maxbuf = intFlag(a, 'maxbuf');
    if (maxbuf !== undefined && (maxbuf < MIN_MAXBUF || maxbuf > MAX_MAXBUF)) throw new UsageError(`--maxbuf must be in ${MIN_MAXBUF}..${MAX_MAXBUF}`);
    const maxSessions = intFlag(a, 'max-sessions');
    if (maxSessions === 0) throw new UsageError('--max-sessions must be at least 1');
    const qop = listFlag(a, 'qop', QOPS) ?? ['auth-conf', 'auth-int', 'auth'];
    const ciphers = listFlag(a, 'cipher', CIPHER_NAMES);
    const hostnames = list(stringFlag(a, 'hostname'));
    const realmsFlag = list(stringFlag(a, 'realm'));
    const name = stringFlag(a, 'name');
    options = { port, host, usersPath, maxbuf, maxSessions, qop, ciphers, hostnames, realmsFlag, name };
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message, 2);
    throw e;
  }

  const o = options;
  let users;
  try {
    users = await readUsersFile(o.usersPath);
  } catch (e) {
    if (e instanceof UsersFileError) return fail(e.message, 1);
    throw e;
  }
  const wildcard = o.host === '0.0.0.0' || o.host === '::';
  const hosts = o.hostnames ?? (wildcard ? ['localhost'] : [...new Set(['localhost', o.host])]);
  let server;
  try {
    server = createProtocolServer({
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.maxSessions !== undefined ? { maxSessions: o.maxSessions } : {}),
      sasl: {
        hosts: hosts.includes('*') ? '*' : hosts,
        realms: o.realmsFlag ?? users.realms,
        credentials: users.store,
        qop: o.qop,
        ...(o.ciphers !== undefined ? { ciphers: o.ciphers } : {}),
        ...(o.maxbuf !== undefined ? { maxbuf: o.maxbuf } : {}),
      },
    });
  } catch (e) {
    if (e instanceof DigestMD5Error) return fail(`${e.code}: ${e.message}`, 2);
    throw e;
  }
  server.on('authenticated', (id, remote) => {
    io.stderr.write(`${remote}: authenticated ${id.username}${id.authzid !== id.username ? ` as ${id.authzid}` : ''} realm=${id.realm || '-'} qop=${id.qop} cipher=${id.cipher ?? 'none'}\n`);
  });
  server.on('session-error', (e, remote) => {
    const code = (e as { code?: unknown }).code;
    io.stderr.write(`${remote}: ${typeof code === 'string' ? code + ': ' : ''}${e.message.replace(/[\r\n]+/g, ' ')}\n`);
  });
  let address;
  try {
    address = await server.listen(o.port, o.host);
  } catch (e) {
    return fail(`cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`, 1);
  }
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  io.stdout.write(`listening on ${shown}:${address.port}\n`);
  io.stderr.write(
    `${users.count} account(s), realms ${(o.realmsFlag ?? users.realms).join(',')}, digest-uri hosts ${hosts.join(',')}, crypto backend: ${cryptoBackend}\n`,
  );
  await (io.stop ?? untilSignalled());
  await server.close();
  return 0;
}
