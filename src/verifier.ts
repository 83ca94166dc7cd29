// Who checks a digest-response: computes the expected response-value from the
// user's credential, compares in constant time, and returns the session key.
// LocalVerifier does it in process; a remote authenticating server is the other kind.

import { ascii, constantTimeEqual, wipe } from './bytes.js';
import { hashBytes } from './charset.js';
import { checkCredential, type CredentialStore } from './credentials.js';
import { computeHA1, computeResponse, computeRspauth, hashUserRealmPassword, hashUserRealmPasswordBytes } from './digest.js';
import { DigestMD5Error } from './errors.js';
import type { DigestResponse, Qop } from './messages.js';

export interface VerifyRequest {
  /** The client's digest-response, already checked against what the server offered. */
  readonly response: DigestResponse;
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

export class LocalVerifier implements Verifier {
  constructor(private readonly store: CredentialStore) {}

  async verify({ response: r }: VerifyRequest): Promise<VerifyResult> {
    let credential;
    try {
      credential = await this.store.lookup({ username: r.username, realm: r.realm });
    } catch (cause) {
      throw new DigestMD5Error('backend-failed', 'the credential store failed', { cause });
    }
    let urp: Uint8Array;
    if (credential === undefined) urp = DUMMY_URP;
    else {
      const c = checkCredential(credential);
      if ('hashedSecret' in c) urp = c.hashedSecret;
      else if (r.utf8) urp = hashUserRealmPassword(r.username, r.realm, c.password);
      // Without charset=utf-8 the names are hashed exactly as the client sent them.
      else urp = hashUserRealmPasswordBytes(r.usernameBytes, r.realmBytes, hashBytes(c.password));
    }
    const inputs = {
      ha1: computeHA1({ urp, nonce: r.nonce, cnonce: r.cnonce, authzid: r.authzid }),
      nonce: r.nonce,
      nc: r.nc,
      cnonce: r.cnonce,
      qop: r.qop as Qop,
      digestUri: r.digestUri,
    };
    const ok = constantTimeEqual(ascii(computeResponse(inputs)), ascii(r.response));
    if (urp !== DUMMY_URP && credential !== undefined && 'password' in credential) wipe(urp);
    if (!ok || credential === undefined) {
      wipe(inputs.ha1);
      throw new DigestMD5Error('auth-failed', 'authentication failed: wrong response for this user and realm');
    }
    return { ha1: inputs.ha1, rspauth: computeRspauth(inputs) };
  }
}
