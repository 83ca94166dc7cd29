// The client side of the DIGEST-MD5 exchange (RFC 2831 §2.1) as a state machine:
// bytes in, bytes out, no I/O, synchronous.

import { randomBytes } from '#crypto';
import { ascii, constantTimeEqual, toBase64, utf8, wipe } from './bytes.js';
import { computeHA1, computeResponse, computeRspauth, hashUserRealmPassword, type ResponseInputs } from './digest.js';
import { DigestMD5Error } from './errors.js';
import {
  DEFAULT_MAXBUF,
  MAX_MAXBUF,
  MIN_MAXBUF,
  parseChallenge,
  parseResponseAuth,
  serialiseResponse,
  type Qop,
} from './messages.js';
import { chooseProtection, makePolicy, ssfOf, type ProtectionPolicy } from './negotiate.js';
import type { CipherName } from './layer/ciphers/index.js';
import { SecurityLayer } from './layer/security-layer.js';

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
  /** Acceptable ciphers for auth-conf, in preference order. Default: aes (when offered), 3des, rc4. des, rc4-56 and rc4-40 only when named. */
  ciphers?: readonly CipherName[];
  /** Refuse weaker protection: 0 auth, 1 auth-int, else the cipher's strength (rc4-40 40, des and rc4-56 56, 3des 112, rc4 128). */
  minSsf?: number;
  maxSsf?: number;
  /** The largest buffer we accept. Default 65536. */
  maxbuf?: number;
  /**
   * TEST ONLY: a fixed cnonce instead of a random one, so published vectors
   * replay end to end. Never set it in production.
   */
  unsafeFixedCnonce?: string;
}

type State = 'start' | 'responded' | 'complete' | 'failed';

/** cnonce size in random bytes: 240 bits, 40 base64 characters. */
const CNONCE_BYTES = 30;

export class DigestMD5Client {
  private state: State = 'start';
  private readonly opts: DigestMD5ClientOptions;
  private readonly policy: ProtectionPolicy;
  private readonly maxbuf_: number;
  private expected: { rspauth: string; inputs: ResponseInputs } | undefined;
  private negotiated: { qop: Qop; cipher: CipherName | undefined; realm: string; peerMaxbuf: number } | undefined;
  private layer: SecurityLayer | undefined;

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
    this.opts = { ...o };
  }

  /** True once the server's rspauth has been verified. */
  get complete(): boolean {
    return this.state === 'complete';
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
   * empty final response. Any error leaves the client failed.
   */
  step(input: Uint8Array): Uint8Array {
    try {
      switch (this.state) {
        case 'start':
          return this.respond(input);
        case 'responded':
          return this.checkRspauth(input);
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

  private respond(input: Uint8Array): Uint8Array {
    if (!(input instanceof Uint8Array)) throw new DigestMD5Error('malformed', 'the challenge must be bytes');
    const c = parseChallenge(input);
    const { qop, cipher } = chooseProtection(this.policy, c.qopOptions, c.ciphers, [c.maxbuf, this.maxbuf_]);
    const realm = this.opts.realm ?? (c.realms.length > 0 ? (this.opts.chooseRealm?.(c.realms) ?? c.realms[0]!) : '');
    if (typeof realm !== 'string') throw new DigestMD5Error('bad-option', 'chooseRealm must return a string');

    const o = this.opts;
    const urp = o.hashedSecret ? o.hashedSecret : hashUserRealmPassword(o.username, realm, o.password!);
    const cnonce = o.unsafeFixedCnonce !== undefined ? utf8(o.unsafeFixedCnonce) : ascii(toBase64(randomBytes(CNONCE_BYTES)));
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
    const response = computeResponse(inputs);
    this.expected = { rspauth: computeRspauth(inputs), inputs };
    this.negotiated = { qop, cipher, realm, peerMaxbuf: c.maxbuf };
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
      ...(cipher !== undefined ? { cipher } : {}),
      authzid,
    });
  }

  private checkRspauth(input: Uint8Array): Uint8Array {
    if (!(input instanceof Uint8Array)) throw new DigestMD5Error('malformed', 'the response-auth must be bytes');
    const got = parseResponseAuth(input);
    if (!constantTimeEqual(ascii(got), ascii(this.expected!.rspauth))) {
      throw new DigestMD5Error('mutual-auth-failed', 'rspauth is wrong: the server does not know the password');
    }
    this.state = 'complete';
    return new Uint8Array(0);
  }

  /** H(A1), for deriving the security-layer keys. Undefined until complete. */
  sessionKey(): Uint8Array | undefined {
    return this.complete ? this.expected!.inputs.ha1.slice() : undefined;
  }
}
