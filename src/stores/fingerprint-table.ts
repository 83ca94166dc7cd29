// The part the in-memory server stores share: strings (nonces) kept as keyed 64-bit
// fingerprints in an open-addressed table of typed arrays, each entry with an expiry time
// and a place in least-recently-used order, bounded in count. What an entry holds is its
// owner's business, in arrays of its own indexed by the entry number.
//
// A server at capacity keeps 100,000 replay entries and 10,000 cached contexts. As Maps of
// strings to objects they were a twelfth of a handshake, and the cached contexts another
// tenth: every object a full cache keeps survives the young generation and is copied out of
// it, only to be dropped from the old one later. Here nothing is allocated per entry once
// the arrays have grown to their size, and every operation is O(1).

import { randomBytes } from '#crypto';

export const NONE = -1;
const FIRST_CAPACITY = 1024;

/** The murmur3 finaliser: every input bit reaches every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** What an owner does with its own per-entry arrays. */
export interface EntryArrays {
  /** Widen every per-entry array to `capacity` entries, keeping entries 0..old. */
  grow(capacity: number): void;
  /** Entry `e` is leaving the table (evicted, expired or deleted): wipe what it held. */
  clear(e: number): void;
}

/** `a` widened to `capacity` elements, its contents kept. */
export function widen<T extends Int32Array | Float64Array | Uint8Array>(a: T, capacity: number, make: (n: number) => T): T {
  const b = make(capacity);
  b.set(a);
  return b;
}

/**
 * Keys (strings) to entry numbers, 0..capacity. Two keys whose fingerprints collide share
 * an entry; the fingerprint is keyed by 64 random bits per table, so nobody can aim for
 * that, and by chance it happens about once in 2^64 / n inserts with n entries held.
 */
export class FingerprintTable {
  private readonly seedA: number;
  private readonly seedB: number;
  /** Per entry: the fingerprint, the expiry time, and the LRU links (`newer` also links the free list). */
  private fpA = new Int32Array(0);
  private fpB = new Int32Array(0);
  private expires = new Float64Array(0);
  private older = new Int32Array(0);
  private newer = new Int32Array(0);
  /** Open addressing, linear probing: entry number + 1, 0 for an empty slot. */
  private slots = new Int32Array(0);
  private mask = 0;
  private capacity = 0;
  private count = 0;
  private oldest = NONE;
  private newest = NONE;
  private free = NONE;
  /** The fingerprint of the key last looked up, for insert(). */
  private fa = 0;
  private fb = 0;

  constructor(
    readonly maxEntries: number,
    private readonly owner: EntryArrays,
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
   * The entry of `key`, or NONE; an entry that has expired at `now` is removed and NONE
   * returned. Remembers the key's fingerprint for insert(). Leaves the LRU order alone.
   */
  find(key: string, now: number): number {
    this.fingerprint(key);
    const a = this.fa;
    const b = this.fb;
    const slots = this.slots;
    for (let s = a & this.mask; ; s = (s + 1) & this.mask) {
      const v = slots[s]!;
      if (v === 0) return NONE;
      const e = v - 1;
      if (this.fpA[e] === a && this.fpB[e] === b) {
        if (this.expires[e]! > now) return e;
        this.remove(e);
        return NONE;
      }
    }
  }

  /**
   * A new entry for the key find() last looked up (and did not find), the most recently used,
   * expiring at `expiresAt`: expired and surplus entries go first, from the old end.
   */
  insert(now: number, expiresAt: number): number {
    while (this.oldest !== NONE && (this.count >= this.maxEntries || this.expires[this.oldest]! <= now)) this.remove(this.oldest);
    if (this.free === NONE) this.grow(Math.min(this.maxEntries, this.capacity * 2));
    const e = this.free;
    this.free = this.newer[e]!;
    const a = this.fa;
    this.fpA[e] = a;
    this.fpB[e] = this.fb;
    let s = a & this.mask;
    while (this.slots[s] !== 0) s = (s + 1) & this.mask;
    this.slots[s] = e + 1;
    this.count++;
    this.expires[e] = expiresAt;
    this.append(e);
    return e;
  }

  /** Sets when an entry expires. */
  expire(e: number, at: number): void {
    this.expires[e] = at;
  }

  /** Makes an entry the most recently used. */
  touch(e: number): void {
    this.unlink(e);
    this.append(e);
  }

  /** Removes the entry of `key`, if held. */
  delete(key: string): void {
    const e = this.find(key, -Infinity);
    if (e !== NONE) this.remove(e);
  }

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

  /** Unlinks an entry, takes it out of the table (backward-shift deletion), clears and frees it. */
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
    this.owner.clear(e);
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
    const int32 = (n: number) => new Int32Array(n);
    this.fpA = widen(this.fpA, capacity, int32);
    this.fpB = widen(this.fpB, capacity, int32);
    this.expires = widen(this.expires, capacity, (n) => new Float64Array(n));
    this.older = widen(this.older, capacity, int32);
    this.newer = widen(this.newer, capacity, int32);
    this.owner.grow(capacity);
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
