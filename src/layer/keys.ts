// Key derivation for the security layers, RFC 2831 §2.3 (integrity) and §2.4
// (confidentiality): Kic, Kis, Kcc and Kcs from the session key H(A1).

import { ascii } from '../bytes.js';
import { Md5, md5KeyAnd, prepareKeySuffix } from '../crypto/md5.js';

// The keys hash 16 + 65 bytes at most, where the JavaScript MD5 beats node:crypto on every
// backend (crypto/node.ts). With all of H(A1) the input is two blocks of which only the
// first four words vary: their words are prepared once (md5KeyAnd), measured 700 -> 530 ns
// for Kic and Kis. rc4-56 and rc4-40 hash 7 or 5 bytes of H(A1) through a reused MD5.
const hasher = new Md5();

function md5(a: Uint8Array, b: Uint8Array): Uint8Array {
  return hasher.start().update(a).update(b).finish();
}

const KIC_MAGIC = ascii('Digest session key to client-to-server signing key magic constant');
const KIS_MAGIC = ascii('Digest session key to server-to-client signing key magic constant');
const KCC_MAGIC = ascii('Digest H(A1) to client-to-server sealing key magic constant');
const KCS_MAGIC = ascii('Digest H(A1) to server-to-client sealing key magic constant');
const KIC_SUFFIX = prepareKeySuffix(KIC_MAGIC);
const KIS_SUFFIX = prepareKeySuffix(KIS_MAGIC);
const KCC_SUFFIX = prepareKeySuffix(KCC_MAGIC);
const KCS_SUFFIX = prepareKeySuffix(KCS_MAGIC);

export interface IntegrityKeys {
  /** Client-to-server integrity key: MD5(H(A1) ‖ magic). */
  readonly kic: Uint8Array;
  /** Server-to-client integrity key. */
  readonly kis: Uint8Array;
}

export interface ConfidentialityKeys {
  /** Client-to-server encryption key: MD5(H(A1)[0..n) ‖ magic). */
  readonly kcc: Uint8Array;
  /** Server-to-client encryption key. */
  readonly kcs: Uint8Array;
}

/** Kic and Kis, into the arrays given (new ones by default). */
export function deriveIntegrityKeys(ha1: Uint8Array, kic = new Uint8Array(16), kis = new Uint8Array(16)): IntegrityKeys {
  return { kic: md5KeyAnd(ha1, KIC_SUFFIX, kic), kis: md5KeyAnd(ha1, KIS_SUFFIX, kis) };
}

/** `n` is 16 for rc4, des, 3des (and aes), 7 for rc4-56 and 5 for rc4-40. */
export function deriveConfidentialityKeys(ha1: Uint8Array, n: number): ConfidentialityKeys {
  if (n === 16) return { kcc: md5KeyAnd(ha1, KCC_SUFFIX), kcs: md5KeyAnd(ha1, KCS_SUFFIX) };
  const part = ha1.subarray(0, n);
  return { kcc: md5(part, KCC_MAGIC), kcs: md5(part, KCS_MAGIC) };
}
