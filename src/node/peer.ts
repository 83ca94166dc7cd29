// `digest-md5 peer server|client`: this implementation behind the stdin/stdout
// line protocol of shared/interop/README.md, so that one harness (relay.py)
// can pair it with the JDK's and Cyrus SASL's DIGEST-MD5.

import type { Readable, Writable } from 'node:stream';
import { DigestMD5Client } from '../client.js';
import type { Credential } from '../credentials.js';
import { DigestMD5Error } from '../errors.js';
import { MAX_MAXBUF, MIN_MAXBUF, QOPS, type Qop } from '../messages.js';
import { DigestMD5Server } from '../server.js';
import { ClientContextCache } from '../client-cache.js';
import { ServerSessions } from '../sessions.js';
import { intFlag, listFlag, parseArgs, stringFlag, UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import { LineChannel, type LineResult } from './line-channel.js';
import { CIPHER_NAMES } from '../layer/ciphers/index.js';
import { splitFrames, wrapFramed } from '../layer/framing.js';
import type { SecurityLayer } from '../layer/security-layer.js';

export const PEER_USAGE = `usage: digest-md5 peer server|client [options]

Speaks the line protocol of shared/interop/README.md on stdin/stdout.
  server: --users u:pw[,u2:pw2]  --realm R[,R2]  --host H ('*': any)  --allow-any-authzid
          --no-utf8  --nonce V (test only)
  client: --user U --password P  [--authzid Z]  [--realm R]  --cnonce V (test only)
  both:   --protocol imap (default)  --host localhost (default)  --qop auth[,auth-int,auth-conf]
          --cipher 3des,rc4[,des,rc4-56,rc4-40] (named weak ciphers are enabled)  --maxbuf N  --framed  -l|--send-last  --no-send-last  -i|--initial-response
Exit status: 0 after Q or end of input following a success, 1 after a failure, 2 for bad flags.`;

const FLAGS: FlagSpec[] = [
  { name: 'users', value: true },
  { name: 'user', value: true },
  { name: 'password', value: true },
  { name: 'authzid', value: true },
  { name: 'realm', value: true },
  { name: 'qop', value: true },
  { name: 'cipher', value: true },
  { name: 'maxbuf', value: true },
  { name: 'protocol', value: true },
  { name: 'host', value: true },
  { name: 'nonce', value: true },
  { name: 'cnonce', value: true },
  { name: 'allow-any-authzid', value: false },
  { name: 'no-utf8', value: false },
  { name: 'framed', value: false },
  { name: 'send-last', short: 'l', value: false },
  { name: 'no-send-last', value: false },
  { name: 'initial-response', short: 'i', value: false },
  { name: 'help', short: 'h', value: false },
];

/** Base64 payloads as large as a 16 MiB buffer, plus the tag. */
const MAX_LINE = 24 * 1024 * 1024;

interface PeerIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

interface PeerOptions {
  role: 'server' | 'client';
  args: ParsedArgs;
  sendLast: boolean;
  framed: boolean;
  initialResponse: boolean;
}

/** What the data phase needs from an authenticated session. */
interface Session {
  fields: string;
  qop: Qop;
  layer: SecurityLayer | undefined;
}

function parsePeerArgs(argv: readonly string[]): PeerOptions | 'help' {
  const args = parseArgs(argv, FLAGS);
  if (args.flags.has('help')) return 'help';
  const role = args.positional[0];
  if (role !== 'server' && role !== 'client') throw new UsageError('first argument must be "server" or "client"');
  if (args.positional.length > 1) throw new UsageError(`unexpected argument: ${args.positional[1]}`);
  // The last of --send-last / --no-send-last wins, as with the JDK peer.
  let sendLast = false;
  for (const a of argv) {
    if (a === '-l' || a === '--send-last') sendLast = true;
    if (a === '--no-send-last') sendLast = false;
  }
  const serverOnly = ['users', 'allow-any-authzid', 'no-utf8', 'nonce'];
  const clientOnly = ['user', 'password', 'authzid', 'cnonce'];
  for (const f of role === 'server' ? clientOnly : serverOnly) {
    if (args.flags.has(f)) throw new UsageError(`--${f} is not a ${role} option`);
  }
  if (role === 'client' && (stringFlag(args, 'user') === undefined || stringFlag(args, 'password') === undefined)) {
    throw new UsageError('client needs --user and --password');
  }
  if (role === 'server') {
    const users = stringFlag(args, 'users');
    if (users === undefined) throw new UsageError('server needs --users');
    parseUsers(users);
  }
  listFlag(args, 'qop', QOPS);
  listFlag(args, 'cipher', CIPHER_NAMES);
  const maxbuf = intFlag(args, 'maxbuf');
  if (maxbuf !== undefined && (maxbuf < MIN_MAXBUF || maxbuf > MAX_MAXBUF)) {
    throw new UsageError(`--maxbuf must be in ${MIN_MAXBUF}..${MAX_MAXBUF}`);
  }
  return { role, args, sendLast, framed: args.flags.has('framed'), initialResponse: args.flags.has('initial-response') };
}

/** Parses `u:pw,u2:pw2`; a password may contain ":" but not ",". */
function parseUsers(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const item of text.split(',')) {
    const colon = item.indexOf(':');
    if (colon <= 0) throw new UsageError(`--users: "${item}" is not user:password`);
    users.set(item.slice(0, colon), item.slice(colon + 1));
  }
  return users;
}

function splitList(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(/[ ,]+/).filter((s) => s.length > 0);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

class Peer {
  private readonly lines: LineChannel;
  /** Lives as long as the process, so that R reaches the contexts of earlier rounds (as Cyrus's caches do). */
  private readonly clientCache = new ClientContextCache();
  private sessions: ServerSessions | undefined;

  private serverSessions(): ServerSessions {
    this.sessions ??= new ServerSessions({ serverId: stringFlag(this.o.args, 'host') ?? 'localhost' });
    return this.sessions;
  }

  constructor(
    private readonly o: PeerOptions,
    private readonly io: PeerIo,
  ) {
    this.lines = new LineChannel(io.stdin, MAX_LINE);
  }

  /** The next stdin line; a failing stdin counts as its end (the peer then exits, never crashes). */
  private async nextLine(): Promise<LineResult> {
    try {
      return await this.lines.next();
    } catch {
      return { kind: 'end' };
    }
  }

  private say(line: string): void {
    this.io.stdout.write(line + '\n');
  }

  private error(message: string): void {
    this.say(`E: ${message.replace(/[\r\n]+/g, ' ')}`);
  }

  /**
   * Reads lines until one carries `tag`; returns its payload, or 'quit' on Q,
   * or 'end' at the end of input. Bad lines are answered with E: and skipped.
   */
  private async expect(tag: 'S' | 'C'): Promise<Uint8Array | 'quit' | 'end'>;
  private async expect(tag: 'S' | 'C', allowNone: true): Promise<Uint8Array | 'none' | 'quit' | 'end'>;
  private async expect(tag: 'S' | 'C', allowNone = false): Promise<Uint8Array | 'none' | 'quit' | 'end'> {
    for (;;) {
      const l = await this.nextLine();
      if (l.kind === 'end') return 'end';
      if (l.kind === 'too-long') {
        this.error(`line longer than ${MAX_LINE} bytes`);
        continue;
      }
      const text = l.text;
      if (text.trim() === 'Q') return 'quit';
      const m = /^([A-Z]):\s?(.*)$/.exec(text);
      if (!m || m[1] !== tag) {
        this.error(`expected a "${tag}:" line during authentication, got "${text.slice(0, 40)}"`);
        continue;
      }
      if (allowNone && m[2]!.trim() === '-') return 'none';
      const payload = decodeBase64(m[2]!);
      if (payload === undefined) {
        this.error('payload is not standard base64');
        continue;
      }
      return payload;
    }
  }

  private failure(e: unknown): void {
    const msg = e instanceof DigestMD5Error ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
    this.say(`NO ${msg.replace(/[\r\n]+/g, ' ')}`);
  }

  async run(): Promise<number> {
    for (;;) {
      const result = this.o.role === 'server' ? await this.serverHandshake() : await this.clientHandshake();
      if (result === 'quit' || result === 'end' || result === 'failed') return 1;
      this.say(`OK ${result.fields}`);
      const next = await this.dataPhase(result);
      if (next === 'reauth') continue;
      return 0;
    }
  }

  private async serverHandshake(): Promise<Session | 'quit' | 'end' | 'failed'> {
    const a = this.o.args;
    const users = parseUsers(stringFlag(a, 'users')!);
    const host = stringFlag(a, 'host') ?? 'localhost';
    const realms = splitList(stringFlag(a, 'realm'));
    let server: DigestMD5Server;
    try {
      server = new DigestMD5Server({
      service: stringFlag(a, 'protocol') ?? 'imap',
      hosts: host,
      ...(realms !== undefined ? { realms } : {}),
      credentials: {
        lookup: ({ username }): Credential | undefined => {
          const pw = users.get(username);
          return pw === undefined ? undefined : { password: pw };
        },
      },
      qop: listFlag(a, 'qop', QOPS) ?? ['auth'],
      ...cipherOption(a),
      maxbuf: intFlag(a, 'maxbuf') ?? 65536,
      utf8: !a.flags.has('no-utf8'),
      ...(a.flags.has('allow-any-authzid') ? { authorize: () => true } : {}),
      ...(stringFlag(a, 'nonce') !== undefined ? { unsafeFixedNonce: stringFlag(a, 'nonce')! } : {}),
        sessions: this.serverSessions(),
      });
    } catch (e) {
      this.failure(e);
      return 'failed';
    }
    let initial: Uint8Array | undefined;
    if (this.o.initialResponse) {
      // A subsequent-authentication response for a context of an earlier R in this process, or "-".
      const ir = await this.expect('C', true);
      if (ir === 'quit' || ir === 'end') return ir;
      if (ir !== 'none') initial = ir;
    }
    try {
      this.say(`S: ${b64(await server.step(initial))}`);
      // Until the response verifies: a stale nonce gets a new challenge, answered again.
      while (!server.complete) {
        const response = await this.expect('C');
        if (typeof response === 'string') return response;
        this.say(`S: ${b64(await server.step(response))}`);
      }
      if (!this.o.sendLast) {
        const last = await this.expect('C');
        if (typeof last === 'string') return last;
        await server.step(last);
      }
    } catch (e) {
      this.failure(e);
      return 'failed';
    }
    const layer = server.securityLayer;
    const fields = [
      `authid=${server.username}`,
      `authzid=${server.authzid}`,
      `qop=${server.qop}`,
      `cipher=${server.cipher ?? '-'}`,
      `ssf=${server.ssf}`,
      `realm=${server.realm || '-'}`,
      `bound=${server.boundHost}`,
      `maxbuf=${server.maxbuf}`,
      `sendmaxbuf=${server.peerMaxbuf}`,
      `rawsendsize=${layer?.maxPlaintext ?? 0}`,
      `reauth=${server.reauthenticated ? 'fast' : 'full'}`,
    ].map(noSpaces);
    return { fields: fields.join(' '), qop: server.qop!, layer };
  }

  private async clientHandshake(): Promise<Session | 'quit' | 'end' | 'failed'> {
    const a = this.o.args;
    const authzid = stringFlag(a, 'authzid');
    const realm = stringFlag(a, 'realm');
    const cnonce = stringFlag(a, 'cnonce');
    let client: DigestMD5Client;
    try {
      client = new DigestMD5Client({
        username: stringFlag(a, 'user')!,
        password: stringFlag(a, 'password')!,
        service: stringFlag(a, 'protocol') ?? 'imap',
        host: stringFlag(a, 'host') ?? 'localhost',
        qop: listFlag(a, 'qop', QOPS) ?? ['auth'],
        ...cipherOption(a),
        maxbuf: intFlag(a, 'maxbuf') ?? 65536,
        ...(authzid !== undefined ? { authzid } : {}),
        ...(realm !== undefined ? { realm } : {}),
        ...(cnonce !== undefined ? { unsafeFixedCnonce: cnonce } : {}),
        contextCache: this.clientCache,
      });
    } catch (e) {
      this.failure(e);
      return 'failed';
    }
    try {
      if (this.o.initialResponse) {
        const ir = client.initialResponse();
        this.say(ir ? `C: ${b64(ir)}` : 'C: -');
      }
      // Each server message is answered until rspauth verifies (a stale challenge is answered once more).
      let final: Uint8Array = new Uint8Array(0);
      while (!client.complete) {
        const message = await this.expect('S');
        if (typeof message === 'string') return message;
        final = client.step(message);
        if (!client.complete) this.say(`C: ${b64(final)}`);
      }
      if (!this.o.sendLast) this.say(`C: ${b64(final)}`);
    } catch (e) {
      this.failure(e);
      return 'failed';
    }
    const layer = client.securityLayer;
    const fields = [
      `qop=${client.qop}`,
      `cipher=${client.cipher ?? '-'}`,
      `ssf=${client.ssf}`,
      `maxbuf=${client.maxbuf}`,
      `sendmaxbuf=${client.peerMaxbuf}`,
      `rawsendsize=${layer?.maxPlaintext ?? 0}`,
    ];
    fields.push(`reauth=${client.reauthenticated ? 'fast' : 'full'}`);
    return { fields: fields.join(' '), qop: client.qop!, layer };
  }

  /** After OK: P:, D:, W:, I, R, Q. Returns 'reauth' for R, 'quit' for Q or end of input. */
  private async dataPhase(session: Session): Promise<'reauth' | 'quit'> {
    for (;;) {
      const l = await this.nextLine();
      if (l.kind === 'end') return 'quit';
      if (l.kind === 'too-long') {
        this.error(`line longer than ${MAX_LINE} bytes`);
        continue;
      }
      const text = l.text.trim();
      if (text === 'Q') return 'quit';
      if (text === 'R') return 'reauth';
      if (text === 'I') {
        this.say(`I: ${session.fields}`);
        continue;
      }
      const m = /^([A-Z]):\s?(.*)$/.exec(l.text);
      if (!m) {
        this.error(`unknown command "${text.slice(0, 40)}"`);
        continue;
      }
      const [, tag, rest] = m as unknown as [string, string, string];
      if (tag === 'C' && rest.length === 0) continue; // an end-of-exchange C: after OK is ignored, as the JDK peer does
      const payload = decodeBase64(rest);
      if (payload === undefined) {
        this.error('payload is not standard base64');
        continue;
      }
      try {
        if (tag === 'P') this.say(`W: ${b64(this.encode(session, payload))}`);
        else if (tag === 'D') this.say(`U: ${b64(this.decode(session, payload))}`);
        else if (tag === 'W') {
          const plain = this.decode(session, payload);
          this.say(`U: ${b64(plain)}`);
          this.say(`W: ${b64(this.encode(session, plain.slice().reverse()))}`);
        } else this.error(`unknown command "${tag}:"`);
      } catch (e) {
        this.error(e instanceof DigestMD5Error ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e));
      }
    }
  }

  // With qop=auth there is no security layer: framed, the bytes go on the wire unchanged.
  private encode(session: Session, plain: Uint8Array): Uint8Array {
    const layer = session.layer;
    if (!layer) {
      if (this.o.framed) return plain;
      throw new DigestMD5Error('bad-state', 'no security layer was negotiated (qop=auth)');
    }
    return this.o.framed ? wrapFramed(layer, plain) : layer.wrap(plain);
  }

  private decode(session: Session, wire: Uint8Array): Uint8Array {
    const layer = session.layer;
    if (!layer) {
      if (this.o.framed) return wire;
      throw new DigestMD5Error('bad-state', 'no security layer was negotiated (qop=auth)');
    }
    if (!this.o.framed) return layer.unwrap(wire);
    // Every length field is checked before any token is unwrapped (no sequence number spent on a bad frame).
    const tokens = splitFrames(wire, layer.maxbuf);
    const parts = tokens.map((t, i) => {
      try {
        return layer.unwrap(t);
      } catch (e) {
        if (e instanceof DigestMD5Error && tokens.length > 1) {
          throw new DigestMD5Error(e.code, `buffer ${i + 1} of ${tokens.length}: ${e.message}`);
        }
        throw e;
      }
    });
    return Buffer.concat(parts);
  }
}

/** --cipher names the ciphers allowed, weak ones included when named. */
function cipherOption(a: ParsedArgs): { ciphers?: (typeof CIPHER_NAMES)[number][] } {
  const list = listFlag(a, 'cipher', CIPHER_NAMES);
  return list ? { ciphers: list } : {};
}

function noSpaces(field: string): string {
  return field.replace(/\s/g, '_');
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function decodeBase64(text: string): Uint8Array | undefined {
  const t = text.trim();
  if (!BASE64.test(t)) return undefined;
  return new Uint8Array(Buffer.from(t, 'base64'));
}

/** Runs the peer; resolves to the process exit status. */
export async function runPeer(argv: readonly string[], io: PeerIo): Promise<number> {
  let o: PeerOptions | 'help';
  try {
    o = parsePeerArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`digest-md5 peer: ${e.message}\n${PEER_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (o === 'help') {
    io.stdout.write(PEER_USAGE + '\n');
    return 0;
  }
  return new Peer(o, io).run();
}
