// The server side of the DIGEST-MD5 exchange (RFC 2831 §2.1) as a state machine:
// bytes in, bytes out, no I/O. Asynchronous because credential checks may be remote.

import { randomBytes } from '#crypto';
import { ascii, constantTimeEqual, toBase64, utf8 } from './bytes.js';
import type { CredentialStore } from './credentials.js';
import { DigestMD5Error } from './errors.js';
import {
  isQop,
  MAX_MAXBUF,
  MIN_MAXBUF,
  DEFAULT_MAXBUF,
  parseResponse,
  serialiseChallenge,
  serialiseResponseAuth,
  type DigestResponse,
  type Qop,
} from './messages.js';
import { LocalVerifier, type Verifier } from './verifier.js';
import { makePolicy, serverAccepts, serverOffer, ssfOf, type ProtectionPolicy } from './negotiate.js';
import type { CipherName } from './layer/ciphers/index.js';
import { SecurityLayer } from './layer/security-layer.js';

export interface DigestMD5ServerOptions {
  /** The registered service name, the serv-type of digest-uri (e.g. "imap", "ldap", "xmpp"). */
  service: string;
  /**
   * The host names this server answers to, compared case-insensitively with
   * the digest-uri host; "*" accepts any host (then `realms` must be given).
   */
  hosts: string | readonly string[];
  /** serv-name of a replicated service (RFC 2831 §2.1.2); when set, the digest-uri must carry it. */
  serviceName?: string;
  /** Realms to offer, in order. Default: the first host. An empty list offers none. */
  realms?: readonly string[];
  /** Where users' credentials are looked up (used by the default in-process verifier). */
  credentials?: CredentialStore;
  /** Who checks responses; default `new LocalVerifier(credentials)`. */
  verifier?: Verifier;
  /**
   * qop values to offer, in preference order. Default ["auth"]. Offer "auth-int" or
   * "auth-conf" only when the application will wrap its traffic with `securityLayer`.
   */
  qop?: readonly Qop[];
  /** Ciphers to offer with auth-conf. Default: aes, 3des, rc4. des, rc4-56 and rc4-40 only when named. */
  ciphers?: readonly CipherName[];
  /** Refuse weaker protection: 0 auth, 1 auth-int, else the cipher's strength. */
  minSsf?: number;
  maxSsf?: number;
  /** The largest buffer we accept, offered as maxbuf. Default 65536. */
  maxbuf?: number;
  /** Offer charset=utf-8. Default true. */
  utf8?: boolean;
  /**
   * May `authcid` act as `authzid`? Default: only when the two are equal.
   * Not called when the client sent no authzid.
   */
  authorize?: (authcid: string, authzid: string, realm: string) => boolean | Promise<boolean>;
  /**
   * TEST ONLY: a fixed nonce instead of a random one, so published vectors
   * replay end to end. Never set it in production: a repeated nonce lets a
   * captured response be replayed.
   */
  unsafeFixedNonce?: string;
}

type State = 'start' | 'challenged' | 'verifying' | 'authenticated' | 'finished' | 'failed';

/** Nonce size in random bytes: 240 bits, 40 base64 characters. */
const NONCE_BYTES = 30;

export class DigestMD5Server {
  private state: State = 'start';
  private readonly opts: Required<Pick<DigestMD5ServerOptions, 'service' | 'utf8'>> & DigestMD5ServerOptions;
  private readonly hosts: readonly string[] | '*';
  private readonly realms: readonly string[];
  private readonly policy: ProtectionPolicy;
  private readonly offer: { qops: Qop[]; ciphers: CipherName[] };
  private layer: SecurityLayer | undefined;
  private readonly maxbuf_: number;
  private readonly verifier: Verifier;
  private nonce: Uint8Array | undefined;
  private result: { response: DigestResponse; ha1: Uint8Array; authzid: string } | undefined;

  constructor(options: DigestMD5ServerOptions) {
    const o = options;
    if (typeof o.service !== 'string' || o.service.length === 0 || o.service.includes('/')) {
      throw new DigestMD5Error('bad-option', 'service must be a non-empty name without "/"');
    }
    const hostList = typeof o.hosts === 'string' ? [o.hosts] : [...(o.hosts ?? [])];
    if (hostList.length === 0 || hostList.some((h) => typeof h !== 'string' || h.length === 0)) {
      throw new DigestMD5Error('bad-option', 'hosts must name at least one host (or "*")');
    }
    this.hosts = hostList.includes('*') ? '*' : hostList.map((h) => h.toLowerCase());
    if (o.realms === undefined && this.hosts === '*') {
      throw new DigestMD5Error('bad-option', 'realms must be given when hosts is "*"');
    }
    this.realms = o.realms ? [...o.realms] : [hostList[0]!];
    this.policy = makePolicy(o);
    this.maxbuf_ = o.maxbuf ?? DEFAULT_MAXBUF;
    if (!Number.isInteger(this.maxbuf_) || this.maxbuf_ < MIN_MAXBUF || this.maxbuf_ > MAX_MAXBUF) {
      throw new DigestMD5Error('bad-option', `maxbuf must be an integer in ${MIN_MAXBUF}..${MAX_MAXBUF}`);
    }
    this.offer = serverOffer(this.policy, this.maxbuf_);
    if (o.verifier === undefined && o.credentials === undefined) {
      throw new DigestMD5Error('bad-option', 'either credentials or verifier must be given');
    }
    this.verifier = o.verifier ?? new LocalVerifier(o.credentials!);
    if (o.unsafeFixedNonce !== undefined && (o.unsafeFixedNonce.length === 0 || o.unsafeFixedNonce.includes('"'))) {
      throw new DigestMD5Error('bad-option', 'unsafeFixedNonce must be non-empty and free of quotes');
    }
    this.opts = { ...o, utf8: o.utf8 ?? true };
  }

  /** True once the client's response has been verified (the rspauth is ready to send). */
  get complete(): boolean {
    return this.state === 'authenticated' || this.state === 'finished';
  }

  /** The authentication identity, once complete. */
  get username(): string | undefined {
    return this.complete ? this.result!.response.username : undefined;
  }

  /** The authorization identity (the authzid, or the username when none was sent), once complete. */
  get authzid(): string | undefined {
    return this.complete ? this.result!.authzid : undefined;
  }

  get realm(): string | undefined {
    return this.complete ? this.result!.response.realm : undefined;
  }

  get qop(): Qop | undefined {
    return this.complete ? (this.result!.response.qop as Qop) : undefined;
  }

  /** The negotiated cipher (auth-conf only). */
  get cipher(): CipherName | undefined {
    return this.complete && this.qop === 'auth-conf' ? (this.result!.response.cipher as CipherName) : undefined;
  }

  /** Security strength factor: 0 auth, 1 auth-int, else the cipher's strength. */
  get ssf(): number | undefined {
    return this.complete ? ssfOf(this.qop!, this.cipher) : undefined;
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
    if (!this.complete || this.qop === 'auth') return undefined;
    this.layer ??= new SecurityLayer({
      qop: this.qop as 'auth-int' | 'auth-conf',
      cipher: this.cipher,
      ha1: this.result!.ha1,
      side: 'server',
      maxbuf: this.maxbuf_,
      peerMaxbuf: this.result!.response.maxbuf,
    });
    return this.layer;
  }

  /** The client's maxbuf: the largest buffer we may send it. */
  get peerMaxbuf(): number | undefined {
    return this.complete ? this.result!.response.maxbuf : undefined;
  }

  /** The host the client bound the exchange to (digest-uri's host). */
  get boundHost(): string | undefined {
    return this.complete ? this.result!.response.digestUri.split('/')[1] : undefined;
  }

  /**
   * Advances the exchange. First call (no data, or an initial response, which is
   * ignored): returns the digest-challenge. Second: takes the digest-response and
   * returns the response-auth. A third call takes the client's empty final
   * response (RFC 4422 flow without additional data with success) and returns empty.
   */
  async step(input?: Uint8Array): Promise<Uint8Array> {
    switch (this.state) {
      case 'start':
        return this.guard(async () => {
          this.state = 'challenged';
          return this.challenge();
        });
      case 'challenged':
        if (input === undefined || input.length === 0) {
          return this.fail(new DigestMD5Error('malformed', 'digest-response expected, got an empty message'));
        }
        this.state = 'verifying';
        return this.guard(() => this.verify(input));
      case 'authenticated':
        if (input !== undefined && input.length > 0) {
          return this.fail(new DigestMD5Error('malformed', 'the final client response after rspauth must be empty'));
        }
        this.state = 'finished';
        return new Uint8Array(0);
      case 'verifying':
        throw new DigestMD5Error('bad-state', 'step() called while the previous step is still running');
      case 'finished':
        throw new DigestMD5Error('bad-state', 'the exchange is already finished');
      case 'failed':
        throw new DigestMD5Error('bad-state', 'the exchange has failed; start a new one');
    }
  }

  private async guard(f: () => Promise<Uint8Array>): Promise<Uint8Array> {
    try {
      return await f();
    } catch (e) {
      return this.fail(e);
    }
  }

  private fail(e: unknown): never {
    this.state = 'failed';
    if (this.result) this.result.ha1.fill(0);
    if (e instanceof DigestMD5Error) throw e;
    throw new DigestMD5Error('backend-failed', `unexpected failure: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }

  private challenge(): Uint8Array {
    this.nonce = this.opts.unsafeFixedNonce !== undefined ? utf8(this.opts.unsafeFixedNonce) : ascii(toBase64(randomBytes(NONCE_BYTES)));
    return serialiseChallenge({
      realms: this.realms,
      nonce: this.nonce,
      qopOptions: this.offer.qops,
      maxbuf: this.maxbuf_,
      utf8: this.opts.utf8,
      ciphers: this.offer.qops.includes('auth-conf') ? this.offer.ciphers : [],
    });
  }

  private async verify(input: Uint8Array): Promise<Uint8Array> {
    const r = parseResponse(input);
    this.checkResponse(r);
    const { ha1, rspauth } = await this.verifier.verify({ response: r });
    const authzid = r.authzid ?? r.username;
    if (r.authzid !== undefined) {
      const allowed = this.opts.authorize
        ? await this.opts.authorize(r.username, r.authzid, r.realm)
        : r.authzid === r.username;
      if (allowed !== true) {
        ha1.fill(0);
        throw new DigestMD5Error('authz-failed', `user "${r.username}" may not act as "${r.authzid}"`);
      }
    }
    this.result = { response: r, ha1, authzid };
    this.state = 'authenticated';
    return serialiseResponseAuth(rspauth);
  }

  /** Every directive against what was offered, before any credential work. */
  private checkResponse(r: DigestResponse): void {
    const bad = (msg: string): never => {
      throw new DigestMD5Error('invalid-response', msg);
    };
    if (!constantTimeEqual(r.nonce, this.nonce!)) bad('the nonce is not the one this server issued');
    if (r.nc !== 1) bad(`nc must be 00000001 in a first response, got ${r.nc.toString(16).padStart(8, '0')}`);
    if (!isQop(r.qop) || !this.offer.qops.includes(r.qop)) bad(`qop "${r.qop}" was not offered`);
    if (r.qop === 'auth-conf' && !serverAccepts(this.policy, r.qop, r.cipher, [r.maxbuf, this.maxbuf_])) {
      bad(`cipher "${r.cipher}" was not offered, or does not fit maxbuf ${r.maxbuf}`);
    }
    if (r.utf8 && !this.opts.utf8) bad('charset=utf-8 was not offered');
    if (this.realms.length > 0 && !this.realms.includes(r.realm)) {
      bad(r.realmPresent ? `realm "${r.realm}" was not offered` : 'the response has no realm, but realms were offered');
    }
    this.checkDigestUri(r.digestUri, bad);
  }

  private checkDigestUri(uri: string, bad: (msg: string) => never): void {
    // digest-uri = serv-type "/" host [ "/" serv-name ]  (RFC 2831 §2.1.2)
    const parts = uri.split('/');
    if (parts.length < 2 || parts.length > 3) bad(`digest-uri "${uri}" is not serv-type/host[/serv-name]`);
    const [servType, host, servName] = parts as [string, string, string | undefined];
    if (servType.toLowerCase() !== this.opts.service.toLowerCase()) {
      bad(`digest-uri service "${servType}" is not "${this.opts.service}"`);
    }
    const hostLc = host.toLowerCase();
    if (host.length === 0 || (this.hosts !== '*' && !this.hosts.includes(hostLc))) {
      bad(`digest-uri host "${host}" is not a name of this server`);
    }
    const expected = this.opts.serviceName;
    if (expected !== undefined) {
      if (servName === undefined || servName.toLowerCase() !== expected.toLowerCase()) {
        bad(`digest-uri serv-name must be "${expected}"`);
      }
    } else if (servName !== undefined && servName.toLowerCase() !== hostLc) {
      // RFC 2831 §2.1.2: serv-name is omitted when equal to host; a different one names a replicated service we are not.
      bad(`digest-uri serv-name "${servName}" does not name this service`);
    }
  }

  /** H(A1), for deriving the security-layer keys. Null until complete. */
  sessionKey(): Uint8Array | undefined {
    return this.complete ? this.result!.ha1.slice() : undefined;
  }
}
