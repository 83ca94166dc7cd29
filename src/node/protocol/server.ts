// The server side of the sample protocol (docs/protocol.md): greeting, CAPABILITY,
// AUTHENTICATE DIGEST-MD5 with the switch to the security layer right after the OK line,
// then ECHO, PUT, GET, WHOAMI and QUIT. Sessions, lines, failures and the store are bounded.

import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DigestMD5Error } from '../../errors.js';
import { parseChallenge } from '../../messages.js';
import { DigestMD5Server, type DigestMD5ServerOptions } from '../../server.js';
import { DigestMD5ServerConfig } from '../../server-config.js';
import { LineChannel, type LineResult } from '../line-channel.js';
import { secureStream, type SecureStream } from '../stream.js';
import { DEFAULT_STORE_LIMITS, UserStore, type StoreLimits } from './store.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  MAX_LINE_BYTES,
  MIN_LINE_BYTES,
  ProtocolError,
  SAMPLE_SERVICE,
  closedWithin,
  decodeBase64,
  encodeBase64,
  oneLine,
  writeLine,
} from './wire.js';

export interface ProtocolServerOptions {
  /** The mechanism's options for every session; `service` defaults to "sample". */
  sasl: Omit<DigestMD5ServerOptions, 'service'> & { service?: string };
  /** The name in the greeting `* OK <name> ready`. Default "digest-md5 sample server". */
  name?: string;
  /** Sessions at once; one more gets `* BYE too many sessions`. Default 64. */
  maxSessions?: number;
  /** The longest line accepted, in bytes. Default 8192, at least 5464. */
  maxLineBytes?: number;
  /** A session that sends no line for this long is closed. Default 300000 (5 minutes). */
  idleTimeoutMs?: number;
  /** Failed or cancelled AUTHENTICATEs before the session is closed. Default 3. */
  maxAuthFailures?: number;
  /** Bounds of the per-user store. */
  store?: Partial<StoreLimits>;
}

/** Who a session authenticated, as reported by the 'authenticated' event and WHOAMI. */
export interface SessionIdentity {
  readonly username: string;
  readonly authzid: string;
  readonly realm: string;
  readonly qop: string;
  readonly cipher: string | undefined;
  readonly ssf: number;
}

export interface ProtocolServerEvents {
  /** A session authenticated; `remote` is the peer's address (or "duplex"). */
  authenticated: [identity: SessionIdentity, remote: string];
  /** A session ended on an error (a layer failure, a reset, a timeout). Never an 'error' event. */
  'session-error': [error: Error, remote: string];
}

/** How long a session waits for the client to close after QUIT or the end of its input. */
const LINGER_MS = 2000;

function positiveInt(v: number | undefined, dflt: number, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < min || n > max) throw new DigestMD5Error('bad-option', `${name} must be an integer in ${min}..${max}`);
  return n;
}

export class ProtocolServer extends EventEmitter<ProtocolServerEvents> {
  readonly name: string;
  readonly maxSessions: number;
  readonly maxLineBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxAuthFailures: number;
  /** @internal The SASL options, checked once; each session's exchange is created from them. */
  readonly saslConfig: DigestMD5ServerConfig;
  /** @internal */
  readonly store: UserStore;
  private readonly sessions = new Set<Session>();
  private offer: Promise<string> | undefined;
  private net: Server | undefined;

  constructor(options: ProtocolServerOptions) {
    super();
    if (options === null || typeof options !== 'object' || typeof options.sasl !== 'object' || options.sasl === null) {
      throw new DigestMD5Error('bad-option', 'createProtocolServer() needs { sasl: { hosts, credentials, ... } }');
    }
    this.name = options.name ?? 'digest-md5 sample server';
    if (typeof this.name !== 'string' || this.name.length === 0 || this.name !== oneLine(this.name, 100)) {
      throw new DigestMD5Error('bad-option', 'name must be 1..100 printable characters on one line');
    }
    this.maxSessions = positiveInt(options.maxSessions, 64, 'maxSessions');
    this.maxLineBytes = positiveInt(options.maxLineBytes, DEFAULT_MAX_LINE_BYTES, 'maxLineBytes', MIN_LINE_BYTES, MAX_LINE_BYTES);
    this.idleTimeoutMs = positiveInt(options.idleTimeoutMs, 300_000, 'idleTimeoutMs', 1, 2 ** 31 - 1);
    this.maxAuthFailures = positiveInt(options.maxAuthFailures, 3, 'maxAuthFailures');
    const limits = { ...DEFAULT_STORE_LIMITS, ...options.store };
    for (const [k, v] of Object.entries(limits)) positiveInt(v, v, `store.${k}`);
    this.store = new UserStore(limits);
    // Checked now rather than at the first session, and once for all of them.
    this.saslConfig = new DigestMD5ServerConfig({ ...options.sasl, service: options.sasl.service ?? SAMPLE_SERVICE });
  }

  /** Sessions open now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The address listened on, once listening. */
  address(): AddressInfo | undefined {
    const a = this.net?.address();
    return a !== null && typeof a === 'object' ? a : undefined;
  }

  /** Listens on TCP. Default host 127.0.0.1; port 0 picks a free one. */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    if (this.net) return Promise.reject(new DigestMD5Error('bad-state', 'the server is already listening'));
    const net = createServer((socket) => this.handle(socket, `${socket.remoteAddress}:${socket.remotePort}`));
    // A hard cap well above maxSessions: the ones in between are told BYE.
    net.maxConnections = this.maxSessions * 2 + 8;
    this.net = net;
    return new Promise((resolve, reject) => {
      const failed = (e: Error): void => {
        this.net = undefined;
        reject(e);
      };
      net.once('error', failed);
      net.listen(port, host, () => {
        net.removeListener('error', failed);
        resolve(net.address() as AddressInfo);
      });
    });
  }

  /** Serves one connection over any Duplex (a socket, TLS, a test pair); resolves when it ends. */
  async handle(socket: Duplex, remote = 'duplex'): Promise<void> {
    socket.on('error', () => {}); // reported through the session; never an uncaught 'error'
    if (this.sessions.size >= this.maxSessions) {
      await writeLine(socket, '* BYE too many sessions').catch(() => {});
      socket.end();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
      return;
    }
    const session = new Session(this, socket, remote);
    this.sessions.add(session);
    try {
      await session.run();
    } finally {
      this.sessions.delete(session);
    }
  }

  /** Stops listening and closes every session. */
  async close(): Promise<void> {
    const net = this.net;
    this.net = undefined;
    for (const s of this.sessions) s.destroy();
    if (net) await new Promise<void>((resolve) => net.close(() => resolve()));
  }

  /** The CAPABILITY line: what every new session offers, read back from a real challenge. */
  capability(): Promise<string> {
    this.offer ??= new DigestMD5Server(this.saslConfig).step().then((bytes) => {
      const c = parseChallenge(bytes);
      const ciphers = c.qopOptions.includes('auth-conf') ? ` cipher=${c.ciphers.join(',')}` : '';
      return `* CAPABILITY SASL DIGEST-MD5 qop=${c.qopOptions.join(',')}${ciphers}`;
    });
    this.offer.catch(() => (this.offer = undefined)); // a failed probe is retried next time
    return this.offer;
  }
}

/** Creates a sample-protocol server; call `listen()` or hand it connections with `handle()`. */
export function createProtocolServer(options: ProtocolServerOptions): ProtocolServer {
  return new ProtocolServer(options);
}

class Session {
  private lines: LineChannel;
  private out: Duplex;
  private secure: SecureStream | undefined;
  private identity: SessionIdentity | undefined;
  private failures = 0;
  private idle: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly server: ProtocolServer,
    private readonly socket: Duplex,
    private readonly remote: string,
  ) {
    this.lines = new LineChannel(socket, server.maxLineBytes);
    this.out = socket;
  }

  async run(): Promise<void> {
    let graceful = false;
    try {
      await this.say(`* OK ${this.server.name} ready`);
      for (;;) {
        const l = await this.next();
        if (this.closing) break;
        if (l.kind === 'end') {
          graceful = true;
          break;
        }
        if (l.kind === 'too-long') {
          await this.say(`NO line longer than ${this.server.maxLineBytes} bytes`);
          continue;
        }
        if (!(await this.dispatch(l.text))) {
          graceful = true;
          break;
        }
      }
    } catch (e) {
      if (!this.closing) this.server.emit('session-error', e instanceof Error ? e : new Error(String(e)), this.remote);
    } finally {
      clearTimeout(this.idle);
      await this.finish(graceful);
    }
  }

  /** Closes the session now (server shutdown, idle timeout). */
  destroy(): void {
    this.closing = true;
    this.secure?.destroy();
    this.socket.destroy();
  }

  /** After QUIT or the end of input: end our side, give the client a moment to close, then close. */
  private async finish(graceful: boolean): Promise<void> {
    if (!graceful || this.socket.destroyed) {
      this.destroy();
      return;
    }
    this.out.end();
    await closedWithin(this.socket, LINGER_MS);
    this.destroy();
  }

  private say(line: string): Promise<void> {
    return writeLine(this.out, line);
  }

  /** The next line, within the idle timeout. */
  private next(): Promise<LineResult> {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.timeout(), this.server.idleTimeoutMs);
    return this.lines.next();
  }

  /** Idle too long: say BYE, end our side, and close for good if the client does not. */
  private timeout(): void {
    this.server.emit('session-error', new ProtocolError('timeout', `no line for ${this.server.idleTimeoutMs} ms`), this.remote);
    this.closing = true;
    if (!this.out.destroyed && !this.out.writableEnded) {
      this.out.write('* BYE idle timeout\r\n');
      this.out.end();
    }
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  }

  /** Runs one command; false ends the session. */
  private async dispatch(text: string): Promise<boolean> {
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) {
      await this.say('NO control characters are not allowed');
      return true;
    }
    const sp = text.indexOf(' ');
    const verb = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : text.slice(sp + 1);
    switch (verb) {
      case 'CAPABILITY':
        await this.say(`${await this.server.capability()}\r\nOK`); // one write: one buffer inside a layer
        return true;
      case 'QUIT':
        await this.say('OK bye');
        return false;
      case 'AUTHENTICATE':
        if (this.identity) {
          await this.say('NO already authenticated');
          return true;
        }
        return this.authenticate(arg);
    }
    const id = this.identity;
    if (!id) {
      await this.say('NO authenticate first');
      return true;
    }
    const user = `${id.realm}\u0000${id.authzid}`;
    switch (verb) {
      case 'ECHO':
        await this.say(arg.length > 0 ? `OK ${arg}` : 'OK');
        return true;
      case 'WHOAMI':
        await this.say(`OK ${id.authzid} realm=${id.realm || '-'} qop=${id.qop} cipher=${id.cipher ?? 'none'} ssf=${id.ssf}`);
        return true;
      case 'PUT': {
        const m = /^(\S+) (.*)$/s.exec(arg);
        if (!m) {
          await this.say('NO usage: PUT <key> <value>');
          return true;
        }
        const r = this.server.store.put(user, m[1]!, m[2]!);
        await this.say(r.ok ? 'OK stored' : `NO ${r.reason}`);
        return true;
      }
      case 'GET': {
        if (!/^\S+$/.test(arg)) {
          await this.say('NO usage: GET <key>');
          return true;
        }
        const v = this.server.store.get(user, arg);
        await this.say(v === undefined ? 'NO no such key' : v.length > 0 ? `OK ${v}` : 'OK');
        return true;
      }
      default:
        await this.say(`NO unknown command "${oneLine(verb, 40)}"`);
        return true;
    }
  }

  /** AUTHENTICATE DIGEST-MD5; false ends the session (too many failures, end of input). */
  private async authenticate(arg: string): Promise<boolean> {
    if (arg.toUpperCase() !== 'DIGEST-MD5') {
      await this.say(arg.length === 0 ? 'NO usage: AUTHENTICATE DIGEST-MD5' : `NO unsupported mechanism "${oneLine(arg, 40)}"`);
      return true;
    }
    const sasl = new DigestMD5Server(this.server.saslConfig);
    let outcome: string | Uint8Array | undefined;
    try {
      await this.say(`+ ${encodeBase64(await sasl.step())}`);
      outcome = await this.authLine();
      if (outcome instanceof Uint8Array) {
        await this.say(`+ ${encodeBase64(await sasl.step(outcome))}`); // rspauth
        outcome = await this.authLine();
        if (outcome instanceof Uint8Array) {
          await sasl.step(outcome); // must be empty
          return this.succeed(sasl);
        }
      }
    } catch (e) {
      if (!(e instanceof DigestMD5Error)) throw e;
      outcome = `${e.code}: ${e.message}`;
    }
    if (outcome === undefined) return false; // end of input in the middle
    this.failures++;
    await this.say(`NO ${oneLine(outcome)}`);
    if (this.failures >= this.server.maxAuthFailures) {
      await this.say('* BYE too many failed authentications');
      return false;
    }
    return true;
  }

  /** A client line during the exchange: its bytes, a reason to fail, or undefined at the end of input. */
  private async authLine(): Promise<Uint8Array | string | undefined> {
    const l = await this.next();
    if (l.kind === 'end') return undefined;
    if (l.kind === 'too-long') return `line longer than ${this.server.maxLineBytes} bytes`;
    if (l.text === '*') return 'authentication cancelled';
    return decodeBase64(l.text) ?? 'invalid base64';
  }

  /** Sends OK and, if a layer was negotiated, puts it on the connection right after that line. */
  private async succeed(sasl: DigestMD5Server): Promise<boolean> {
    const layer = sasl.securityLayer;
    this.identity = {
      username: sasl.username!,
      authzid: sasl.authzid!,
      realm: sasl.realm ?? '',
      qop: sasl.qop!,
      cipher: sasl.cipher,
      ssf: sasl.ssf ?? 0,
    };
    const ok = `OK qop=${sasl.qop} cipher=${sasl.cipher ?? 'none'}`;
    if (!layer) {
      await this.say(ok);
    } else {
      // Bytes the client sent after its empty line are already inside the layer.
      const head = this.lines.detach();
      const sent = this.say(ok); // written now; the layer's first buffer can only follow it
      this.secure = secureStream(this.socket, layer, { head });
      this.secure.on('error', () => {}); // reaches the session through the line channel
      this.out = this.secure;
      this.lines = new LineChannel(this.secure, this.server.maxLineBytes);
      await sent;
    }
    this.server.emit('authenticated', this.identity, this.remote);
    return true;
  }
}
