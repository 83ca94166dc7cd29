// Who checks a digest-response: computes the expected response-value from the
// user's credential, compares in constant time, and returns the session key.
// LocalVerifier does it in process; a remote authenticating server is the other kind.

import { constantTimeEqual, constantTimeEqualText, utf8, wipe } from './bytes.js';
import { hashBytes } from './charset.js';
import { checkCredential, type Credential, type CredentialStore } from './credentials.js';
import { computeHA1, computeResponseAndRspauth, hashUserRealmPassword, hashUserRealmPasswordBytes } from './digest.js';
import { DigestMD5Error } from './errors.js';
import type { DigestResponse, Qop } from './messages.js';

/** What the originating server offered in its digest-challenge. */
export interface ServerOffer {
  readonly realms: readonly string[];
  readonly qops: readonly Qop[];
  /** The ciphers offered with auth-conf (empty when auth-conf was not offered). */
  readonly ciphers: readonly string[];
  /** The server's maxbuf. */
  readonly maxbuf: number;
}

export interface VerifyRequest {
  /** The client's digest-response, already checked against what the server offered. */
  readonly response: DigestResponse;
  /** The digest-response exactly as received, for a verifier that forwards it (RemoteVerifier). */
  readonly raw?: Uint8Array | undefined;
  /** The server's view of the exchange, for a verifier that forwards it. */
  readonly offer?: ServerOffer | undefined;
}

export interface VerifyResult {
  /** H(A1), the 16-byte session key. */
  readonly ha1: Uint8Array;
  /** The rspauth value for the response-auth message. */
  readonly rspauth: string;
}

export interface Verifier {
  /** Resolves on a correct response; rejects with DigestMD5Error('auth-failed') otherwise. */
  verify(request: VerifyRequest): Promise<VerifyResult>;
}

// Used for unknown users, so that they cost the same work as known ones.
const DUMMY_URP = new Uint8Array(16);

/**
 * The H(username:realm:password) values a client may have computed from a password,
 * most likely first, without repeats (all three coincide for ASCII text):
 * - each text as ISO-8859-1 when it fits, else UTF-8: the RFC with charset=utf-8, and
 *   the Cyrus client, which sends UTF-8 without the charset directive but hashes so;
 * - the names exactly as sent, the password as ISO-8859-1: the RFC without charset;
 * - everything as UTF-8: clients that never convert (Cyrus's server tries this too).
 */
export function passwordSecrets(r: DigestResponse, password: string): Uint8Array[] {
  const converted = hashUserRealmPassword(r.username, r.realm, password);
  // ASCII throughout (the common case): all three forms are the same bytes.
  if (isAscii(r.username) && isAscii(r.realm) && isAscii(password)) return [converted];
  const asSent = hashUserRealmPasswordBytes(r.usernameBytes, r.realmBytes, hashBytes(password));
  const allUtf8 = hashUserRealmPasswordBytes(utf8(r.username), utf8(r.realm), utf8(password));
  const ordered = r.utf8 ? [converted, allUtf8] : [asSent, converted, allUtf8];
  return ordered.filter((x, i) => ordered.findIndex((y) => constantTimeEqual(x, y)) === i);
}

/** Whether a value that may be a promise is one (anything with a then method). */
export function isPromiseLike<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

export class LocalVerifier implements Verifier {
  constructor(private readonly store: CredentialStore) {}

  async verify(request: VerifyRequest): Promise<VerifyResult> {
    return this.check(request);
  }

  /**
   * verify() without a promise when the store answers at once (an in-memory store): the
   * result, or a promise of it only when the store's answer is one. Throws (or rejects)
   * as verify() rejects. The server calls this, saving an async frame per verification.
   */
  check(request: VerifyRequest): VerifyResult | Promise<VerifyResult> {
    const r = request.response;
    let found: ReturnType<CredentialStore['lookup']>;
    try {
      found = this.store.lookup({ username: r.username, realm: r.realm });
    } catch (cause) {
      throw storeFailed(cause);
    }
    if (!isPromiseLike(found)) return this.match(r, found);
    return Promise.resolve(found).then(
      (credential) => this.match(r, credential),
      (cause: unknown) => {
        throw storeFailed(cause);
      },
    );
  }

  private match(r: DigestResponse, credential: Credential | undefined): VerifyResult {
    // Unknown users cost the same work as known ones.
    let secrets: Uint8Array[] = [DUMMY_URP];
    if (credential !== undefined) {
      const c = checkCredential(credential);
      if (!('hashedSecret' in c)) secrets = passwordSecrets(r, c.password);
      else secrets = c.hashedSecretUtf8 ? [c.hashedSecret, c.hashedSecretUtf8] : [c.hashedSecret];
    }
    const found = matchResponse(r, secrets);
    if ('password' in (credential ?? {})) wipe(...secrets);
    if (!found || credential === undefined) {
      if (found) wipe(found.ha1);
      throw new DigestMD5Error('auth-failed', 'authentication failed: wrong response for this user and realm');
    }
    return found;
  }
}

function storeFailed(cause: unknown): DigestMD5Error {
  return new DigestMD5Error('backend-failed', 'the credential store failed', { cause });
}

/** Tries each candidate H(username:realm:password); returns the session key and rspauth of the one that matches. */
export function matchResponse(r: DigestResponse, secrets: readonly Uint8Array[]): VerifyResult | undefined {
  let result: VerifyResult | undefined;
  for (const urp of secrets) {
    const inputs = {
      ha1: computeHA1({ urp, nonce: r.nonce, cnonce: r.cnonce, authzid: r.authzid }),
      nonce: r.nonce,
      nc: r.nc,
      cnonce: r.cnonce,
      qop: r.qop as Qop,
      digestUri: r.digestUri,
    };
    // Every candidate is computed and compared (rspauth too), so the time does not tell which matched.
    const { response, rspauth } = computeResponseAndRspauth(inputs);
    if (constantTimeEqualText(response, r.response) && !result) {
      result = { ha1: inputs.ha1, rspauth };
    } else wipe(inputs.ha1);
  }
  return result;
}
