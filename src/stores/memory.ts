// In-memory stores: a bounded LRU cache of any values with per-entry expiry (the client's
// context cache uses it; the server's own stores are typed-array tables, see
// fingerprint-table.ts), and the default NonceStore. A shared store (Redis, a database)
// implements the same NonceStore contract and plugs in instead.

import { NonceCountTable } from './nonce-counts.js';

/** Milliseconds since the epoch; injectable so tests control time. */
export type Clock = () => number;

interface Entry<K, V> {
  key: K;
  value: V;
  expiresAt: number;
  older: Entry<K, V> | undefined;
  newer: Entry<K, V> | undefined;
}

/**
 * A map bounded in entry count, each entry with an expiry time. Reading an entry
 * makes it most recently used; inserting past the bound evicts the least recently
 * used; expired entries are dropped when met, from the old end on every insert,
 * and by `sweep()`. Every operation is O(1): a Map for lookup and a doubly linked
 * list for age (iterating a Map from its head after many deletions is not O(1) in
 * V8 — the deleted slots stay until a rehash — measured at 6.7 µs per insert).
 */
export class LruTtlCache<K, V> {
  private readonly map = new Map<K, Entry<K, V>>();
  private oldest: Entry<K, V> | undefined;
  private newest: Entry<K, V> | undefined;

  constructor(
    readonly maxEntries: number,
    private readonly now: Clock,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.remove(e);
      return undefined;
    }
    this.unlink(e);
    this.append(e);
    return e.value;
  }

  set(key: K, value: V, ttlMs: number): void {
    const now = this.now();
    const old = this.map.get(key);
    if (old) this.remove(old);
    // With one TTL per cache the old end expires first: drop what has, and what leaves no room.
    // The last entry dropped is reused for the new one: a cache at its bound then allocates nothing.
    let e: Entry<K, V> | undefined;
    while (this.oldest && (this.map.size >= this.maxEntries || this.oldest.expiresAt <= now)) {
      e = this.oldest;
      this.remove(e);
    }
    if (e === undefined) e = { key, value, expiresAt: now + ttlMs, older: undefined, newer: undefined };
    else {
      e.key = key;
      e.value = value;
      e.expiresAt = now + ttlMs;
    }
    this.map.set(key, e);
    this.append(e);
  }

  /** Removes and returns an entry (undefined when absent or expired). */
  take(key: K): V | undefined {
    const v = this.get(key);
    this.delete(key);
    return v;
  }

  delete(key: K): void {
    const e = this.map.get(key);
    if (e) this.remove(e);
  }

  /** Drops every expired entry. */
  sweep(): void {
    const t = this.now();
    for (const e of [...this.map.values()]) if (e.expiresAt <= t) this.remove(e);
  }

  private append(e: Entry<K, V>): void {
    e.older = this.newest;
    e.newer = undefined;
    if (this.newest) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
  }

  private unlink(e: Entry<K, V>): void {
    if (e.older) e.older.newer = e.newer;
    else this.oldest = e.newer;
    if (e.newer) e.newer.older = e.older;
    else this.newest = e.older;
    e.older = e.newer = undefined;
  }

  private remove(e: Entry<K, V>): void {
    this.unlink(e);
    this.map.delete(e.key);
  }
}

/**
 * Replay detection (RFC 2831 §2.2.2): the last nonce-count accepted for each nonce.
 *
 * Contract for implementations: `advance` is atomic per nonce — of concurrent calls
 * with the same nonce and nc at most one resolves true — and it never moves the
 * count backwards. Callers call it only after the response has been verified, so a
 * failed attempt does not advance the count. Entries may be dropped after
 * `expiresAt`; a dropped nonce is then unknown, and unknown nonces are refused by
 * `advance` unless nc is 1 (a first authentication).
 */
export interface NonceStore {
  /**
   * Accepts `nc` for `nonce` iff it is greater than the last accepted one (or 1 for an
   * unknown nonce). A store that knows at once may answer at once: the in-memory one does,
   * since awaiting it cost a turn of the microtask queue on every authentication.
   */
  advance(nonce: string, nc: number, expiresAt: number): Promise<boolean> | boolean;
  /** Forgets a nonce. */
  delete(nonce: string): Promise<void>;
  /** Entries held, for monitoring (may be approximate for shared stores). */
  readonly size: number;
}

export interface MemoryNonceStoreOptions {
  /** Default 100000. */
  maxEntries?: number;
  now?: Clock;
}

/**
 * The default NonceStore: in process, bounded (LRU), entries expire. It keeps a keyed
 * 64-bit fingerprint of each nonce, not the nonce (see NonceCountTable).
 */
export class MemoryNonceStore implements NonceStore {
  private readonly table: NonceCountTable;

  constructor(o: MemoryNonceStoreOptions = {}) {
    this.table = new NonceCountTable(o.maxEntries ?? 100_000, o.now ?? Date.now);
  }

  get size(): number {
    return this.table.size;
  }

  /** Synchronous: check and update cannot interleave with another call. */
  advance(nonce: string, nc: number, expiresAt: number): boolean {
    return this.table.advance(nonce, nc, expiresAt);
  }

  async delete(nonce: string): Promise<void> {
    this.table.delete(nonce);
  }
}
