// The client side of the DIGEST-MD5 exchange (RFC 2831 §2.1) as a state machine:
// bytes in, bytes out, no I/O, synchronous.

import { randomInto } from '#crypto';
import { base64BytesUnpadded, constantTimeEqualText, utf8, wipe } from './bytes.js';
import { computeHA1, computeResponseAndRspauth, hashUserRealmPassword, type ResponseInputs } from './digest.js';
import { DigestMD5Error } from './errors.js';
import {
  DEFAULT_MAXBUF,
  MAX_MAXBUF,
  MIN_MAXBUF,
  readResponseAuth,
  parseChallenge,
  type DigestChallenge,
  serialiseResponse,
  type Qop,
} from './messages.js';
import { chooseProtection, makePolicy, ssfOf, type ProtectionPolicy } from './negotiate.js';
import type { CipherName } from './layer/ciphers/index.js';
import { SecurityLayer } from './layer/security-layer.js';
import { ClientContextCache } from './client-cache.js';

export interface DigestMD5ClientOptions {
  /** The authentication identity. */
  username: string;
  /** The password; or give `hashedSecret` instead. */
  password?: string;
  /** H(username:realm:password), 16 bytes, for the realm in `realm` (which is then required). */
  hashedSecret?: Uint8Array;
  /** The registered service name, serv-type of digest-uri (e.g. "imap"). */
  service: string;
  /** The server's host name, as in digest-uri. */
  host: string;
  /** serv-name of a replicated service; omitted from digest-uri when not given. */
  serviceName?: string;
  /** The authorization identity; sent as given (even when equal to username), never sent when absent or empty. */
  authzid?: string;
  /** The realm to answer with, offered or not. */
  realm?: string;
  /** Picks a realm from those offered (called only when `realm` is not given). Default: the first. */
  chooseRealm?: (offered: readonly string[]) => string;
  /**
   * Acceptable qops, in preference order. Default ["auth"]. List "auth-conf" or
   * "auth-int" only when the application will wrap its traffic with `securityLayer`;
   * leave "auth" out to refuse a server that offers no layer.
   */
  qop?: readonly Qop[];
  /** Acceptable ciphers for auth-conf, in preference order. Default: aes (when offered), rc4, 3des. des, rc4-56 and rc4-40 only when named. */
  ciphers?: readonly CipherName[];
  /** Refuse weaker protection: 0 auth, 1 auth-int, else the cipher's strength (rc4-40 40, des and rc4-56 56, 3des 112, rc4 128). */
  minSsf?: number;
  maxSsf?: number;
  /** The largest buffer we accept. Default 65536. */
  maxbuf?: number;
  /**
   * Cache of authenticated contexts, shared by the clients of one application: after
   * a full exchange with qop=auth, `initialResponse()` of the next client for the
   * same service, host and user offers a subsequent authentication (RFC 2831 §2.2).
   */
  contextCache?: ClientContextCache;
  /**
   * TEST ONLY: a fixed cnonce instead of a random one, so published vectors
   * replay end to end. Never set it in production.
   */
  unsafeFixedCnonce?: string;
}

type State = 'start' | 'reauth-sent' | 'responded' | 'complete' | 'failed';

/**
 * cnonce size in random bytes: 128 bits (RFC 2831 §2.1.2 asks for at least 64), 22 base64
 * characters unpadded. We used the JDK's 240 bits (40 characters) before; every byte of
 * cnonce is hashed in H(A1), the response and rspauth, on both sides, and with the default
 * server id ("digest-md5", 67-character nonces) the shorter cnonce takes H(A1) from three
 * MD5 blocks to two and the response from four to three.
 */
const CNONCE_BYTES = 16;

/** H(username:realm:password) from the password, between its hashing and H(A1); wiped at once. */
const URP = new Uint8Array(16);

/** The cnonce's random bytes, between the CSPRNG and their base64 text (the cnonce sent); wiped at once. */
const CNONCE_RANDOM = new Uint8Array(CNONCE_BYTES);

/** The nonce kept after a response when there is no context cache to save it in. */
const NO_NONCE = new Uint8Array(0);

export class DigestMD5Client {
  private state: State = 'start';
  private readonly opts: DigestMD5ClientOptions;
  private readonly policy: ProtectionPolicy;
  private readonly maxbuf_: number;
  /** The rspauth to expect and what the response was computed from (its nonce: a copy for the context cache, else empty). */
  private expected: { rspauth: string; inputs: ResponseInputs } | undefined;
  private negotiated: { qop: Qop; cipher: CipherName | undefined; realm: string; peerMaxbuf: number } | undefined;
  private layer: SecurityLayer | undefined;
  private staleRetried = false;
  private lastUtf8 = false;
  private reauth = false;

  constructor(options: DigestMD5ClientOptions) {
    const o = options;
    const nonEmpty = (v: unknown, name: string): void => {
      if (typeof v !== 'string' || v.length === 0) throw new DigestMD5Error('bad-option', `${name} must be a non-empty string`);
    };
    nonEmpty(o.username, 'username');
    nonEmpty(o.service, 'service');
    nonEmpty(o.host, 'host');
    if (o.service.includes('/') || o.host.includes('/')) throw new DigestMD5Error('bad-option', 'service and host may not contain "/"');
    if ((o.password === undefined) === (o.hashedSecret === undefined)) {
      throw new DigestMD5Error('bad-option', 'give exactly one of password and hashedSecret');
    }
    if (o.password !== undefined && typeof o.password !== 'string') throw new DigestMD5Error('bad-option', 'password must be a string');
    if (o.hashedSecret !== undefined) {
      if (!(o.hashedSecret instanceof Uint8Array) || o.hashedSecret.length !== 16) {
        throw new DigestMD5Error('bad-option', 'hashedSecret must be the 16 bytes of H(username:realm:password)');
      }
      if (o.realm === undefined) throw new DigestMD5Error('bad-option', 'hashedSecret is for one realm: give that realm');
    }
    if (o.authzid !== undefined && typeof o.authzid !== 'string') throw new DigestMD5Error('bad-option', 'authzid must be a string');
    this.policy = makePolicy(o);
    this.maxbuf_ = o.maxbuf ?? DEFAULT_MAXBUF;
    if (!Number.isInteger(this.maxbuf_) || this.maxbuf_ < MIN_MAXBUF || this.maxbuf_ > MAX_MAXBUF) {
      throw new DigestMD5Error('bad-option', `maxbuf must be an integer in ${MIN_MAXBUF}..${MAX_MAXBUF}`);
    }
    if (o.unsafeFixedCnonce !== undefined) nonEmpty(o.unsafeFixedCnonce, 'unsafeFixedCnonce');
    // Our own copy, every field present in one order whatever the caller's object held: the
    // exchange then reads one shape of options (the caller's shapes varied with its options,
    // and made the reads in respond() polymorphic: measured ~2% of a handshake).
    this.opts = {
      username: o.username,
      password: o.password,
      hashedSecret: o.hashedSecret,
      service: o.service,
      host: o.host,
      serviceName: o.serviceName,
      authzid: o.authzid,
      realm: o.realm,
      chooseRealm: o.chooseRealm,
      qop: o.qop,
      ciphers: o.ciphers,
      minSsf: o.minSsf,
      maxSsf: o.maxSsf,
      maxbuf: o.maxbuf,
      contextCache: o.contextCache,
      unsafeFixedCnonce: o.unsafeFixedCnonce,
    };
  }

  /** True once the server's rspauth has been verified. */
  get complete(): boolean {
    return this.state === 'complete';
  }

  /** True when completed by a subsequent authentication from the context cache. */
  get reauthenticated(): boolean {
    return this.complete && this.reauth;
  }

  private cacheKey(): string {
    const o = this.opts;
    return ClientContextCache.key(o.service, o.host, o.username, o.authzid || undefined);
  }

  /**
   * A subsequent-authentication response (RFC 2831 §2.2) from the context cache, to
   * send as the initial response; undefined when there is none (send nothing, and
   * pass the server's challenge to step()). Only contexts of qop=auth are cached:
   * see the server's saveContext for why layers always get a full exchange.
   */
  initialResponse(): Uint8Array | undefined {
    if (this.state !== 'start') throw new DigestMD5Error('bad-state', 'initialResponse() comes before the first step()');
    const cache = this.opts.contextCache;
    if (!cache || !this.policy.qops.includes('auth') || this.policy.minSsf > 0) return undefined;
    const ctx = cache.next(this.cacheKey());
    if (!ctx) return undefined;
    const inputs: ResponseInputs = { ha1: ctx.ha1, nonce: ctx.nonce, nc: ctx.nc, cnonce: ctx.cnonce, qop: 'auth', digestUri: ctx.digestUri };
    const { response, rspauth } = computeResponseAndRspauth(inputs);
    this.expected = { rspauth, inputs: { ...inputs, ha1: ctx.ha1.slice() } };
    this.negotiated = { qop: 'auth', cipher: undefined, realm: ctx.realm, peerMaxbuf: ctx.peerMaxbuf };
    this.state = 'reauth-sent';
    return serialiseResponse({
      username: this.opts.username,
      realm: ctx.realm.length > 0 ? ctx.realm : undefined,
      nonce: ctx.nonce,
      cnonce: ctx.cnonce,
      nc: ctx.nc,
      qop: 'auth',
      digestUri: ctx.digestUri,
      response,
      maxbuf: this.maxbuf_,
      utf8: ctx.utf8,
      cipher: undefined,
      authzid: ctx.authzid,
    });
  }

  get qop(): Qop | undefined {
    return this.complete ? this.negotiated!.qop : undefined;
  }

  /** The negotiated cipher (auth-conf only). */
  get cipher(): CipherName | undefined {
    return this.complete ? this.negotiated!.cipher : undefined;
  }

  /** Security strength factor: 0 auth, 1 auth-int, else the cipher's strength. */
  get ssf(): number | undefined {
    return this.complete ? ssfOf(this.negotiated!.qop, this.negotiated!.cipher) : undefined;
  }

  get realm(): string | undefined {
    return this.complete ? this.negotiated!.realm : undefined;
  }

  /** Our maxbuf: the largest security-layer token we accept. */
  get maxbuf(): number {
    return this.maxbuf_;
  }

  /**
   * The security layer for qop auth-int or auth-conf, once complete (undefined for
   * auth). The same object on every call: its sequence numbers and cipher state are the session's.
   */
  get securityLayer(): SecurityLayer | undefined {
    if (!this.complete || this.negotiated!.qop === 'auth') return undefined;
    this.layer ??= new SecurityLayer({
      qop: this.negotiated!.qop as 'auth-int' | 'auth-conf',
      cipher: this.negotiated!.cipher,
      ha1: this.expected!.inputs.ha1,
      side: 'client',
      maxbuf: this.maxbuf_,
      peerMaxbuf: this.negotiated!.peerMaxbuf,
    });
    return this.layer;
  }

  /** The server's maxbuf: the largest buffer we may send it. */
  get peerMaxbuf(): number | undefined {
    return this.complete ? this.negotiated!.peerMaxbuf : undefined;
  }

  /**
   * First call: takes the digest-challenge, returns the digest-response.
   * Second call: takes the response-auth (rspauth), verifies it and returns the
   * empty final response; or, when the server sends a new challenge with
   * stale=true, answers it once more by itself (a second stale in a row is an
   * error). After `initialResponse()`, the first call takes the rspauth, or the
   * server's challenge if it declined (a full exchange follows). Any error leaves
   * the client failed.
   */
  step(input: Uint8Array): Uint8Array {
    try {
      if (!(input instanceof Uint8Array)) throw new DigestMD5Error('malformed', 'step() takes the server message as bytes');
      switch (this.state) {
        case 'start':
          return this.respond(input);
        case 'reauth-sent': {
          const rspauth = readResponseAuth(input);
          if (rspauth === undefined) {
            // The server declined the cached context: forget it and authenticate in full.
            this.opts.contextCache?.delete(this.cacheKey());
            return this.respond(input);
          }
          const out = this.checkRspauth(rspauth);
          this.reauth = true;
          return out;
        }
        case 'responded': {
          const rspauth = readResponseAuth(input);
          return rspauth === undefined ? this.respondToStale(input) : this.checkRspauth(rspauth);
        }
        case 'complete':
          throw new DigestMD5Error('bad-state', 'the exchange is already complete');
        case 'failed':
          throw new DigestMD5Error('bad-state', 'the exchange has failed; start a new one');
      }
    } catch (e) {
      if (this.state !== 'complete') this.fail();
      if (e instanceof DigestMD5Error) throw e;
      throw new DigestMD5Error('malformed', `unexpected failure: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  }

  private fail(): void {
    this.state = 'failed';
    if (this.expected) wipe(this.expected.inputs.ha1);
  }

  private respondToStale(input: Uint8Array): Uint8Array {
    const c = parseChallenge(input, { copy: false }); // used up before step() returns: see respond()
    if (!c.stale) throw new DigestMD5Error('malformed', 'expected rspauth, got a new challenge without stale=true');
    if (this.staleRetried) throw new DigestMD5Error('stale', 'the server called the nonce stale twice in a row');
    this.staleRetried = true;
    wipe(this.expected!.inputs.ha1);
    return this.respond(input, c);
  }

  private respond(input: Uint8Array, parsed?: DigestChallenge): Uint8Array {
    // Views into the caller's challenge, read before this returns; the nonce is copied for
    // the one later use, the context cache. (A private copy of the whole challenge cost more.)
    const c = parsed ?? parseChallenge(input, { copy: false });
    const { qop, cipher } = chooseProtection(this.policy, c.qopOptions, c.ciphers, [c.maxbuf, this.maxbuf_]);
    const realm = this.opts.realm ?? (c.realms.length > 0 ? (this.opts.chooseRealm?.(c.realms) ?? c.realms[0]!) : '');
    if (typeof realm !== 'string') throw new DigestMD5Error('bad-option', 'chooseRealm must return a string');

    const o = this.opts;
    const urp = o.hashedSecret ? o.hashedSecret : hashUserRealmPassword(o.username, realm, o.password!, URP);
    const cnonce = o.unsafeFixedCnonce !== undefined ? utf8(o.unsafeFixedCnonce) : freshCnonce();
    const digestUri = `${o.service}/${o.host}${o.serviceName !== undefined ? `/${o.serviceName}` : ''}`;
    const authzid = o.authzid !== undefined && o.authzid.length > 0 ? o.authzid : undefined;
    const inputs: ResponseInputs = {
      ha1: computeHA1({ urp, nonce: c.nonce, cnonce, authzid }),
      nonce: c.nonce,
      nc: 1,
      cnonce,
      qop,
      digestUri,
    };
    if (!o.hashedSecret) wipe(urp);
    const { response, rspauth } = computeResponseAndRspauth(inputs);
    this.expected = { rspauth, inputs: { ...inputs, nonce: o.contextCache ? c.nonce.slice() : NO_NONCE } };
    this.negotiated = { qop, cipher, realm, peerMaxbuf: c.maxbuf };
    this.lastUtf8 = c.utf8;
    this.state = 'responded';
    return serialiseResponse({
      username: o.username,
      // The JDK omits an empty realm; servers that offered none accept that.
      realm: realm.length > 0 ? realm : undefined,
      nonce: c.nonce,
      cnonce,
      nc: 1,
      qop,
      digestUri,
      response,
      maxbuf: this.maxbuf_,
      utf8: c.utf8,
      cipher,
      authzid,
    });
  }

  private checkRspauth(got: string): Uint8Array {
    if (!constantTimeEqualText(got, this.expected!.rspauth)) {
      throw new DigestMD5Error('mutual-auth-failed', 'rspauth is wrong: the server does not know the password');
    }
    this.state = 'complete';
    this.saveContext();
    return new Uint8Array(0);
  }

  /** After a full exchange with qop=auth, keep the context for the next connection. */
  private saveContext(): void {
    const cache = this.opts.contextCache;
    const n = this.negotiated!;
    const e = this.expected!;
    if (!cache || this.state !== 'complete' || n.qop !== 'auth' || this.reauth || e.inputs.nc !== 1) return;
    cache.save(this.cacheKey(), {
      nonce: e.inputs.nonce.slice(),
      cnonce: e.inputs.cnonce.slice(),
      nc: 1,
      realm: n.realm,
      ha1: e.inputs.ha1.slice(),
      digestUri: e.inputs.digestUri,
      authzid: this.opts.authzid || undefined,
      utf8: this.lastUtf8,
      peerMaxbuf: n.peerMaxbuf,
    });
  }

  /** H(A1), for deriving the security-layer keys. Undefined until complete. */
  sessionKey(): Uint8Array | undefined {
    return this.complete ? this.expected!.inputs.ha1.slice() : undefined;
  }
}

/** A fresh cnonce: CNONCE_BYTES from the CSPRNG as unpadded base64, in an array of its own. */
function freshCnonce(): Uint8Array {
  const cnonce = base64BytesUnpadded(randomInto(CNONCE_RANDOM, 0, CNONCE_BYTES));
  CNONCE_RANDOM.fill(0);
  return cnonce;
}
