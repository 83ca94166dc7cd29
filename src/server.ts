// The server side of the DIGEST-MD5 exchange (RFC 2831 §2.1) as a state machine:
// bytes in, bytes out, no I/O. Asynchronous because credential checks may be remote.

import { outputBytes } from './alloc.js';
import { constantTimeEqual, constantTimeEqualText, decodeLatin1, utf8 } from './bytes.js';
import { computeResponseAndRspauth } from './digest.js';
import { ServerSessions, type AuthContext, type IssuedChallenge } from './sessions.js';
import type { CredentialStore } from './credentials.js';
import { DigestMD5Error } from './errors.js';
import { isQop, parseResponse, parseResponseDetached, serialiseResponseAuth, type DigestResponse, type Qop } from './messages.js';
import { DigestMD5ServerConfig } from './server-config.js';
import { isPromiseLike, LocalVerifier, type Verifier, type VerifyRequest, type VerifyResult } from './verifier.js';
import { serverAccepts, ssfOf } from './negotiate.js';
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
  /** Ciphers to offer with auth-conf. Default: aes, rc4, 3des. des, rc4-56 and rc4-40 only when named. */
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
   * State shared by all exchanges of this server: nonce key and identity, partial
   * and full contexts, replay detection. Without it each exchange has its own (no
   * subsequent authentication across exchanges).
   */
  sessions?: ServerSessions;
  /**
   * TEST ONLY: a fixed nonce instead of a random one, so published vectors
   * replay end to end. Never set it in production: a repeated nonce lets a
   * captured response be replayed.
   */
  unsafeFixedNonce?: string;
}

/**
 * How many times in one exchange a slow but correct response may be answered with
 * stale=true; past that the exchange fails (a client that never answers in time).
 */
const MAX_STALE_ROUNDS = 3;

type State = 'start' | 'challenged' | 'verifying' | 'authenticated' | 'finished' | 'failed';

export class DigestMD5Server {
  private state: State = 'start';
  private readonly cfg: DigestMD5ServerConfig;
  private layer: SecurityLayer | undefined;
  private readonly sessions: ServerSessions;
  /** The challenge this exchange issued last (its nonce and partial-context ticket). */
  private issued: IssuedChallenge | undefined;
  /** The nonce's bytes, as sent in the challenge. */
  private nonceBytes: Uint8Array | undefined;
  private staleRounds = 0;
  private result: { response: DigestResponse; ha1: Uint8Array; authzid: string; reauth: boolean } | undefined;

  /**
   * One exchange. Give it a `DigestMD5ServerConfig` made once from the options to share
   * their checking among a listener's connections; plain options are checked each time.
   */
  constructor(options: DigestMD5ServerOptions | DigestMD5ServerConfig) {
    this.cfg = options instanceof DigestMD5ServerConfig ? options : new DigestMD5ServerConfig(options);
    this.sessions = this.cfg.options.sessions ?? new ServerSessions({ serverId: this.cfg.firstHost });
  }

  /** True when this exchange was a subsequent authentication from a cached context (no challenge). */
  get reauthenticated(): boolean {
    return this.complete && this.result!.reauth;
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
    return this.cfg.maxbuf;
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
      maxbuf: this.cfg.maxbuf,
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
   * Advances the exchange. First call: with no data, returns the digest-challenge;
   * with an initial response (subsequent authentication, RFC 2831 §2.2) that matches
   * a cached context, returns the response-auth at once and `complete` is true —
   * otherwise falls back to the challenge. Next: takes the digest-response and returns
   * the response-auth, or a new challenge with stale=true when the response is right
   * but its nonce has expired (`complete` stays false). A last call takes the
   * client's empty final response (RFC 4422 flow without additional data with success).
   */
  async step(input?: Uint8Array): Promise<Uint8Array> {
    // The error handling is written out in each case rather than through a wrapper taking
    // a closure: two async frames fewer per step, measured ~1 µs of a handshake.
    switch (this.state) {
      case 'start':
        this.state = 'verifying';
        try {
          if (input !== undefined && input.length > 0) {
            const rspauth = await this.tryReauth(input);
            if (rspauth) return rspauth;
          }
          this.state = 'challenged';
          return this.challenge(false);
        } catch (e) {
          return this.fail(e);
        }
      case 'challenged':
        if (input === undefined || input.length === 0) {
          return this.fail(new DigestMD5Error('malformed', 'digest-response expected, got an empty message'));
        }
        this.state = 'verifying';
        try {
          return await this.verify(input);
        } catch (e) {
          return this.fail(e);
        }
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

  private fail(e: unknown): never {
    this.state = 'failed';
    if (this.result) this.result.ha1.fill(0);
    if (e instanceof DigestMD5Error) throw e;
    throw new DigestMD5Error('backend-failed', `unexpected failure: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }

  private challenge(stale: boolean): Uint8Array {
    const fixed = stale ? undefined : this.cfg.options.unsafeFixedNonce;
    this.issued = this.sessions.issueChallenge(fixed);
    this.nonceBytes = nonceBytes(this.issued.nonce);
    return this.cfg.challenge(this.nonceBytes, stale);
  }

  private async verify(input: Uint8Array): Promise<Uint8Array> {
    // The byte values are copied out of the caller's message (which may be reused while we
    // await), but for the nonce: when it is ours, our own array stands for it.
    const r = parseResponseDetached(input, this.nonceBytes!);
    this.checkResponse(r);
    // checkResponse found the response's nonce to be the one this exchange issued: its
    // MAC needs no checking (we made it), only its age, from the partial context (as
    // Microsoft's Digest SSP keeps it). Foreign and forged nonces have failed that comparison.
    const issued = this.issued!;
    const nonce = issued.nonce;
    const age = this.sessions.takeIssued(issued); // undefined: the challenge waited too long
    const answer = this.check({ response: r, raw: input, offer: this.cfg.serverOffer });
    const { ha1, rspauth } = isPromiseLike(answer) ? await answer : answer; // awaited only when there is something to wait for
    if (age !== 'fresh') {
      // Right credentials, old challenge: a fresh challenge with stale=true, not a failure.
      ha1.fill(0);
      if (++this.staleRounds > MAX_STALE_ROUNDS) {
        throw new DigestMD5Error('invalid-response', `the client answered too late ${MAX_STALE_ROUNDS} times in a row`);
      }
      this.state = 'challenged';
      return this.challenge(true);
    }
    // Replay detection: one first authentication per nonce, across every exchange of this server.
    // One clock reading after the verifier's answer serves the expiry and the saved context.
    const now = this.sessions.now();
    const fresh = this.sessions.nonceStore.advance(nonce, r.nc, this.sessions.nonceExpiry(now));
    if (!(typeof fresh === 'boolean' ? fresh : await fresh)) { // awaited only when the store has no answer at once
      ha1.fill(0);
      throw new DigestMD5Error('invalid-response', 'this nonce has already been used (replayed response)');
    }
    const authzid = r.authzid === undefined ? r.username : await this.authorize(r, ha1);
    this.result = { response: r, ha1, authzid, reauth: false };
    this.state = 'authenticated';
    this.saveContext(nonce, r, ha1, now);
    return serialiseResponseAuth(rspauth);
  }

  /**
   * The verifier's answer. The in-process verifier with a store that answers at once gives it
   * without a promise, and verify() then runs to its end without yielding: an async frame and
   * a turn of the microtask queue fewer per exchange.
   */
  private check(request: VerifyRequest): VerifyResult | Promise<VerifyResult> {
    const v = this.cfg.verifier;
    return v instanceof LocalVerifier ? v.check(request) : v.verify(request);
  }

  private async authorize(r: DigestResponse, ha1: Uint8Array): Promise<string> {
    if (r.authzid === undefined) return r.username;
    const authorize = this.cfg.options.authorize;
    const allowed = authorize ? await authorize(r.username, r.authzid, r.realm) : r.authzid === r.username;
    if (allowed !== true) {
      ha1.fill(0);
      throw new DigestMD5Error('authz-failed', `user "${r.username}" may not act as "${r.authzid}"`);
    }
    return r.authzid;
  }

  /**
   * Keeps the context for subsequent authentication — only for qop=auth. RFC 2831
   * reuses nonce and cnonce, so after a subsequent authentication H(A1) and all four
   * layer keys would repeat with sequence numbers back at 0: the RC4 keystream and
   * the CBC IV repeat, and frames recorded from the earlier session would verify in
   * the new one. Cyrus does exactly that (docs/reauth.md); we refuse it, and a client
   * that wants a layer gets a full exchange.
   */
  private saveContext(nonce: string, r: DigestResponse, ha1: Uint8Array, now: number): void {
    if (r.qop !== 'auth') return;
    const ctx = {
      username: r.username,
      realm: r.realm,
      authzid: r.authzid,
      ha1, // copied by the cache, as the cnonce is
      cnonce: r.cnonce,
      digestUri: r.digestUri,
      qop: r.qop,
      cipher: r.cipher,
    };
    this.sessions.saveContext(nonce, ctx, now);
  }

  /**
   * Subsequent authentication (RFC 2831 §2.2): an initial response for a cached
   * context, with a higher nc. Returns the response-auth, or undefined to fall back
   * to a full challenge — whatever is wrong with it, since the client then simply
   * authenticates in full.
   */
  private async tryReauth(input: Uint8Array): Promise<Uint8Array | undefined> {
    let r: DigestResponse;
    try {
      r = parseResponse(input);
    } catch {
      return undefined;
    }
    const nonce = decodeLatin1(r.nonce);
    const ctx = this.sessions.context(nonce);
    if (!ctx) return undefined;
    // The context's H(A1) is a copy of the cached one: it is this exchange's session key on
    // success, and wiped on every other way out.
    const rspauth = await this.reauthenticate(r, nonce, ctx);
    if (rspauth === undefined) {
      ctx.ha1.fill(0);
      return undefined;
    }
    this.result = { response: r, ha1: ctx.ha1, authzid: r.authzid ?? r.username, reauth: true };
    this.state = 'authenticated';
    return serialiseResponseAuth(rspauth);
  }

  /** The checks of tryReauth() against the cached context: the rspauth to send when they pass. */
  private async reauthenticate(r: DigestResponse, nonce: string, ctx: AuthContext): Promise<string | undefined> {
    try {
      if (this.sessions.checkNonce(nonce, r.nonce) === 'expired') return undefined;
    } catch {
      return undefined;
    }
    const same =
      r.username === ctx.username &&
      r.realm === ctx.realm &&
      r.authzid === ctx.authzid &&
      r.digestUri === ctx.digestUri &&
      r.qop === 'auth' &&
      ctx.qop === 'auth' &&
      constantTimeEqual(r.cnonce, ctx.cnonce);
    if (!same) return undefined;
    const inputs = { ha1: ctx.ha1, nonce: r.nonce, nc: r.nc, cnonce: r.cnonce, qop: 'auth' as const, digestUri: r.digestUri };
    const { response, rspauth } = computeResponseAndRspauth(inputs);
    if (!constantTimeEqualText(response, r.response)) return undefined;
    // Only now, with a verified response, may the count move (a failed attempt must not advance it).
    const fresh = this.sessions.nonceStore.advance(nonce, r.nc, this.sessions.nonceExpiry());
    if (!(typeof fresh === 'boolean' ? fresh : await fresh)) return undefined;
    return rspauth;
  }

  /** Every directive against what was offered, before any credential work. */
  private checkResponse(r: DigestResponse): void {
    const bad = (msg: string): never => {
      throw new DigestMD5Error('invalid-response', msg);
    };
    // parseResponseDetached gives back our own array exactly when the nonce's bytes are ours
    // (compared there in constant time): the identity is the comparison's result.
    if (r.nonce !== this.nonceBytes) bad('the nonce is not the one this server issued in this exchange');
    if (r.nc !== 1) bad(`nc must be 00000001 in a first response, got ${r.nc.toString(16).padStart(8, '0')}`);
    const cfg = this.cfg;
    if (!isQop(r.qop) || !cfg.offer.qops.includes(r.qop)) bad(`qop "${r.qop}" was not offered`);
    if (r.qop === 'auth-conf' && !serverAccepts(cfg.policy, r.qop, r.cipher, [r.maxbuf, cfg.maxbuf])) {
      bad(`cipher "${r.cipher}" was not offered, or does not fit maxbuf ${r.maxbuf}`);
    }
    if (r.utf8 && !cfg.options.utf8) bad('charset=utf-8 was not offered');
    if (cfg.realms.length > 0 && !cfg.realms.includes(r.realm)) {
      bad(r.realmPresent ? `realm "${r.realm}" was not offered` : 'the response has no realm, but realms were offered');
    }
    const wrongUri = cfg.digestUriProblem(r.digestUri);
    if (wrongUri !== undefined) bad(wrongUri);
  }

  /** H(A1), for deriving the security-layer keys. Null until complete. */
  sessionKey(): Uint8Array | undefined {
    return this.complete ? this.result!.ha1.slice() : undefined;
  }
}

/**
 * The bytes of a nonce, kept for the whole exchange. Ours are ASCII, ~80 bytes: from the
 * output slab (alloc.ts), since an array of its own over 64 bytes cost ~0.7 µs, a thirtieth of
 * a handshake. An exchange waiting for its response holds on to at most that one slab.
 */
function nonceBytes(nonce: string): Uint8Array {
  const out = outputBytes(nonce.length);
  for (let i = 0; i < nonce.length; i++) {
    const c = nonce.charCodeAt(i);
    if (c > 0x7f) return utf8(nonce); // a test's fixed nonce
    out[i] = c;
  }
  return out;
}
