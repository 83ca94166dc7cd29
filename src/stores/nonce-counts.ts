// The in-memory replay table: the last nonce-count accepted for each nonce, held in
// typed arrays (no object or string per entry), bounded by LRU eviction, entries expiring.
//
// A server at capacity keeps 100,000 of these. As a Map of strings to linked entry objects
// they were a twelfth of a handshake (the collector marking them, the map's churn); here a
// nonce is kept as a 64-bit keyed fingerprint in an open-addressed table, and every
// operation is O(1) with nothing allocated once the table has grown to its size.

import { randomBytes } from '#crypto';
import type { Clock } from './memory.js';

const NONE = -1;
const FIRST_CAPACITY = 1024;

/** The murmur3 finaliser: every input bit reaches every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Nonce -> last accepted nonce-count. Two nonces whose fingerprints collide would share one
 * count; the fingerprint is keyed by 64 random bits per table, so nobody can aim for that,
 * and by chance it happens about once in 2^64 / n inserts with n entries held.
 */
export class NonceCountTable {
  private readonly seedA: number;
  private readonly seedB: number;
  /** Entry arrays, `capacity` long; an entry's index is its identity. */
  private fpA = new Int32Array(0);
  private fpB = new Int32Array(0);
  private counts = new Float64Array(0);
  private expires = new Float64Array(0);
  /** The LRU list through the entries (older/newer); `newer` also links the free list. */
  private older = new Int32Array(0);
  private newer = new Int32Array(0);
  /** Open addressing, linear probing: entry index + 1, 0 for an empty slot. */
  private slots = new Int32Array(0);
  private mask = 0;
  private capacity = 0;
  private count = 0;
  private oldest = NONE;
  private newest = NONE;
  private free = NONE;

  constructor(
    readonly maxEntries: number,
    private readonly now: Clock,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    const seed = randomBytes(8);
    // Signed 32-bit values: a seed of 2^31 or more kept unsigned is a double to V8, and the
    // hash loops that start from it then ran 2.5x slower (~430 against ~175 ns for a nonce,
    // in the three processes of four whose random seeds had the top bit set).
    this.seedA = seed[0]! | (seed[1]! << 8) | (seed[2]! << 16) | (seed[3]! << 24);
    this.seedB = seed[4]! | (seed[5]! << 8) | (seed[6]! << 16) | (seed[7]! << 24);
    this.grow(Math.min(maxEntries, FIRST_CAPACITY));
  }

  get size(): number {
    return this.count;
  }

  /**
   * Accepts `nc` for `nonce` iff it is greater than the last accepted one, or is 1 for a
   * nonce not held (never seen, evicted or expired); an accepted count is kept until
   * `expiresAt` and makes its entry the most recently used.
   */
  advance(nonce: string, nc: number, expiresAt: number): boolean {
    const now = this.now();
    this.fingerprint(nonce);
    const a = this.fa;
    const b = this.fb;
    let e = this.find(a, b);
    if (e !== NONE && this.expires[e]! <= now) {
      this.remove(e);
      e = NONE;
    }
    if (e === NONE ? nc !== 1 : nc <= this.counts[e]!) return false;
    if (e === NONE) e = this.insert(a, b, now);
    else this.unlink(e);
    this.counts[e] = nc;
    this.expires[e] = Math.max(now, expiresAt);
    this.append(e);
    return true;
  }

  delete(nonce: string): void {
    this.fingerprint(nonce);
    const e = this.find(this.fa, this.fb);
    if (e !== NONE) this.remove(e);
  }

  /** The last fingerprint computed. */
  private fa = 0;
  private fb = 0;

  /** Two independent 32-bit hashes of the text's UTF-16 code units, into fa and fb. */
  private fingerprint(text: string): void {
    let a = this.seedA;
    let b = this.seedB;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x9e3779b1);
      a ^= a >>> 15;
      b = Math.imul(b + c, 0x85ebca77);
      b ^= b >>> 13;
    }
    this.fa = fmix32(a ^ text.length);
    this.fb = fmix32(b ^ Math.imul(text.length, 0x27d4eb2f));
  }

  /** The entry of fingerprint (a, b), or NONE. */
  private find(a: number, b: number): number {
    const slots = this.slots;
    for (let s = a & this.mask; ; s = (s + 1) & this.mask) {
      const v = slots[s]!;
      if (v === 0) return NONE;
      const e = v - 1;
      if (this.fpA[e] === a && this.fpB[e] === b) return e;
    }
  }

  /** A new entry for (a, b), unlinked: expired and surplus entries go first, from the old end. */
  private insert(a: number, b: number, now: number): number {
    while (this.oldest !== NONE && (this.count >= this.maxEntries || this.expires[this.oldest]! <= now)) this.remove(this.oldest);
    if (this.free === NONE) this.grow(Math.min(this.maxEntries, this.capacity * 2));
    const e = this.free;
    this.free = this.newer[e]!;
    this.fpA[e] = a;
    this.fpB[e] = b;
    let s = a & this.mask;
    while (this.slots[s] !== 0) s = (s + 1) & this.mask;
    this.slots[s] = e + 1;
    this.count++;
    return e;
  }

  /** Unlinks an entry, takes it out of the table (backward-shift deletion) and frees it. */
  private remove(e: number): void {
    this.unlink(e);
    const slots = this.slots;
    const mask = this.mask;
    let hole = this.fpA[e]! & mask;
    while (slots[hole] !== e + 1) hole = (hole + 1) & mask;
    // Later entries of the probe run move back into the hole unless their home lies after it.
    for (let s = (hole + 1) & mask; slots[s] !== 0; s = (s + 1) & mask) {
      const home = this.fpA[slots[s]! - 1]! & mask;
      const between = hole <= s ? hole < home && home <= s : hole < home || home <= s;
      if (!between) {
        slots[hole] = slots[s]!;
        hole = s;
      }
    }
    slots[hole] = 0;
    this.newer[e] = this.free;
    this.free = e;
    this.count--;
  }

  private append(e: number): void {
    this.older[e] = this.newest;
    this.newer[e] = NONE;
    if (this.newest !== NONE) this.newer[this.newest] = e;
    else this.oldest = e;
    this.newest = e;
  }

  private unlink(e: number): void {
    const o = this.older[e]!;
    const n = this.newer[e]!;
    if (o !== NONE) this.newer[o] = n;
    else this.oldest = n;
    if (n !== NONE) this.older[n] = o;
    else this.newest = o;
  }

  /** Grows the entry arrays to `capacity` (the table to twice that, a power of two) and rehashes. */
  private grow(capacity: number): void {
    const old = this.capacity;
    const widen = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.fpA = widen(this.fpA, (n) => new Int32Array(n));
    this.fpB = widen(this.fpB, (n) => new Int32Array(n));
    this.counts = widen(this.counts, (n) => new Float64Array(n));
    this.expires = widen(this.expires, (n) => new Float64Array(n));
    this.older = widen(this.older, (n) => new Int32Array(n));
    this.newer = widen(this.newer, (n) => new Int32Array(n));
    let size = 1;
    while (size < capacity * 2) size <<= 1;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    this.capacity = capacity;
    // Growing waits for an empty free list, so every entry below `old` is live. The new ones join the free list.
    for (let e = 0; e < old; e++) {
      let s = this.fpA[e]! & this.mask;
      while (this.slots[s] !== 0) s = (s + 1) & this.mask;
      this.slots[s] = e + 1;
    }
    for (let e = capacity - 1; e >= old; e--) {
      this.newer[e] = this.free;
      this.free = e;
    }
  }
}
