// `digest-md5 connect HOST:PORT`: the sample protocol's client (docs/protocol.md).
// Authenticates, then sends each line of stdin as a command and prints the replies.

import type { Readable, Writable } from 'node:stream';
import { DigestMD5Error } from '../errors.js';
import { CIPHER_NAMES } from '../layer/ciphers/index.js';
import { MAX_MAXBUF, MIN_MAXBUF, QOPS } from '../messages.js';
import { intFlag, listFlag, parseArgs, stringFlag, UsageError, type FlagSpec, commandFailure } from './args.js';
import { LineChannel } from './line-channel.js';
import { isTerminal, MAX_PASSWORD_BYTES as MAX_PASSWORD, promptHidden } from './password-input.js';
import { connectProtocolClient, type ProtocolClient } from './protocol/client.js';
import { ProtocolError } from './protocol/wire.js';

export const CONNECT_USAGE = `usage: digest-md5 connect HOST:PORT --user U [options]

Connects to a sample-protocol server (docs/protocol.md), authenticates with DIGEST-MD5,
then sends each line of stdin as a command and prints the server's replies on stdout.
QUIT or the end of stdin ends the session. Status and errors go to stderr.

The password comes from, in order: --password-stdin (the first line of stdin), the
environment variable DIGEST_MD5_PASSWORD, or a prompt on the terminal (not echoed).

  --user U            the authentication identity
  --authzid Z         act as Z (the server must allow it)
  --realm R           the realm to answer with (default: the server's first)
  --hostname H        the host in digest-uri (default: HOST)
  --qop LIST          acceptable qops, preferred first (default auth-conf,auth-int)
  --cipher LIST       acceptable ciphers (default aes,rc4,3des; des, rc4-56, rc4-40 when named)
  --maxbuf N          the largest security-layer buffer accepted (default 65536)
  --password-stdin    read the password from the first line of stdin
  --timeout MS        how long to wait for each reply (default 30000)
  -h, --help          this text`;

const FLAGS: FlagSpec[] = [
  { name: 'user', value: true },
  { name: 'authzid', value: true },
  { name: 'realm', value: true },
  { name: 'hostname', value: true },
  { name: 'qop', value: true },
  { name: 'cipher', value: true },
  { name: 'maxbuf', value: true },
  { name: 'timeout', value: true },
  { name: 'password-stdin', value: false },
  { name: 'help', short: 'h', value: false },
];

/** Passwords and command lines longer than this are refused. */
const MAX_COMMAND_LINE = 8192;

export interface ConnectIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
}

/** HOST:PORT, with [v6]:PORT for IPv6 addresses. */
function parseAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):([0-9]{1,5})$/.exec(text);
  if (!m) throw new UsageError(`"${text}" is not HOST:PORT`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new UsageError(`port ${port} is not in 1..65535`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Runs `connect`; resolves to the exit status. */
export async function runConnect(argv: readonly string[], io: ConnectIo): Promise<number> {
  const fail = commandFailure(io.stderr, 'connect');
  let o;
  try {
    const a = parseArgs(argv, FLAGS);
    if (a.flags.has('help')) {
      io.stdout.write(CONNECT_USAGE + '\n');
      return 0;
    }
    if (a.positional.length !== 1) throw new UsageError(a.positional.length === 0 ? 'HOST:PORT is required' : `unexpected argument: ${a.positional[1]}`);
    const address = parseAddress(a.positional[0]!);
    const user = stringFlag(a, 'user');
    if (user === undefined || user.length === 0) throw new UsageError('--user is required');
    const maxbuf = intFlag(a, 'maxbuf');
    if (maxbuf !== undefined && (maxbuf < MIN_MAXBUF || maxbuf > MAX_MAXBUF)) throw new UsageError(`--maxbuf must be in ${MIN_MAXBUF}..${MAX_MAXBUF}`);
    const timeout = intFlag(a, 'timeout');
    if (timeout === 0) throw new UsageError('--timeout must be at least 1');
    o = {
      ...address,
      user,
      authzid: stringFlag(a, 'authzid'),
      realm: stringFlag(a, 'realm'),
      hostname: stringFlag(a, 'hostname') ?? address.host,
      qop: listFlag(a, 'qop', QOPS) ?? ['auth-conf', 'auth-int'],
      ciphers: listFlag(a, 'cipher', CIPHER_NAMES),
      maxbuf,
      timeout,
      passwordStdin: a.flags.has('password-stdin'),
    };
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message, 2);
    throw e;
  }

  // Made on first use: a terminal prompt must read stdin before anything else listens to it.
  let channel: LineChannel | undefined;
  const stdinLines = (): LineChannel => (channel ??= new LineChannel(io.stdin, MAX_COMMAND_LINE));
  let password: string;
  try {
    password = await readPassword(o.passwordStdin, stdinLines, io);
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message, 2);
    if (e instanceof ProtocolError) return fail(e.message, 1);
    throw e;
  }

  let client: ProtocolClient;
  try {
    client = await connectProtocolClient({
      host: o.host,
      port: o.port,
      ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}),
      sasl: {
        username: o.user,
        password,
        host: o.hostname,
        qop: o.qop,
        ...(o.ciphers !== undefined ? { ciphers: o.ciphers } : {}),
        ...(o.maxbuf !== undefined ? { maxbuf: o.maxbuf } : {}),
        ...(o.authzid !== undefined ? { authzid: o.authzid } : {}),
        ...(o.realm !== undefined ? { realm: o.realm } : {}),
      },
    });
  } catch (e) {
    return fail(describe(e, `${o.host}:${o.port}`), 1);
  }
  io.stderr.write(`${client.greeting}\n`);
  io.stderr.write(`authenticated as ${o.authzid ?? o.user}: qop=${client.qop} cipher=${client.cipher ?? 'none'} ssf=${client.ssf}\n`);

  try {
    for (;;) {
      const l = await stdinLines().next();
      if (l.kind === 'too-long') {
        io.stderr.write(`digest-md5 connect: skipped a command line longer than ${MAX_COMMAND_LINE} bytes\n`);
        continue;
      }
      const text = l.kind === 'line' ? l.text.trim() : 'QUIT';
      if (text.length === 0) continue;
      const quitting = text.toUpperCase() === 'QUIT';
      const r = quitting ? await client.quit() : await client.command(text);
      for (const u of r.untagged) io.stdout.write(`* ${u}\n`);
      io.stdout.write(`${r.ok ? 'OK' : 'NO'}${r.text.length > 0 ? ' ' + r.text : ''}\n`);
      if (quitting) return 0;
    }
  } catch (e) {
    client.destroy();
    return fail(describe(e, `${o.host}:${o.port}`), 1);
  }
}

function describe(e: unknown, where: string): string {
  if (e instanceof ProtocolError) return e.message;
  if (e instanceof DigestMD5Error) return `${e.code}: ${e.message}`;
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string') return `cannot talk to ${where}: ${err.code}${err.message.includes(err.code) ? '' : ' ' + err.message}`;
  return String(err?.message ?? e);
}

async function readPassword(fromStdin: boolean, lines: () => LineChannel, io: ConnectIo): Promise<string> {
  if (fromStdin) {
    const l = await lines().next();
    if (l.kind === 'end') throw new UsageError('--password-stdin: stdin ended before the password');
    if (l.kind === 'too-long') throw new UsageError('--password-stdin: the first line is too long for a password');
    if (Buffer.byteLength(l.text) > MAX_PASSWORD) throw new UsageError(`--password-stdin: passwords are at most ${MAX_PASSWORD} bytes`);
    return l.text;
  }
  const env = io.env.DIGEST_MD5_PASSWORD;
  if (env !== undefined) return env;
  if (!isTerminal(io.stdin)) {
    throw new UsageError('no password: stdin is not a terminal; set DIGEST_MD5_PASSWORD or use --password-stdin');
  }
  return promptHidden(io.stdin, io.stderr, 'Password: ', MAX_PASSWORD);
}
