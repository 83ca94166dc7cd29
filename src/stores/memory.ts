// In-memory stores for server sessions: a bounded LRU cache with per-entry expiry,
// and the default NonceStore on top of it. A shared store (Redis, a database)
// implements the same NonceStore contract and plugs in instead.

/** Milliseconds since the epoch; injectable so tests control time. */
export type Clock = () => number;

/**
 * A map bounded in entry count, each entry with an expiry time. Reading an entry
 * makes it most recently used; inserting past the bound evicts the least recently
 * used; expired entries are dropped when met and by `sweep()`.
 */
export class LruTtlCache<K, V> {
  private readonly map = new Map<K, { value: V; expiresAt: number }>();

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
    this.map.delete(key);
    if (e.expiresAt <= this.now()) return undefined;
    this.map.set(key, e); // Map keeps insertion order: re-inserting marks it most recently used
    return e.value;
  }

  set(key: K, value: V, ttlMs: number): void {
    const now = this.now();
    this.map.delete(key);
    this.map.set(key, { value, expiresAt: now + ttlMs });
    // Amortised O(1): drop expired entries from the least recently used end (with one TTL per
    // cache that end expires first), then the least recently used while over the bound. A full
    // sweep here made every insert O(n) once the cache was full (measured: half a handshake).
    for (const [k, e] of this.map) {
      if (this.map.size > this.maxEntries || e.expiresAt <= now) this.map.delete(k);
      else break;
    }
  }

  /** Removes and returns an entry (undefined when absent or expired). */
  take(key: K): V | undefined {
    const v = this.get(key);
    this.map.delete(key);
    return v;
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  /** Drops every expired entry. */
  sweep(): void {
    const t = this.now();
    for (const [k, e] of this.map) if (e.expiresAt <= t) this.map.delete(k);
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
  /** Accepts `nc` for `nonce` iff it is greater than the last accepted one (or 1 for an unknown nonce). */
  advance(nonce: string, nc: number, expiresAt: number): Promise<boolean>;
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

/** The default NonceStore: in process, bounded (LRU), entries expire. */
export class MemoryNonceStore implements NonceStore {
  private readonly cache: LruTtlCache<string, number>;
  private readonly now: Clock;

  constructor(o: MemoryNonceStoreOptions = {}) {
    this.now = o.now ?? Date.now;
    this.cache = new LruTtlCache(o.maxEntries ?? 100_000, this.now);
  }

  get size(): number {
    return this.cache.size;
  }

  async advance(nonce: string, nc: number, expiresAt: number): Promise<boolean> {
    // Synchronous inside: check and update cannot interleave with another call.
    const last = this.cache.get(nonce);
    if (last === undefined ? nc !== 1 : nc <= last) return false;
    this.cache.set(nonce, nc, Math.max(0, expiresAt - this.now()));
    return true;
  }

  async delete(nonce: string): Promise<void> {
    this.cache.delete(nonce);
  }
}
