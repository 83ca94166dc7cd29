// The digest arithmetic of RFC 2831 §2.1.2.1 and §2.1.3 as pure functions:
// H(username:realm:password), H(A1), A2, the response-value and rspauth.

import { md5 } from '#crypto';
import { ascii, concatBytes, toHex, utf8 } from './bytes.js';
import { hashBytes } from './charset.js';
import { formatNc, type Qop } from './messages.js';

const COLON = Uint8Array.of(0x3a);

/**
 * H({ username-value, ":", realm-value, ":", passwd }), 16 binary bytes: the
 * "precalculated secret" a server may store instead of the password. Each text
 * is converted to ISO-8859-1 when it fits, else UTF-8 (see charset.ts).
 */
export function hashUserRealmPassword(username: string, realm: string, password: string): Uint8Array {
  return md5(hashBytes(username), COLON, hashBytes(realm), COLON, hashBytes(password));
}

/** The same from the exact bytes a response carried (charset absent: hashed as sent). */
export function hashUserRealmPasswordBytes(username: Uint8Array, realm: Uint8Array, password: Uint8Array): Uint8Array {
  return md5(username, COLON, realm, COLON, password);
}

export interface A1Inputs {
  /** H(username:realm:password), 16 bytes. */
  readonly urp: Uint8Array;
  readonly nonce: Uint8Array;
  readonly cnonce: Uint8Array;
  /** Present only when the response carries one (hashed as UTF-8). */
  readonly authzid?: string | undefined;
}

/** H(A1), 16 binary bytes: the session key from which Kic, Kis, Kcc and Kcs derive. */
export function computeHA1(a: A1Inputs): Uint8Array {
  if (a.urp.length !== 16) throw new RangeError('H(username:realm:password) must be 16 bytes');
  const parts = [a.urp, COLON, a.nonce, COLON, a.cnonce];
  if (a.authzid !== undefined && a.authzid.length > 0) parts.push(COLON, utf8(a.authzid));
  return md5(...parts);
}

const A2_AUTHENTICATE = ascii('AUTHENTICATE:');
const A2_SUFFIX_LAYER = ascii(':00000000000000000000000000000000');

/**
 * A2: `AUTHENTICATE:digest-uri` for the response, `:digest-uri` for rspauth, each
 * followed by `:00000000000000000000000000000000` when qop is auth-int or auth-conf.
 */
export function computeA2(qop: Qop, digestUri: string, forRspauth: boolean): Uint8Array {
  const parts: Uint8Array[] = [forRspauth ? COLON : A2_AUTHENTICATE, utf8(digestUri)];
  if (qop !== 'auth') parts.push(A2_SUFFIX_LAYER);
  return concatBytes(...parts);
}

export interface ResponseInputs {
  readonly ha1: Uint8Array;
  readonly nonce: Uint8Array;
  readonly nc: number;
  readonly cnonce: Uint8Array;
  readonly qop: Qop;
  readonly digestUri: string;
}

/** KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2))) as 32 lower-case hex digits. */
function kd(r: ResponseInputs, forRspauth: boolean): string {
  const ha2 = toHex(md5(computeA2(r.qop, r.digestUri, forRspauth)));
  return toHex(
    md5(
      ascii(toHex(r.ha1)),
      COLON,
      r.nonce,
      COLON,
      ascii(formatNc(r.nc)),
      COLON,
      r.cnonce,
      COLON,
      ascii(r.qop),
      COLON,
      ascii(ha2),
    ),
  );
}

/** The response-value the client sends (RFC 2831 §2.1.2.1). */
export function computeResponse(r: ResponseInputs): string {
  return kd(r, false);
}

/** The rspauth value the server returns (RFC 2831 §2.1.3). */
export function computeRspauth(r: ResponseInputs): string {
  return kd(r, true);
}
