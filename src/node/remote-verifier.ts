// RemoteVerifier: the originating server's side of authd (docs/authd.md), a Verifier
// that forwards each digest-response over TLS with its client certificate and returns
// the session key authd computed. It fails closed: when authd cannot be reached every
// verification rejects with DigestMD5Error('backend-failed'), while sessions already
// authenticated (their keys are in the originating server) go on without it.

import * as tls from 'node:tls';
import { fromHex } from '../bytes.js';
import { DigestMD5Error } from '../errors.js';
import { FrameDecoder } from '../layer/framing.js';
import { serialiseResponse, type DigestResponse, type Qop } from '../messages.js';
import type { Verifier, VerifyRequest, VerifyResult } from '../verifier.js';
import { AUTHD_VERSION, DEFAULT_MAX_REPLY_BYTES, DEFAULT_MAX_REQUEST_BYTES, encodeBase64, encodeMessage, parseReply, type ReplyMessage } from './authd-wire.js';
import type { Pem } from './authd.js';

export interface RemoteVerifierOptions {
  /** authd's address. */
  host: string;
  port: number;
  tls: {
    /** This originating server's key and certificate; the certificate's identity must be the serverId of its ServerSessions. */
    key: Pem;
    cert: Pem;
    /** The CA that signed authd's certificate. */
    ca: Pem;
    /** The name authd's certificate must carry. Default: host. */
    servername?: string;
  };
  /** How long one verification may take, connecting included. Default 5000 ms. */
  timeoutMs?: number;
  /** How long a TLS connection may take to set up. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Verifications waiting for authd at once; more are refused at once. Default 64. */
  maxInFlight?: number;
  /** After a failed connection, no new attempt before this delay, doubled on each failure up to maxMs. Default 100 ms .. 10 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Largest reply accepted. Default 64 KiB. */
  maxReplyBytes?: number;
  /** Largest request sent. Default 16 KiB (authd's default limit). */
  maxRequestBytes?: number;
}

export interface RemoteVerifierStats {
  /** Verifications sent to authd since start. */
  requests: number;
  inFlight: number;
  connected: boolean;
  /** Failed connection attempts in a row (0 once connected). */
  failures: number;
}

interface Pending {
  readonly response: DigestResponse;
  readonly resolve: (r: VerifyResult) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

function positive(v: number | undefined, dflt: number, name: string): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1) throw new DigestMD5Error('bad-option', `${name} must be a positive integer`);
  return x;
}

function describe(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const message = String((e as Error)?.message ?? e);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The digest-response again from its parsed form, for a caller that did not pass the raw bytes. */
export function serialiseParsedResponse(r: DigestResponse): Uint8Array {
  return serialiseResponse({
    username: r.usernameBytes,
    realm: r.realmPresent ? r.realmBytes : undefined,
    nonce: r.nonce,
    cnonce: r.cnonce,
    nc: r.nc,
    qop: r.qop as Qop,
    digestUri: r.digestUri,
    response: r.response,
    maxbuf: r.maxbuf,
    utf8: r.utf8,
    cipher: r.cipher,
    authzid: r.authzid,
  });
}

export class RemoteVerifier implements Verifier {
  private readonly o: RemoteVerifierOptions;
  private readonly where: string;
  private readonly limits: { timeoutMs: number; connectTimeoutMs: number; maxInFlight: number; initialMs: number; maxMs: number; maxReplyBytes: number; maxRequestBytes: number };
  private socket: tls.TLSSocket | undefined;
  private connecting: Promise<tls.TLSSocket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private retryAt = 0;
  private backoffMs = 0;
  private failures = 0;
  private lastError = '';
  private requests = 0;
  private closed = false;

  constructor(options: RemoteVerifierOptions) {
    const o = options;
    if (!o || typeof o.host !== 'string' || o.host.length === 0) throw new DigestMD5Error('bad-option', 'host must be a non-empty string');
    if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new DigestMD5Error('bad-option', 'port must be in 1..65535');
    if (!o.tls || !o.tls.key || !o.tls.cert || !o.tls.ca) throw new DigestMD5Error('bad-option', 'tls.key, tls.cert and tls.ca are required');
    this.o = o;
    this.where = `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
    this.limits = {
      timeoutMs: positive(o.timeoutMs, 5000, 'timeoutMs'),
      connectTimeoutMs: positive(o.connectTimeoutMs, 5000, 'connectTimeoutMs'),
      maxInFlight: positive(o.maxInFlight, 64, 'maxInFlight'),
      initialMs: positive(o.backoff?.initialMs, 100, 'backoff.initialMs'),
      maxMs: positive(o.backoff?.maxMs, 10_000, 'backoff.maxMs'),
      maxReplyBytes: positive(o.maxReplyBytes, DEFAULT_MAX_REPLY_BYTES, 'maxReplyBytes'),
      maxRequestBytes: positive(o.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, 'maxRequestBytes'),
    };
  }

  get stats(): RemoteVerifierStats {
    return { requests: this.requests, inFlight: this.pending.size, connected: this.socket !== undefined, failures: this.failures };
  }

  /** Forwards the response to authd; resolves with H(A1) and rspauth, rejects with authd's refusal or backend-failed. */
  verify(request: VerifyRequest): Promise<VerifyResult> {
    if (this.closed) return Promise.reject(new DigestMD5Error('bad-state', 'this RemoteVerifier is closed'));
    if (this.pending.size >= this.limits.maxInFlight) {
      return Promise.reject(new DigestMD5Error('backend-failed', `${this.limits.maxInFlight} verifications already wait for authd at ${this.where}; refusing more`));
    }
    const r = request.response;
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    let frame: Uint8Array;
    try {
      const offer = request.offer;
      frame = encodeMessage(
        {
          v: AUTHD_VERSION,
          id,
          type: 'verify',
          response: encodeBase64(request.raw ?? serialiseParsedResponse(r)),
          ...(offer ? { offer: { realms: [...offer.realms], qop: [...offer.qops], ciphers: [...offer.ciphers], maxbuf: offer.maxbuf } } : {}),
        },
        this.limits.maxRequestBytes,
      );
    } catch (e) {
      return Promise.reject(e instanceof DigestMD5Error ? e : new DigestMD5Error('backend-failed', describe(e), { cause: e }));
    }
    return new Promise<VerifyResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        this.unrefWhenIdle();
        reject(new DigestMD5Error('backend-failed', `authd at ${this.where} did not answer within ${this.limits.timeoutMs} ms; authentication fails closed`));
      }, this.limits.timeoutMs);
      this.pending.set(id, { response: r, resolve, reject, timer });
      this.connection().then(
        (socket) => {
          if (!this.pending.has(id)) return;
          this.requests++;
          socket.ref();
          socket.write(frame);
        },
        (e: DigestMD5Error) => this.settle(id, e),
      );
    });
  }

  /** Closes the connection; verifications still waiting are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new DigestMD5Error('backend-failed', 'the RemoteVerifier was closed'));
    const s = this.socket ?? (await this.connecting?.catch(() => undefined));
    this.socket = undefined;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
  }

  private unreachable(detail: string): DigestMD5Error {
    return new DigestMD5Error('backend-failed', `authd at ${this.where} is unreachable (${detail}); authentication fails closed`);
  }

  /** The open connection, or a new one unless a recent failure says to wait. */
  private connection(): Promise<tls.TLSSocket> {
    if (this.socket) return Promise.resolve(this.socket);
    if (this.connecting) return this.connecting;
    const wait = this.retryAt - Date.now();
    if (wait > 0) return Promise.reject(this.unreachable(`${this.lastError}; next attempt in ${wait} ms`));
    this.connecting = new Promise<tls.TLSSocket>((resolve, reject) => {
      let up = false;
      let error: unknown;
      const socket = tls.connect({
        host: this.o.host,
        port: this.o.port,
        key: this.o.tls.key,
        cert: this.o.tls.cert,
        ca: this.o.tls.ca,
        ...(this.o.tls.servername !== undefined ? { servername: this.o.tls.servername } : {}),
        minVersion: 'TLSv1.2',
      });
      const timer = setTimeout(() => socket.destroy(new Error(`no TLS connection within ${this.limits.connectTimeoutMs} ms`)), this.limits.connectTimeoutMs);
      const decoder = new FrameDecoder(this.limits.maxReplyBytes);
      let replies = 0;
      socket.on('error', (e) => (error = e));
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        if (this.closed) return socket.destroy();
        up = true;
        this.socket = socket;
        this.failures = 0;
        resolve(socket);
      });
      socket.on('data', (chunk: Buffer) => {
        try {
          for (const body of decoder.push(chunk)) {
            replies++;
            this.onReply(parseReply(body));
          }
        } catch (e) {
          socket.destroy(new Error(`bad reply: ${(e as Error).message}`));
        }
      });
      socket.once('close', () => {
        clearTimeout(timer);
        // Under TLS 1.3 a client certificate authd does not accept ends the connection after the handshake, without an alert here.
        const why =
          error !== undefined
            ? describe(error)
            : up && replies === 0
              ? 'closed by authd without an answer: does it trust the CA of this server\'s certificate?'
              : 'closed by authd';
        if (!up) {
          this.noteFailure(why);
          reject(this.unreachable(why));
          return;
        }
        if (this.socket === socket) this.socket = undefined;
        // Requests sent on this connection have lost their answer; a connection lost with
        // requests outstanding counts as a failure, so a flapping authd is retried with backoff.
        if (this.pending.size > 0) {
          this.noteFailure(why);
          this.failAll(new DigestMD5Error('backend-failed', `authd at ${this.where} was lost before it answered (${why}); authentication fails closed`));
        }
      });
    }).finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private noteFailure(why: string): void {
    this.failures++;
    this.lastError = why;
    this.backoffMs = Math.min(this.limits.maxMs, this.backoffMs === 0 ? this.limits.initialMs : this.backoffMs * 2);
    // ±20% jitter, so that many originating servers do not all come back at once.
    this.retryAt = Date.now() + Math.round(this.backoffMs * (0.8 + 0.4 * Math.random()));
  }

  private onReply(reply: ReplyMessage): void {
    if (reply.id === null) {
      // authd refused the connection or a request it could not read: it closes; every waiting verification fails.
      this.noteFailure(reply.ok ? 'refused' : `refused: ${reply.code}`);
      this.failAll(new DigestMD5Error('backend-failed', `authd at ${this.where} refused this server: ${reply.ok ? '' : `${reply.code}: ${reply.message}`}`));
      this.socket?.destroy();
      return;
    }
    const p = this.pending.get(reply.id);
    if (!p) return; // timed out earlier: its answer is no longer wanted
    this.backoffMs = 0;
    if (!reply.ok) return this.settle(reply.id, new DigestMD5Error(reply.code, `authd: ${reply.message}`));
    const r = p.response;
    if (reply.username !== r.username || reply.realm !== r.realm || reply.authzid !== (r.authzid ?? null)) {
      return this.settle(reply.id, new DigestMD5Error('backend-failed', `authd at ${this.where} answered for another user or realm`));
    }
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    this.unrefWhenIdle();
    p.resolve({ ha1: fromHex(reply.ha1)!, rspauth: reply.rspauth });
  }

  private settle(id: number, error: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    this.unrefWhenIdle();
    p.reject(error);
  }

  /** An idle connection does not keep the process alive; a waiting verification does (ref() before each write). */
  private unrefWhenIdle(): void {
    if (this.pending.size === 0) this.socket?.unref();
  }

  private failAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, error);
  }
}
