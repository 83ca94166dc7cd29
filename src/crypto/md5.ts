// MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) in plain TypeScript, tuned for the many
// short inputs of DIGEST-MD5: no allocation per call but the digest, HMAC pads absorbed once.

import { stateBlock } from '../alloc.js';

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

const INIT = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476);

/**
 * Runs the compression function over `blocks` 64-byte blocks of `data` from `off`,
 * updating `s` (four words). Rounds written out, with the step constants
 * floor(abs(sin(i + 1)) * 2^32) as literals: a loop with a switch per step measured
 * about 3x slower in Node 20, a table of constants about 10%. The sixteen message words
 * are locals, not an array: 15% faster on long inputs, 35% on a single block. Each step
 * adds the constant and the message word to `a` before the round function, so only one
 * addition follows the function on the chain from step to step, and F and G are written
 * with three operations (d ^ (b & (c ^ d)), c ^ (d & (b ^ c))): 20% faster again.
 */
function compress(s: Int32Array, data: Uint8Array, off: number, blocks: number, view?: Int32Array): void {
  let a0 = s[0]!;
  let b0 = s[1]!;
  let c0 = s[2]!;
  let d0 = s[3]!;
  // Aligned input on a little-endian host: read words through a view (the caller's, whose
  // word 0 is at `off`, or one made here for a run of blocks) instead of assembling bytes.
  const aligned = LITTLE_ENDIAN && ((data.byteOffset + off) & 3) === 0;
  const words = aligned ? (view ?? (blocks > 1 ? new Int32Array(data.buffer, data.byteOffset + off, blocks * 16) : undefined)) : undefined;
  for (let n = 0; n < blocks; n++, off += 64) {
    let x0: number, x1: number, x2: number, x3: number, x4: number, x5: number, x6: number, x7: number;
    let x8: number, x9: number, x10: number, x11: number, x12: number, x13: number, x14: number, x15: number;
    if (words) {
      const w = n * 16;
      x0 = words[w]!; x1 = words[w + 1]!; x2 = words[w + 2]!; x3 = words[w + 3]!;
      x4 = words[w + 4]!; x5 = words[w + 5]!; x6 = words[w + 6]!; x7 = words[w + 7]!;
      x8 = words[w + 8]!; x9 = words[w + 9]!; x10 = words[w + 10]!; x11 = words[w + 11]!;
      x12 = words[w + 12]!; x13 = words[w + 13]!; x14 = words[w + 14]!; x15 = words[w + 15]!;
    } else {
      x0 = data[off + 0]! | (data[off + 1]! << 8) | (data[off + 2]! << 16) | (data[off + 3]! << 24);
      x1 = data[off + 4]! | (data[off + 5]! << 8) | (data[off + 6]! << 16) | (data[off + 7]! << 24);
      x2 = data[off + 8]! | (data[off + 9]! << 8) | (data[off + 10]! << 16) | (data[off + 11]! << 24);
      x3 = data[off + 12]! | (data[off + 13]! << 8) | (data[off + 14]! << 16) | (data[off + 15]! << 24);
      x4 = data[off + 16]! | (data[off + 17]! << 8) | (data[off + 18]! << 16) | (data[off + 19]! << 24);
      x5 = data[off + 20]! | (data[off + 21]! << 8) | (data[off + 22]! << 16) | (data[off + 23]! << 24);
      x6 = data[off + 24]! | (data[off + 25]! << 8) | (data[off + 26]! << 16) | (data[off + 27]! << 24);
      x7 = data[off + 28]! | (data[off + 29]! << 8) | (data[off + 30]! << 16) | (data[off + 31]! << 24);
      x8 = data[off + 32]! | (data[off + 33]! << 8) | (data[off + 34]! << 16) | (data[off + 35]! << 24);
      x9 = data[off + 36]! | (data[off + 37]! << 8) | (data[off + 38]! << 16) | (data[off + 39]! << 24);
      x10 = data[off + 40]! | (data[off + 41]! << 8) | (data[off + 42]! << 16) | (data[off + 43]! << 24);
      x11 = data[off + 44]! | (data[off + 45]! << 8) | (data[off + 46]! << 16) | (data[off + 47]! << 24);
      x12 = data[off + 48]! | (data[off + 49]! << 8) | (data[off + 50]! << 16) | (data[off + 51]! << 24);
      x13 = data[off + 52]! | (data[off + 53]! << 8) | (data[off + 54]! << 16) | (data[off + 55]! << 24);
      x14 = data[off + 56]! | (data[off + 57]! << 8) | (data[off + 58]! << 16) | (data[off + 59]! << 24);
      x15 = data[off + 60]! | (data[off + 61]! << 8) | (data[off + 62]! << 16) | (data[off + 63]! << 24);
    }
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    let t: number;
    // Round 1: F = (b & c) | (~b & d) = d ^ (b & (c ^ d)); shifts 7, 12, 17, 22.
    t = (a + (0xd76aa478 | 0) + x0 + (d ^ (b & (c ^ d)))) | 0; a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = (d + (0xe8c7b756 | 0) + x1 + (c ^ (a & (b ^ c)))) | 0; d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = (c + 0x242070db + x2 + (b ^ (d & (a ^ b)))) | 0; c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = (b + (0xc1bdceee | 0) + x3 + (a ^ (c & (d ^ a)))) | 0; b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = (a + (0xf57c0faf | 0) + x4 + (d ^ (b & (c ^ d)))) | 0; a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = (d + 0x4787c62a + x5 + (c ^ (a & (b ^ c)))) | 0; d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = (c + (0xa8304613 | 0) + x6 + (b ^ (d & (a ^ b)))) | 0; c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = (b + (0xfd469501 | 0) + x7 + (a ^ (c & (d ^ a)))) | 0; b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = (a + 0x698098d8 + x8 + (d ^ (b & (c ^ d)))) | 0; a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = (d + (0x8b44f7af | 0) + x9 + (c ^ (a & (b ^ c)))) | 0; d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = (c + (0xffff5bb1 | 0) + x10 + (b ^ (d & (a ^ b)))) | 0; c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = (b + (0x895cd7be | 0) + x11 + (a ^ (c & (d ^ a)))) | 0; b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = (a + 0x6b901122 + x12 + (d ^ (b & (c ^ d)))) | 0; a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = (d + (0xfd987193 | 0) + x13 + (c ^ (a & (b ^ c)))) | 0; d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = (c + (0xa679438e | 0) + x14 + (b ^ (d & (a ^ b)))) | 0; c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = (b + 0x49b40821 + x15 + (a ^ (c & (d ^ a)))) | 0; b = (c + ((t << 22) | (t >>> 10))) | 0;
    // Round 2: G = (b & d) | (c & ~d) = c ^ (d & (b ^ c)); shifts 5, 9, 14, 20; x index 1 + 5i.
    t = (a + (0xf61e2562 | 0) + x1 + (c ^ (d & (b ^ c)))) | 0; a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = (d + (0xc040b340 | 0) + x6 + (b ^ (c & (a ^ b)))) | 0; d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = (c + 0x265e5a51 + x11 + (a ^ (b & (d ^ a)))) | 0; c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = (b + (0xe9b6c7aa | 0) + x0 + (d ^ (a & (c ^ d)))) | 0; b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = (a + (0xd62f105d | 0) + x5 + (c ^ (d & (b ^ c)))) | 0; a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = (d + 0x02441453 + x10 + (b ^ (c & (a ^ b)))) | 0; d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = (c + (0xd8a1e681 | 0) + x15 + (a ^ (b & (d ^ a)))) | 0; c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = (b + (0xe7d3fbc8 | 0) + x4 + (d ^ (a & (c ^ d)))) | 0; b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = (a + 0x21e1cde6 + x9 + (c ^ (d & (b ^ c)))) | 0; a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = (d + (0xc33707d6 | 0) + x14 + (b ^ (c & (a ^ b)))) | 0; d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = (c + (0xf4d50d87 | 0) + x3 + (a ^ (b & (d ^ a)))) | 0; c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = (b + 0x455a14ed + x8 + (d ^ (a & (c ^ d)))) | 0; b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = (a + (0xa9e3e905 | 0) + x13 + (c ^ (d & (b ^ c)))) | 0; a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = (d + (0xfcefa3f8 | 0) + x2 + (b ^ (c & (a ^ b)))) | 0; d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = (c + 0x676f02d9 + x7 + (a ^ (b & (d ^ a)))) | 0; c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = (b + (0x8d2a4c8a | 0) + x12 + (d ^ (a & (c ^ d)))) | 0; b = (c + ((t << 20) | (t >>> 12))) | 0;
    // Round 3: H = b ^ c ^ d; shifts 4, 11, 16, 23; x index 5 + 3i.
    t = (a + (0xfffa3942 | 0) + x5 + (b ^ c ^ d)) | 0; a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = (d + (0x8771f681 | 0) + x8 + (a ^ b ^ c)) | 0; d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = (c + 0x6d9d6122 + x11 + (d ^ a ^ b)) | 0; c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = (b + (0xfde5380c | 0) + x14 + (c ^ d ^ a)) | 0; b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = (a + (0xa4beea44 | 0) + x1 + (b ^ c ^ d)) | 0; a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = (d + 0x4bdecfa9 + x4 + (a ^ b ^ c)) | 0; d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = (c + (0xf6bb4b60 | 0) + x7 + (d ^ a ^ b)) | 0; c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = (b + (0xbebfbc70 | 0) + x10 + (c ^ d ^ a)) | 0; b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = (a + 0x289b7ec6 + x13 + (b ^ c ^ d)) | 0; a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = (d + (0xeaa127fa | 0) + x0 + (a ^ b ^ c)) | 0; d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = (c + (0xd4ef3085 | 0) + x3 + (d ^ a ^ b)) | 0; c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = (b + 0x04881d05 + x6 + (c ^ d ^ a)) | 0; b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = (a + (0xd9d4d039 | 0) + x9 + (b ^ c ^ d)) | 0; a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = (d + (0xe6db99e5 | 0) + x12 + (a ^ b ^ c)) | 0; d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = (c + 0x1fa27cf8 + x15 + (d ^ a ^ b)) | 0; c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = (b + (0xc4ac5665 | 0) + x2 + (c ^ d ^ a)) | 0; b = (c + ((t << 23) | (t >>> 9))) | 0;
    // Round 4: I = c ^ (b | ~d); shifts 6, 10, 15, 21; x index 7i.
    t = (a + (0xf4292244 | 0) + x0 + (c ^ (b | ~d))) | 0; a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = (d + 0x432aff97 + x7 + (b ^ (a | ~c))) | 0; d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = (c + (0xab9423a7 | 0) + x14 + (a ^ (d | ~b))) | 0; c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = (b + (0xfc93a039 | 0) + x5 + (d ^ (c | ~a))) | 0; b = (c + ((t << 21) | (t >>> 11))) | 0;
    t = (a + 0x655b59c3 + x12 + (c ^ (b | ~d))) | 0; a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = (d + (0x8f0ccc92 | 0) + x3 + (b ^ (a | ~c))) | 0; d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = (c + (0xffeff47d | 0) + x10 + (a ^ (d | ~b))) | 0; c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = (b + (0x85845dd1 | 0) + x1 + (d ^ (c | ~a))) | 0; b = (c + ((t << 21) | (t >>> 11))) | 0;
    t = (a + 0x6fa87e4f + x8 + (c ^ (b | ~d))) | 0; a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = (d + (0xfe2ce6e0 | 0) + x15 + (b ^ (a | ~c))) | 0; d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = (c + (0xa3014314 | 0) + x6 + (a ^ (d | ~b))) | 0; c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = (b + 0x4e0811a1 + x13 + (d ^ (c | ~a))) | 0; b = (c + ((t << 21) | (t >>> 11))) | 0;
    t = (a + (0xf7537e82 | 0) + x4 + (c ^ (b | ~d))) | 0; a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = (d + (0xbd3af235 | 0) + x11 + (b ^ (a | ~c))) | 0; d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = (c + 0x2ad7d2bb + x2 + (a ^ (d | ~b))) | 0; c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = (b + (0xeb86d391 | 0) + x9 + (d ^ (c | ~a))) | 0; b = (c + ((t << 21) | (t >>> 11))) | 0;
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  s[0] = a0;
  s[1] = b0;
  s[2] = c0;
  s[3] = d0;
}

/**
 * An MD5 computation with its buffers kept for reuse: `start()` from the initial
 * state or a saved one (HMAC pads), any number of `update()`, then `finish()`.
 * Not reentrant: one computation at a time per instance.
 */
export class Md5 {
  private readonly s = new Int32Array(4);
  private readonly buf: Uint8Array;
  /** The buffer as words, for compress() on a little-endian host (5% of a 1 KiB HMAC). */
  private readonly bufWords: Int32Array | undefined;

  constructor() {
    // From the private state pool (alloc.ts): a word view of an array of its own would move
    // it out of V8's heap, ~0.7 µs per instance, and every HMAC-MD5 key has one.
    const block = stateBlock();
    this.buf = block.bytes;
    this.bufWords = LITTLE_ENDIAN ? block.words : undefined;
  }
  private used = 0;
  private length = 0; // bytes absorbed so far, including a saved state's

  start(from: Int32Array = INIT, absorbed = 0): this {
    const s = this.s; // four assignments: set() on four words costs more than it moves
    s[0] = from[0]!;
    s[1] = from[1]!;
    s[2] = from[2]!;
    s[3] = from[3]!;
    this.used = 0;
    this.length = absorbed;
    return this;
  }

  /** Absorbs data[from..to) (the whole array by default: a range saves the caller a view). */
  update(data: Uint8Array, from = 0, to = data.length): this {
    const buf = this.buf;
    let used = this.used;
    let off = from;
    this.length += to - from;
    // Short pieces, and the head that completes a partly filled block, byte by byte: a
    // subarray per call cost more than the copy (a fifth of H(A1) measured).
    if (used > 0 || to - off < 64) {
      const take = Math.min(to, off + 64 - used);
      for (; off < take; off++) buf[used++] = data[off]!;
      if (used < 64) {
        this.used = used;
        return this;
      }
      compress(this.s, buf, 0, 1, this.bufWords);
      used = 0;
    }
    const blocks = (to - off) >>> 6;
    // Whole blocks straight from the caller's bytes: no copy.
    if (blocks > 0) compress(this.s, data, off, blocks);
    off += blocks << 6;
    for (; off < to; off++) buf[used++] = data[off]!;
    this.used = used;
    return this;
  }

  /**
   * Absorbs text whose every character is below 0x100 as its ISO-8859-1 bytes, with no
   * array made for them (names and passwords are hashed a handshake at a time).
   */
  updateLatin1(text: string): this {
    const buf = this.buf;
    let used = this.used;
    this.length += text.length;
    for (let i = 0; i < text.length; i++) {
      buf[used++] = text.charCodeAt(i);
      if (used === 64) {
        compress(this.s, buf, 0, 1, this.bufWords);
        used = 0;
      }
    }
    this.used = used;
    return this;
  }

  /** The state after whole blocks only (for HMAC pads and KD's shared prefix), into `out`. */
  saveState(out: Int32Array): Int32Array {
    if (this.used !== 0) throw new RangeError('MD5 state can be saved only on a block boundary');
    out.set(this.s);
    return out;
  }

  /** Writes the 16-byte digest into `out` at `at` (a new array when omitted). */
  finish(out: Uint8Array = new Uint8Array(16), at = 0): Uint8Array {
    const buf = this.buf;
    let used = this.used;
    buf[used++] = 0x80;
    if (used > 56) {
      buf.fill(0, used, 64);
      compress(this.s, buf, 0, 1, this.bufWords);
      used = 0;
    }
    buf.fill(0, used, 56);
    const bits = this.length * 8;
    const lo = bits >>> 0;
    const hi = Math.floor(bits / 2 ** 32) >>> 0;
    buf[56] = lo;
    buf[57] = lo >>> 8;
    buf[58] = lo >>> 16;
    buf[59] = lo >>> 24;
    buf[60] = hi;
    buf[61] = hi >>> 8;
    buf[62] = hi >>> 16;
    buf[63] = hi >>> 24;
    compress(this.s, buf, 0, 1, this.bufWords);
    return digestBytes(this.s, out, at);
  }
}

// One shared instance for one-shot hashing: callers never interleave (no await inside).
const shared = new Md5();

/** MD5 over the concatenation of `parts`. */
export function md5(...parts: Uint8Array[]): Uint8Array {
  shared.start();
  for (const p of parts) shared.update(p);
  return shared.finish();
}

// What every HMAC-MD5 state runs its messages through, one message at a time (mac() never
// yields, so no two interleave): an MD5 computation, the outer hash's block and its state.
// Shared, so that keying an HMAC makes two 16-byte states and nothing else: with buffers of
// its own it made ten arrays, and a layer pair keys four HMACs (auth-int handshakes measured
// 7% faster without them). What a message leaves in them is the next message's to overwrite.
const macHasher = new Md5();
const outerBlock = stateBlock();
// The outer hash's only block, its padding written once: the inner digest (16 bytes),
// 0x80, zeros, and the length of opad ‖ digest, 640 bits. Only the digest changes.
outerBlock.bytes[16] = 0x80;
outerBlock.bytes[56] = 640 & 0xff;
outerBlock.bytes[57] = 640 >>> 8;
const outerWords = LITTLE_ENDIAN ? outerBlock.words : undefined;
const outerState = new Int32Array(4);

// One block written as sixteen message words (little-endian, as MD5 reads them), for inputs
// whose layout is known: HMAC pad blocks and the layer keys' hashes. No byte buffer, no
// streaming state: keying an HMAC measured 430 -> 320 ns this way against update().
const wordBlock = stateBlock();
const keyWords = new Int32Array(16);

/** Compresses wordBlock.words (sixteen words) into `s`. */
function compressWordBlock(s: Int32Array): void {
  const w = wordBlock.words;
  if (!LITTLE_ENDIAN) {
    // compress() reads bytes on a big-endian host: store each word's bytes in MD5's order.
    for (let i = 0; i < 16; i++) {
      const v = w[i]!;
      w[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
    }
  }
  compress(s, wordBlock.bytes, 0, 1, LITTLE_ENDIAN ? w : undefined);
}

/** Writes the 16 bytes of the state `s` (an MD5 digest) into `out` at `at`. */
function digestBytes(s: Int32Array, out: Uint8Array, at: number): Uint8Array {
  for (let i = 0; i < 4; i++) {
    const w = s[i]!;
    out[at + 4 * i] = w;
    out[at + 4 * i + 1] = w >>> 8;
    out[at + 4 * i + 2] = w >>> 16;
    out[at + 4 * i + 3] = w >>> 24;
  }
  return out;
}

/** Reads `bytes` (at most 64) as little-endian words into w[0..16), zero-padded. */
function wordsOf(bytes: Uint8Array, w: Int32Array): void {
  w.fill(0);
  for (let i = 0; i < bytes.length; i++) w[i >> 2]! |= bytes[i]! << (8 * (i & 3));
}

/**
 * The last 112 bytes of the two blocks of MD5(16-byte key ‖ `constant`) as 28 words, the
 * padding and length included, for md5KeyAnd(): `constant` is 48..103 bytes, so that the
 * key and the constant's first 48 bytes fill the first block and the rest fits the second.
 */
export function prepareKeySuffix(constant: Uint8Array): Int32Array {
  if (constant.length < 48 || constant.length > 103) throw new RangeError('the constant must be 48..103 bytes');
  const msg = new Uint8Array(128);
  msg.set(constant, 16);
  msg[16 + constant.length] = 0x80;
  const bits = (16 + constant.length) * 8;
  msg[120] = bits & 0xff;
  msg[121] = bits >>> 8;
  const words = new Int32Array(28);
  for (let i = 0; i < 28; i++) {
    const o = 16 + 4 * i;
    words[i] = msg[o]! | (msg[o + 1]! << 8) | (msg[o + 2]! << 16) | (msg[o + 3]! << 24);
  }
  return words;
}

/** MD5(key ‖ constant) for a 16-byte key and a constant prepared by prepareKeySuffix(). */
export function md5KeyAnd(key: Uint8Array, suffix: Int32Array, out: Uint8Array = new Uint8Array(16)): Uint8Array {
  if (key.length !== 16 || suffix.length !== 28) throw new RangeError('md5KeyAnd takes a 16-byte key and a prepared suffix');
  const w = wordBlock.words;
  const s = outerState;
  s.set(INIT);
  for (let i = 0; i < 4; i++) w[i] = key[4 * i]! | (key[4 * i + 1]! << 8) | (key[4 * i + 2]! << 16) | (key[4 * i + 3]! << 24);
  for (let i = 4; i < 16; i++) w[i] = suffix[i - 4]!;
  compressWordBlock(s);
  for (let i = 0; i < 16; i++) w[i] = suffix[12 + i]!;
  compressWordBlock(s);
  w.fill(0, 0, 4); // the key's words
  digestBytes(s, out, 0);
  s.fill(0);
  return out;
}

/** HMAC-MD5 keyed once: the inner and outer pad blocks are absorbed a single time. */
export class HmacMd5State {
  /**
   * The states after (key ⊕ ipad), words 0..3, and after (key ⊕ opad), words 4..7: one array
   * for both (a layer pair keys four HMACs, and each array is an allocation). With `keepKey`,
   * a key of up to 16 bytes follows as words 8..11.
   */
  private readonly pads: Int32Array;
  /** The kept key's length when its words follow the pads; -1 otherwise. */
  private readonly keptLength: number;
  /** A kept key longer than 16 bytes, in an array of its own. */
  private readonly longKey: Uint8Array | undefined;

  /** `keepKey`: for a subclass that hands some messages to another implementation (see key()). */
  constructor(key: Uint8Array, keepKey = false) {
    const short = keepKey && key.length <= 16;
    this.pads = new Int32Array(short ? 12 : 8);
    this.keptLength = short ? key.length : -1;
    this.longKey = keepKey && !short ? key.slice() : undefined;
    // RFC 2104: the key zero-padded to a block. Its words beyond the key's length are zero, so
    // those of each pad block are the pad's constant: only the key's own words are XORed.
    const k = keyWords;
    const keyBytes = key.length > 64 ? md5(key) : key;
    wordsOf(keyBytes, k);
    if (short) for (let i = 0; i < 4; i++) this.pads[8 + i] = k[i]!;
    const used = (keyBytes.length + 3) >> 2;
    const w = wordBlock.words;
    const s = this.pads;
    for (let i = 0; i < used; i++) w[i] = k[i]! ^ 0x36363636;
    w.fill(0x36363636, used);
    s[0] = INIT[0]!;
    s[1] = INIT[1]!;
    s[2] = INIT[2]!;
    s[3] = INIT[3]!;
    compressWordBlock(s);
    for (let i = 0; i < used; i++) w[i] = k[i]! ^ 0x5c5c5c5c;
    w.fill(0x5c5c5c5c, used);
    const o = outerState;
    o[0] = INIT[0]!;
    o[1] = INIT[1]!;
    o[2] = INIT[2]!;
    o[3] = INIT[3]!;
    compressWordBlock(o);
    s[4] = o[0]!;
    s[5] = o[1]!;
    s[6] = o[2]!;
    s[7] = o[3]!;
    o.fill(0);
    k.fill(0, 0, used);
    w.fill(0, 0, used);
  }

  /** HMAC over `head` ‖ `body` (two arguments, not a rest list: no array per call), into `out` when given. */
  mac(head: Uint8Array, body?: Uint8Array, out: Uint8Array = new Uint8Array(16)): Uint8Array {
    const p = this.pads;
    const h = macHasher.start(p, 64).update(head);
    if (body !== undefined) h.update(body);
    h.finish(outerBlock.bytes);
    // The outer hash as one compression of the prepared block: measured ~2% of a 1 KiB HMAC
    // against an update() and finish() of the 16-byte digest.
    const s = outerState;
    s[0] = p[4]!;
    s[1] = p[5]!;
    s[2] = p[6]!;
    s[3] = p[7]!;
    compress(s, outerBlock.bytes, 0, 1, outerWords);
    return digestBytes(s, out, 0);
  }

  /**
   * The key kept with `keepKey`, in a new array each time for the caller to wipe after use.
   * Kept as words beside the pads, a 16-byte key costs no array of its own per HMAC.
   */
  protected key(): Uint8Array {
    if (this.longKey !== undefined) return this.longKey.slice();
    if (this.keptLength < 0) throw new Error('internal: this HMAC state did not keep its key');
    const out = new Uint8Array(this.keptLength);
    for (let i = 0; i < out.length; i++) out[i] = this.pads[8 + (i >> 2)]! >>> (8 * (i & 3));
    return out;
  }

  /** Wipes the keyed states (and a kept key): the MACs this object computes afterwards are worthless. */
  destroy(): void {
    this.pads.fill(0);
    this.longKey?.fill(0);
  }
}
