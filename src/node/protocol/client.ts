// The client side of the sample protocol (docs/protocol.md): reads the greeting, runs
// AUTHENTICATE DIGEST-MD5, puts the security layer on the connection right after the
// server's OK line, then sends commands one at a time and collects their replies.

import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { DigestMD5Client, type DigestMD5ClientOptions } from '../../client.js';
import { DigestMD5Error } from '../../errors.js';
import { LineChannel } from '../line-channel.js';
import { secureStream, type SecureStream } from '../stream.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  MAX_LINE_BYTES,
  MIN_LINE_BYTES,
  ProtocolError,
  SAMPLE_SERVICE,
  closedWithin,
  decodeBase64,
  encodeBase64,
  fields,
  oneLine,
  writeLine,
} from './wire.js';

export interface ProtocolClientOptions {
  /** How long to wait for each reply (and for the connection). Default 30000 ms. */
  timeoutMs?: number;
  /** The longest line accepted from the server. Default 8192, at least 5464. */
  maxLineBytes?: number;
}

/** The mechanism's options; `service` defaults to "sample". */
export type ProtocolSaslOptions = Omit<DigestMD5ClientOptions, 'service'> & { service?: string };

export interface ConnectProtocolOptions extends ProtocolClientOptions {
  /** Where to connect. Default 127.0.0.1. */
  host?: string;
  port: number;
  /** The mechanism's options; `host` (the digest-uri host) defaults to the host connected to. */
  sasl: Omit<ProtocolSaslOptions, 'host'> & { host?: string };
}

/** A command's answer: the untagged `* ...` lines, then OK or NO with its text. */
export interface ProtocolReply {
  readonly ok: boolean;
  /** The text after OK or NO (may be empty). */
  readonly text: string;
  /** Untagged lines before it, without the leading "* ". */
  readonly untagged: string[];
}

/** Untagged lines one reply may carry. */
const MAX_UNTAGGED = 64;
const CLOSE_WAIT_MS = 2000;

export class ProtocolClient {
  /** The server's greeting line. */
  greeting = '';
  private lines: LineChannel;
  private out: Duplex;
  private secure: SecureStream | undefined;
  private sasl: DigestMD5Client | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private broken: Error | undefined;
  private readonly timeoutMs: number;
  private readonly maxLineBytes: number;

  private constructor(
    /** The connection underneath (wire bytes). */
    readonly socket: Duplex,
    options: ProtocolClientOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs < 1 || this.timeoutMs > 2 ** 31 - 1) {
      throw new ProtocolError('bad-option', 'timeoutMs must be a positive integer');
    }
    if (!Number.isInteger(this.maxLineBytes) || this.maxLineBytes < MIN_LINE_BYTES || this.maxLineBytes > MAX_LINE_BYTES) {
      throw new ProtocolError('bad-option', `maxLineBytes must be an integer in ${MIN_LINE_BYTES}..${MAX_LINE_BYTES}`);
    }
    socket.on('error', () => {}); // surfaces through the line channel as a rejected reply
    this.lines = new LineChannel(socket, this.maxLineBytes);
    this.out = socket;
  }

  /** Takes a connected Duplex and reads the greeting (`* OK ... ready`). */
  static async open(socket: Duplex, options: ProtocolClientOptions = {}): Promise<ProtocolClient> {
    const c = new ProtocolClient(socket, options);
    try {
      const g = await c.line();
      if (!/^\* OK( |$)/.test(g)) {
        throw new ProtocolError(g.startsWith('* BYE') ? 'refused' : 'bad-reply', `unexpected greeting: ${oneLine(g)}`);
      }
      c.greeting = g;
      return c;
    } catch (e) {
      c.destroy();
      throw e;
    }
  }

  /** Whether AUTHENTICATE succeeded. */
  get authenticated(): boolean {
    return this.sasl?.complete === true;
  }

  get qop(): string | undefined {
    return this.sasl?.qop;
  }

  get cipher(): string | undefined {
    return this.sasl?.cipher;
  }

  get ssf(): number | undefined {
    return this.sasl?.ssf;
  }

  /** The security-layer stream once one is on the connection (its `stats` count wire bytes). */
  get secureStream(): SecureStream | undefined {
    return this.secure;
  }

  /**
   * AUTHENTICATE DIGEST-MD5. Resolves once the server's OK has been checked against what this
   * client negotiated and the layer is in place. A NO rejects with a ProtocolError 'refused'
   * (the session stays usable); a mechanism failure on our side (rspauth wrong, no acceptable
   * qop) cancels with "*" and rejects with the DigestMD5Error.
   */
  authenticate(options: ProtocolSaslOptions): Promise<void> {
    return this.serial(() => this.runAuthenticate(options));
  }

  private async runAuthenticate(options: ProtocolSaslOptions): Promise<void> {
    if (this.authenticated) throw new ProtocolError('bad-option', 'already authenticated');
    const sasl = new DigestMD5Client({ ...options, service: options.service ?? SAMPLE_SERVICE });
    await this.send('AUTHENTICATE DIGEST-MD5');
    const challenge = await this.continuation();
    const response = await this.mechanismStep(sasl, challenge);
    await this.send(encodeBase64(response));
    const rspauth = await this.continuation();
    await this.mechanismStep(sasl, rspauth); // verifies rspauth: the server knows the secret
    await this.send('');
    const l = await this.line();
    if (l.startsWith('NO')) throw new ProtocolError('refused', `the server refused: ${oneLine(l.slice(2).trim())}`);
    if (!l.startsWith('OK ')) this.fail(new ProtocolError('bad-reply', `expected OK after the exchange, got: ${oneLine(l)}`));
    const f = fields(l.slice(3));
    const cipher = sasl.cipher ?? 'none';
    if (f.get('qop') !== sasl.qop || f.get('cipher') !== cipher) {
      this.fail(new ProtocolError('bad-reply', `server says ${oneLine(l)}, but the exchange negotiated qop=${sasl.qop} cipher=${cipher}`));
    }
    this.sasl = sasl;
    const layer = sasl.securityLayer;
    if (layer) {
      // Whatever the server sent after its OK line is already inside the layer.
      const head = this.lines.detach();
      this.secure = secureStream(this.socket, layer, { head });
      this.secure.on('error', () => {}); // surfaces through the line channel
      this.out = this.secure;
      this.lines = new LineChannel(this.secure, this.maxLineBytes);
    }
  }

  /** A `+ <base64>` line; a NO ends the attempt with 'refused'. */
  private async continuation(): Promise<Uint8Array> {
    const l = await this.line();
    if (l === 'NO' || l.startsWith('NO ')) throw new ProtocolError('refused', `the server refused: ${oneLine(l.slice(2).trim())}`);
    if (!l.startsWith('+ ')) this.fail(new ProtocolError('bad-reply', `expected "+ <base64>", got: ${oneLine(l)}`));
    const bytes = decodeBase64(l.slice(2));
    if (bytes === undefined) {
      await this.cancel();
      throw new ProtocolError('bad-reply', 'the server sent invalid base64 in a "+" line');
    }
    return bytes;
  }

  /** One step of the mechanism; on failure cancels the exchange with "*" and rethrows. */
  private async mechanismStep(sasl: DigestMD5Client, input: Uint8Array): Promise<Uint8Array> {
    try {
      return sasl.step(input);
    } catch (e) {
      await this.cancel();
      throw e;
    }
  }

  /** Sends "*" and reads the server's NO. */
  private async cancel(): Promise<void> {
    await this.send('*');
    const l = await this.line();
    if (!l.startsWith('NO')) this.fail(new ProtocolError('bad-reply', `expected NO after cancelling, got: ${oneLine(l)}`));
  }

  /** Sends one command line and returns its reply. Commands are sent one at a time, in call order. */
  command(line: string): Promise<ProtocolReply> {
    return this.serial(async () => {
      if (typeof line !== 'string' || /[\r\n]/.test(line)) throw new ProtocolError('bad-option', 'a command is one line of text');
      if (Buffer.byteLength(line) > this.maxLineBytes) throw new ProtocolError('too-large', `command longer than ${this.maxLineBytes} bytes`);
      await this.send(line);
      return this.reply();
    });
  }

  /** QUIT, then waits (briefly) for the server to close and closes the connection. */
  async quit(): Promise<ProtocolReply> {
    const r = await this.command('QUIT');
    this.out.end();
    await closedWithin(this.socket, CLOSE_WAIT_MS);
    this.destroy();
    return r;
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.broken ??= new ProtocolError('closed', 'the connection was closed');
    this.secure?.destroy();
    this.socket.destroy();
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.broken) throw this.broken;
      return f();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private async reply(): Promise<ProtocolReply> {
    const untagged: string[] = [];
    for (;;) {
      const l = await this.line();
      if (l === 'OK' || l.startsWith('OK ') || l === 'NO' || l.startsWith('NO ')) {
        return { ok: l.startsWith('OK'), text: l.slice(3), untagged };
      }
      if (l.startsWith('* ')) {
        if (l.startsWith('* BYE')) this.fail(new ProtocolError('closed', `server closed the session: ${oneLine(l.slice(6))}`));
        if (untagged.length >= MAX_UNTAGGED) this.fail(new ProtocolError('too-large', `more than ${MAX_UNTAGGED} untagged lines in one reply`));
        untagged.push(l.slice(2));
        continue;
      }
      this.fail(new ProtocolError('bad-reply', `unexpected line: ${oneLine(l)}`));
    }
  }

  private send(line: string): Promise<void> {
    return writeLine(this.out, line).catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))));
  }

  /** The next line from the server, within the timeout; any failure ends the connection. */
  private async line(): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ProtocolError('timeout', `no reply within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const l = await Promise.race([this.lines.next(), timeout]);
      if (l.kind === 'line') return l.text;
      if (l.kind === 'too-long') return this.fail(new ProtocolError('too-large', `the server sent a line longer than ${this.maxLineBytes} bytes`));
      return this.fail(this.broken ?? new ProtocolError('closed', 'the server closed the connection'));
    } catch (e) {
      return this.fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the connection for good: every later call rejects with `error`. */
  private fail(error: Error): never {
    if (!this.broken) {
      this.broken = error;
      this.secure?.destroy();
      this.socket.destroy();
    }
    throw this.broken === error || error instanceof DigestMD5Error ? error : this.broken;
  }
}

/** Connects over TCP, reads the greeting and authenticates; resolves to a client ready for commands. */
export async function connectProtocolClient(options: ConnectProtocolOptions): Promise<ProtocolClient> {
  const host = options.host ?? '127.0.0.1';
  const { port } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ProtocolError('bad-option', 'port must be an integer in 1..65535');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const socket = netConnect({ host, port });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      socket.destroy();
      reject(new ProtocolError('timeout', `could not connect to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(t);
      socket.removeListener('error', onError);
      resolve();
    });
    const onError = (e: Error): void => {
      clearTimeout(t);
      reject(e);
    };
    socket.once('error', onError);
  });
  const client = await ProtocolClient.open(socket, options);
  try {
    await client.authenticate({ ...options.sasl, host: options.sasl.host ?? host });
  } catch (e) {
    client.destroy();
    throw e;
  }
  return client;
}
