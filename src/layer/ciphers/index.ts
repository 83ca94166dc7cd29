// The cipher-opts of RFC 2831 §2.1.1 (and "aes" of draft-melnikov-sasl-digest-aes):
// each cipher's strength, key length n, block size and how it is keyed from Kc.

import { md5, nativeCbc } from '#crypto';
import { AesCbc, aesIv } from './aes.js';
import { DigestMD5Error } from '../../errors.js';
import { DesCbc, TripleDesCbc, desKeyWithParity } from './des.js';
import { HandoffCbc } from './handoff.js';
import { RC4 } from './rc4.js';
import type { CipherDirection, CipherState } from './types.js';

export type CipherName = 'aes' | '3des' | 'des' | 'rc4' | 'rc4-56' | 'rc4-40';

export interface CipherSpec {
  readonly name: CipherName;
  /** Security strength factor in bits, as Cyrus SASL counts it. */
  readonly ssf: number;
  /** How many bytes of H(A1) go into Kcc/Kcs (RFC 2831 §2.4: 16, or 7 for rc4-56, 5 for rc4-40). */
  readonly n: number;
  /** 1 for RC4 (no padding), 8 for DES and 3DES. */
  readonly blockSize: number;
  /** Off unless the application names it (too weak to be a default). */
  readonly weak: boolean;
  /** The smallest peer maxbuf that leaves room for data (RFC 2831bis: 32 for AES). */
  readonly minMaxbuf: number;
  /** Keys the cipher from Kc (16 bytes) for one direction. */
  create(kc: Uint8Array, direction: CipherDirection): CipherState;
}

function rc4(name: CipherName, ssf: number, n: number): CipherSpec {
  // RFC 2831 §2.4: RC4 is keyed with all 16 bytes of Kc, whatever n was (the JDK and Cyrus agree).
  return { name, ssf, n, blockSize: 1, weak: name !== 'rc4', minMaxbuf: 17, create: (kc) => new RC4(kc) };
}

/** IV = Kc[8..16) for des and 3des (RFC 2831 §2.4; as the JDK and Cyrus key it). */
function desIv(kc: Uint8Array): Uint8Array {
  return kc.slice(8, 16);
}

const SPECS: readonly CipherSpec[] = [
  {
    // draft-melnikov-sasl-digest-aes-00: AES-128-CBC, key = Kc, IV = MD5(Kc ‖ "aes-128"),
    // CBC chained across messages as for des/3des. Only this implementation speaks it:
    // others ignore the unknown token in cipher-opts (see docs/aes-cipher.md).
    name: 'aes',
    ssf: 128,
    n: 16,
    blockSize: 16,
    weak: false,
    minMaxbuf: 32,
    create(kc, direction) {
      const iv = aesIv(kc, md5);
      const state = nativeCbc?.('aes-128-cbc', kc, iv, direction) ?? new AesCbc(kc, iv, direction);
      iv.fill(0);
      return state;
    },
  },
  rc4('rc4', 128, 16),
  {
    name: '3des',
    ssf: 112,
    n: 16,
    blockSize: 8,
    weak: false,
    minMaxbuf: 17,
    create(kc, direction) {
      // Two-key EDE: K1 = Kc[0..7), K2 = Kc[7..14), K3 = K1, each spread to 8 bytes.
      const k1 = desKeyWithParity(kc.subarray(0, 7));
      const k2 = desKeyWithParity(kc.subarray(7, 14));
      const portable = new TripleDesCbc(k1, k2, k1, desIv(kc), direction);
      let state: CipherState = portable;
      if (nativeCbc) {
        // OpenSSL's des-ede-cbc (key k1 ‖ k2) is the same cipher, faster on large buffers but
        // slow to key: the stream moves to it at the first large buffer (handoff.ts).
        const key = new Uint8Array(16);
        key.set(k1);
        key.set(k2, 8);
        state = new HandoffCbc('3DES-CBC', portable, nativeCbc, 'des-ede-cbc', key, direction, 8);
      }
      k1.fill(0);
      k2.fill(0);
      return state;
    },
  },
  {
    name: 'des',
    ssf: 56,
    n: 16,
    blockSize: 8,
    weak: true,
    minMaxbuf: 17,
    create(kc, direction) {
      const k = desKeyWithParity(kc.subarray(0, 7));
      const state = new DesCbc(k, desIv(kc), direction);
      k.fill(0);
      return state;
    },
  },
  rc4('rc4-56', 56, 7),
  rc4('rc4-40', 40, 5),
];

/**
 * Every cipher, strongest first by SSF, as Cyrus ranks them (rc4 128 before 3des 112).
 * That order is also what interoperates with Debian's Cyrus, which offers 3des but
 * cannot run it under OpenSSL 3 (see README, "Interoperability").
 */
export const CIPHER_NAMES: readonly CipherName[] = SPECS.map((s) => s.name);

export function isCipherName(s: string): s is CipherName {
  return (CIPHER_NAMES as readonly string[]).includes(s);
}

export function cipherSpec(name: CipherName): CipherSpec {
  const spec = SPECS.find((s) => s.name === name);
  if (!spec) throw new DigestMD5Error('unsupported', `cipher "${name}" is not supported`);
  return spec;
}

/** The ciphers on by default: all but the weak ones, strongest first. */
export const DEFAULT_CIPHERS: readonly CipherName[] = SPECS.filter((s) => !s.weak).map((s) => s.name);
