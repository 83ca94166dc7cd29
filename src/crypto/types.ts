// The primitives the mechanism needs, as one interface that both crypto backends
// implement: `portable.ts` (JavaScript, every runtime) and `node.ts` (node:crypto).

/** HMAC-MD5 (RFC 2104) with the key's inner and outer pads computed once. */
export interface HmacMd5 {
  /**
   * HMAC over `head` ‖ `body` (the security layer's sequence number and message), written
   * into `out` when given (16 bytes; no array per message), else into a new array.
   */
  mac(head: Uint8Array, body?: Uint8Array, out?: Uint8Array): Uint8Array;
  /** Wipes the key and the keyed states; the object is not to be used afterwards. */
  destroy(): void;
}

/** A CBC cipher from the platform, carrying its chain across calls (no padding). */
export interface NativeCbc {
  process(input: Uint8Array, output?: Uint8Array): Uint8Array;
  destroy(): void;
}

export type NativeCbcAlgorithm = 'des-ede-cbc' | 'aes-128-cbc';

/** Makes a platform CBC cipher, or returns undefined when the platform refuses the algorithm. */
export type NativeCbcFactory = (
  algorithm: NativeCbcAlgorithm,
  key: Uint8Array,
  iv: Uint8Array,
  direction: 'encrypt' | 'decrypt',
) => NativeCbc | undefined;

export interface CryptoBackend {
  readonly backend: 'node' | 'portable';
  /** MD5 (RFC 1321) over the concatenation of `parts`. */
  md5(...parts: Uint8Array[]): Uint8Array;
  hmacMd5(key: Uint8Array): HmacMd5;
  /** Bytes from the platform CSPRNG. */
  randomBytes(n: number): Uint8Array;
  /** `n` bytes from the platform CSPRNG written into `out` at `at`; returns `out`. */
  randomInto(out: Uint8Array, at: number, n: number): Uint8Array;
  /** Platform ciphers that beat the portable ones, or undefined where there are none. */
  readonly nativeCbc: NativeCbcFactory | undefined;
}
