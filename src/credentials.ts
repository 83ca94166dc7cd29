// What a server knows about a user: the password or, better, only the
// precalculated H(username:realm:password); looked up through an async interface
// so the store may be remote.

import { DigestMD5Error } from './errors.js';

/**
 * A user's secret: the password, or the 16-byte H(username:realm:password) for that
 * realm — each text ISO-8859-1 when it fits, else UTF-8, as `hashUserRealmPassword`
 * computes it. `hashedSecretUtf8` is the same hash with every text as UTF-8, given only
 * when it differs (a non-ASCII character that fits ISO-8859-1): clients that never
 * convert, the Cyrus client among them, hash that form.
 */
export type Credential =
  | { readonly password: string }
  | { readonly hashedSecret: Uint8Array; readonly hashedSecretUtf8?: Uint8Array | undefined };

export interface CredentialQuery {
  /** The username as the client sent it (decoded text). */
  readonly username: string;
  /** The realm the client answered with ("" when none). */
  readonly realm: string;
}

/** Any credential source. Returns undefined for an unknown user; throws only when the store itself fails. */
export interface CredentialStore {
  lookup(query: CredentialQuery): Promise<Credential | undefined> | Credential | undefined;
}

/** Checks a credential's shape at the boundary, so the arithmetic can trust it. */
export function checkCredential(c: Credential): Credential {
  if ('hashedSecret' in c) {
    if (!(c.hashedSecret instanceof Uint8Array) || c.hashedSecret.length !== 16) {
      throw new DigestMD5Error('bad-option', 'hashedSecret must be the 16 bytes of H(username:realm:password)');
    }
    if (c.hashedSecretUtf8 !== undefined && (!(c.hashedSecretUtf8 instanceof Uint8Array) || c.hashedSecretUtf8.length !== 16)) {
      throw new DigestMD5Error('bad-option', 'hashedSecretUtf8 must be the 16 bytes of H(username:realm:password) as UTF-8');
    }
  } else if (typeof c.password !== 'string') {
    throw new DigestMD5Error('bad-option', 'password must be a string');
  }
  return c;
}
