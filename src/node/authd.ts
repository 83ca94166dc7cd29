// The authenticating server (authd, docs/authd.md): holds the credential store and
// checks digest-responses forwarded by originating servers over mutually
// authenticated TLS, the way a domain controller serves Microsoft's Advanced Digest.
//
// An originating server is known by its client certificate; authd answers only for
// nonces that name that server, so a response relayed by another server is refused.
// It returns the session key H(A1) and rspauth, never a stored hash.

import { EventEmitter } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import * as tls from 'node:tls';
import { toHex, wipe } from '../bytes.js';
import type { CredentialStore } from '../credentials.js';
import { DigestMD5Error } from '../errors.js';
import { FrameDecoder } from '../layer/framing.js';
import { MAX_RESPONSE_SIZE, parseResponse, type DigestResponse } from '../messages.js';
import { readNonceServerId } from '../nonce.js';
import { LocalVerifier } from '../verifier.js';
import {
  AUTHD_VERSION,
  decodeBase64,
  DEFAULT_MAX_REPLY_BYTES,
  DEFAULT_MAX_REQUEST_BYTES,
  encodeMessage,
  oneLine,
  parseRequest,
  type OfferMessage,
  type RefusalCode,
  type ReplyMessage,
  type VerifyRequestMessage,
} from './authd-wire.js';

/** PEM text or bytes, as node:tls takes them. */
export type Pem = string | Buffer | Array<string | Buffer>;

export interface AuthServerTlsOptions {
  /** authd's private key and certificate (the originating servers check it against their CA). */
  key: Pem;
  cert: Pem;
  /** The CA(s) that sign the originating servers' client certificates. */
  ca: Pem;
}

export interface AuthServerOptions {
  /** Where users' credentials are (a CredentialFile, a HashedCredentialStore, any CredentialStore). */
  store: CredentialStore;
  tls: AuthServerTlsOptions;
  /** Identities allowed to call; default: any the CA vouches for. */
  allowedServers?: readonly string[];
  /** The originating server's identity from its certificate. Default: the subject CN (exactly one). */
  identityOf?: (cert: tls.PeerCertificate) => string | undefined;
  /** Connections at once; more are closed at once. Default 100. */
  maxConnections?: number;
  /** Verifications running at once, across connections; more wait. Default 64. */
  maxConcurrent?: number;
  /** Requests of one connection waiting or running before authd stops reading it. Default 32. */
  maxInFlightPerConnection?: number;
  /** Requests of one connection past which new ones are refused as busy. Default 256. */
  maxQueuedPerConnection?: number;
  /** Largest request frame. Default 16 KiB. */
  maxRequestBytes?: number;
  /** TLS handshake deadline. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** A connection with nothing to do for this long is closed. Default 120 s. */
  idleTimeoutMs?: number;
  /** A frame once begun must arrive whole within this. Default 10 s. */
  frameTimeoutMs?: number;
  /** A verification (the store lookup) must finish within this, else it is refused as backend-failed. Default 10 s. */
  requestTimeoutMs?: number;
}

/** One verification, for logging and monitoring. */
export interface AuthRequestEvent {
  /** The calling originating server's identity. */
  readonly server: string;
  readonly remote: string;
  readonly username: string | undefined;
  readonly realm: string | undefined;
  readonly ok: boolean;
  readonly code: RefusalCode | undefined;
  readonly message: string | undefined;
}

export interface AuthServerStats {
  connections: number;
  /** Requests answered since start. */
  requests: number;
  accepted: number;
  refused: number;
  /** Requests waiting or running now. */
  inFlight: number;
}

export interface AuthServerEvents {
  request: [event: AuthRequestEvent];
  /** A connection refused or dropped (bad certificate identity, bad frame, timeout). */
  'connection-error': [error: Error, remote: string];
}

interface Connection {
  readonly socket: tls.TLSSocket;
  readonly identity: string;
  readonly remote: string;
  readonly decoder: FrameDecoder;
  pending: number;
  frameTimer: NodeJS.Timeout | undefined;
  closed: boolean;
}

interface Job {
  conn: Connection;
  request: VerifyRequestMessage;
}

const MAX_WRITE_BACKLOG = 1024 * 1024;

function subjectCommonName(cert: tls.PeerCertificate): string | undefined {
  const cn = (cert.subject as unknown as Record<string, unknown> | undefined)?.CN;
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined; // several CNs arrive as an array: refused
}

function positive(v: number | undefined, dflt: number, name: string): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1) throw new DigestMD5Error('bad-option', `${name} must be a positive integer`);
  return x;
}

export class AuthServer extends EventEmitter<AuthServerEvents> {
  private readonly server: tls.Server;
  private readonly verifier: LocalVerifier;
  private readonly connections = new Set<Connection>();
  /** Every TCP connection, handshaking or refused ones included, so that close() ends them all. */
  private readonly sockets = new Set<Socket>();
  private readonly queue: Job[] = [];
  private active = 0;
  private readonly counts = { requests: 0, accepted: 0, refused: 0 };
  private readonly identityOf: (cert: tls.PeerCertificate) => string | undefined;
  private readonly allowed: ReadonlySet<string> | undefined;
  private readonly limits: {
    maxConnections: number;
    maxConcurrent: number;
    maxInFlightPerConnection: number;
    maxQueuedPerConnection: number;
    maxRequestBytes: number;
    idleTimeoutMs: number;
    frameTimeoutMs: number;
    requestTimeoutMs: number;
  };

  constructor(o: AuthServerOptions) {
    super();
    if (!o || typeof o.store?.lookup !== 'function') throw new DigestMD5Error('bad-option', 'store must be a CredentialStore');
    if (!o.tls || !o.tls.key || !o.tls.cert || !o.tls.ca) throw new DigestMD5Error('bad-option', 'tls.key, tls.cert and tls.ca are required');
    this.limits = {
      maxConnections: positive(o.maxConnections, 100, 'maxConnections'),
      maxConcurrent: positive(o.maxConcurrent, 64, 'maxConcurrent'),
      maxInFlightPerConnection: positive(o.maxInFlightPerConnection, 32, 'maxInFlightPerConnection'),
      maxQueuedPerConnection: positive(o.maxQueuedPerConnection, 256, 'maxQueuedPerConnection'),
      maxRequestBytes: positive(o.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, 'maxRequestBytes'),
      idleTimeoutMs: positive(o.idleTimeoutMs, 120_000, 'idleTimeoutMs'),
      frameTimeoutMs: positive(o.frameTimeoutMs, 10_000, 'frameTimeoutMs'),
      requestTimeoutMs: positive(o.requestTimeoutMs, 10_000, 'requestTimeoutMs'),
    };
    this.verifier = new LocalVerifier(o.store);
    this.identityOf = o.identityOf ?? subjectCommonName;
    this.allowed = o.allowedServers ? new Set(o.allowedServers) : undefined;
    try {
      this.server = tls.createServer({
        key: o.tls.key,
        cert: o.tls.cert,
        ca: o.tls.ca,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        handshakeTimeout: positive(o.handshakeTimeoutMs, 10_000, 'handshakeTimeoutMs'),
      });
    } catch (e) {
      throw new DigestMD5Error('bad-option', `the TLS key, certificate or CA is not usable: ${(e as Error).message}`, { cause: e });
    }
    // Handshakes count too: at most twice maxConnections TCP connections, the rest dropped at accept.
    this.server.maxConnections = 2 * this.limits.maxConnections;
    this.server.on('connection', (raw) => {
      this.sockets.add(raw);
      raw.once('close', () => this.sockets.delete(raw));
    });
    this.server.on('secureConnection', (s) => this.accept(s));
    this.server.on('tlsClientError', (e, s) => this.emit('connection-error', e, `${s.remoteAddress}:${s.remotePort}`));
  }

  get stats(): AuthServerStats {
    return { connections: this.connections.size, ...this.counts, inFlight: this.queue.length + this.active };
  }

  /** Starts listening; resolves with the address (port 0 picks a free one). */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.removeListener('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | undefined {
    return (this.server.address() as AddressInfo | null) ?? undefined;
  }

  /** Stops listening and closes every connection; waiting requests are dropped. */
  close(): Promise<void> {
    this.queue.length = 0;
    for (const c of this.connections) this.drop(c);
    for (const raw of this.sockets) raw.destroy();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }

  private accept(socket: tls.TLSSocket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', (e) => this.emit('connection-error', e, remote));
    const refuse = (code: RefusalCode, message: string): void => {
      this.emit('connection-error', new DigestMD5Error(code, message), remote);
      socket.end(Buffer.from(encodeMessage({ v: AUTHD_VERSION, id: null, ok: false, code, message }, DEFAULT_MAX_REPLY_BYTES)));
      socket.setTimeout(1000, () => socket.destroy());
    };
    if (this.connections.size >= this.limits.maxConnections) return refuse('backend-failed', `authd is busy: ${this.limits.maxConnections} connections already`);
    const identity = socket.authorized ? this.identityOf(socket.getPeerCertificate()) : undefined;
    if (identity === undefined) return refuse('policy', 'the client certificate names no usable identity (one subject CN)');
    if (this.allowed && !this.allowed.has(identity)) return refuse('policy', `server "${oneLine(identity, 80)}" is not allowed to use this authd`);

    const conn: Connection = {
      socket,
      identity,
      remote,
      decoder: new FrameDecoder(this.limits.maxRequestBytes),
      pending: 0,
      frameTimer: undefined,
      closed: false,
    };
    this.connections.add(conn);
    socket.setTimeout(this.limits.idleTimeoutMs, () => {
      if (conn.pending === 0) this.drop(conn, new Error(`idle for ${this.limits.idleTimeoutMs} ms`));
    });
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('close', () => this.drop(conn));
  }

  private drop(conn: Connection, why?: Error): void {
    if (why) this.emit('connection-error', why, conn.remote);
    if (conn.frameTimer) clearTimeout(conn.frameTimer);
    conn.frameTimer = undefined;
    conn.closed = true;
    this.connections.delete(conn);
    conn.socket.destroy();
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (conn.closed) return;
    let frames: Uint8Array[];
    try {
      frames = conn.decoder.push(chunk);
    } catch (e) {
      // A declared length over the limit (or zero): nothing after it can be framed; answer and close.
      const code = (e as DigestMD5Error).code === 'too-large' ? 'too-large' : 'malformed';
      this.refuseConnection(conn, code, `bad frame: ${(e as Error).message}`);
      return;
    }
    if (conn.decoder.pending > 0 && !conn.frameTimer) {
      conn.frameTimer = setTimeout(() => this.drop(conn, new Error(`a frame was not completed within ${this.limits.frameTimeoutMs} ms`)), this.limits.frameTimeoutMs);
    } else if (conn.decoder.pending === 0 && conn.frameTimer) {
      clearTimeout(conn.frameTimer);
      conn.frameTimer = undefined;
    }
    for (const body of frames) {
      const parsed = parseRequest(body);
      if (parsed.id === undefined) {
        this.refuseConnection(conn, 'malformed', `unreadable request: ${parsed.error!.message}`);
        return;
      }
      if (parsed.error) {
        this.answer(conn, { v: AUTHD_VERSION, id: parsed.id, ok: false, code: parsed.error.code as RefusalCode, message: oneLine(parsed.error.message) }, undefined);
        continue;
      }
      if (conn.pending >= this.limits.maxQueuedPerConnection) {
        this.answer(conn, { v: AUTHD_VERSION, id: parsed.id, ok: false, code: 'backend-failed', message: 'authd is busy: too many requests on this connection' }, undefined);
        continue;
      }
      conn.pending++;
      if (conn.pending >= this.limits.maxInFlightPerConnection) conn.socket.pause();
      this.queue.push({ conn, request: parsed.request! });
    }
    this.schedule();
  }

  private refuseConnection(conn: Connection, code: RefusalCode, message: string): void {
    this.emit('connection-error', new DigestMD5Error(code, message), conn.remote);
    conn.closed = true;
    if (conn.frameTimer) clearTimeout(conn.frameTimer);
    this.connections.delete(conn);
    conn.socket.end(Buffer.from(encodeMessage({ v: AUTHD_VERSION, id: null, ok: false, code, message: oneLine(message) }, DEFAULT_MAX_REPLY_BYTES)));
    conn.socket.setTimeout(1000, () => conn.socket.destroy());
  }

  private schedule(): void {
    while (this.active < this.limits.maxConcurrent && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.conn.closed) continue;
      this.active++;
      void this.run(job).finally(() => {
        this.active--;
        job.conn.pending--;
        if (!job.conn.closed && job.conn.pending < this.limits.maxInFlightPerConnection) job.conn.socket.resume();
        this.schedule();
      });
    }
  }

  private async run({ conn, request }: Job): Promise<void> {
    let r: DigestResponse | undefined;
    let reply: ReplyMessage;
    let logged: string | undefined;
    try {
      r = this.parse(request);
      checkNonceServer(r, conn.identity);
      if (request.offer) checkOffer(r, request.offer);
      const { ha1, rspauth } = await this.withTimeout(this.verifier.verify({ response: r }));
      reply = { v: AUTHD_VERSION, id: request.id, ok: true, username: r.username, realm: r.realm, authzid: r.authzid ?? null, ha1: toHex(ha1), rspauth };
      wipe(ha1);
    } catch (e) {
      const err = e instanceof DigestMD5Error ? e : new DigestMD5Error('backend-failed', `unexpected failure: ${(e as Error)?.message ?? String(e)}`);
      const code: RefusalCode = (['auth-failed', 'invalid-response', 'malformed', 'too-large', 'unsupported', 'policy'] as const).includes(err.code as never)
        ? (err.code as RefusalCode)
        : 'backend-failed';
      reply = { v: AUTHD_VERSION, id: request.id, ok: false, code, message: oneLine(err.message) };
      // The log says why the store failed; the caller is told only that it did.
      const cause = err.cause instanceof Error ? err.cause.message : undefined;
      if (cause !== undefined) logged = oneLine(`${err.message}: ${cause}`);
    }
    this.answer(conn, reply, r, logged);
  }

  private parse(request: VerifyRequestMessage): DigestResponse {
    if (request.response.length > Math.ceil(MAX_RESPONSE_SIZE / 3) * 4) {
      throw new DigestMD5Error('too-large', `the digest-response is over ${MAX_RESPONSE_SIZE} bytes (RFC 2831 §2.1.2)`);
    }
    const bytes = decodeBase64(request.response);
    if (bytes === undefined) throw new DigestMD5Error('malformed', '"response" is not standard base64');
    return parseResponse(bytes);
  }

  private async withTimeout<T extends { ha1: Uint8Array }>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new DigestMD5Error('backend-failed', `the credential store did not answer within ${this.limits.requestTimeoutMs} ms`));
      }, this.limits.requestTimeoutMs);
    });
    // A success after the deadline is wiped: nobody will use that session key.
    p.then((v) => (late ? wipe(v.ha1) : undefined), () => undefined);
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private answer(conn: Connection, reply: ReplyMessage, r: DigestResponse | undefined, logged?: string): void {
    this.counts.requests++;
    if (reply.ok) this.counts.accepted++;
    else this.counts.refused++;
    this.emit('request', {
      server: conn.identity,
      remote: conn.remote,
      username: r?.username,
      realm: r?.realm,
      ok: reply.ok,
      code: reply.ok ? undefined : reply.code,
      message: reply.ok ? undefined : (logged ?? reply.message),
    });
    if (conn.closed) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(reply, DEFAULT_MAX_REPLY_BYTES);
    } catch (e) {
      bytes = encodeMessage({ v: AUTHD_VERSION, id: reply.id, ok: false, code: 'too-large', message: (e as Error).message }, DEFAULT_MAX_REPLY_BYTES);
    }
    if (conn.socket.writableLength > MAX_WRITE_BACKLOG) {
      this.drop(conn, new Error('the caller does not read its replies'));
      return;
    }
    conn.socket.write(bytes);
  }
}

/**
 * The nonce must name the calling server: an originating server may only learn the
 * session keys of its own exchanges, so a response relayed by another server (one that
 * captured it, or stands in the middle) is refused.
 */
export function checkNonceServer(r: DigestResponse, identity: string): void {
  const named = readNonceServerId(r.nonce);
  if (named === undefined) throw new DigestMD5Error('invalid-response', 'the nonce names no server (not a nonce of this implementation)');
  if (named !== identity) {
    throw new DigestMD5Error('invalid-response', `the nonce was issued by "${oneLine(named, 80)}", not by the calling server "${oneLine(identity, 80)}"`);
  }
}

/** The response against the originating server's own view of its challenge (it checked the same; authd does not trust it blindly). */
export function checkOffer(r: DigestResponse, offer: OfferMessage): void {
  const bad = (why: string): never => {
    throw new DigestMD5Error('invalid-response', `${why} (by the originating server's own offer)`);
  };
  if (!offer.qop.includes(r.qop)) bad(`qop "${r.qop}" was not offered`);
  if (r.qop === 'auth-conf' && (r.cipher === undefined || !offer.ciphers.includes(r.cipher))) bad(`cipher "${r.cipher}" was not offered`);
  if (offer.realms.length > 0 && !offer.realms.includes(r.realm)) bad(`realm "${oneLine(r.realm, 80)}" was not offered`);
}

export function createAuthServer(options: AuthServerOptions): AuthServer {
  return new AuthServer(options);
}
