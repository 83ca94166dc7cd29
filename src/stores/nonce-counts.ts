// The in-memory replay table: the last nonce-count accepted for each nonce, bounded by LRU
// eviction, entries expiring; a FingerprintTable (no object or string per entry) with the
// counts beside it.

import type { Clock } from './memory.js';
import { FingerprintTable, NONE, widen } from './fingerprint-table.js';

/**
 * Nonce -> last accepted nonce-count. Two nonces whose fingerprints collide would share one
 * count; the fingerprint is keyed by 64 random bits per table (see FingerprintTable).
 */
export class NonceCountTable {
  private counts = new Float64Array(0);
  private readonly table: FingerprintTable;

  constructor(
    readonly maxEntries: number,
    private readonly now: Clock,
  ) {
    this.table = new FingerprintTable(maxEntries, {
      grow: (capacity) => {
        this.counts = widen(this.counts, capacity, (n) => new Float64Array(n));
      },
      clear: (e) => {
        this.counts[e] = 0;
      },
    });
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * Accepts `nc` for `nonce` iff it is greater than the last accepted one, or is 1 for a
   * nonce not held (never seen, evicted or expired); an accepted count is kept until
   * `expiresAt` and makes its entry the most recently used.
   */
  advance(nonce: string, nc: number, expiresAt: number): boolean {
    const now = this.now();
    const t = this.table;
    let e = t.find(nonce, now);
    if (e === NONE ? nc !== 1 : nc <= this.counts[e]!) return false;
    const until = Math.max(now, expiresAt);
    if (e === NONE) e = t.insert(now, until);
    else {
      t.touch(e);
      t.expire(e, until);
    }
    this.counts[e] = nc;
    return true;
  }

  delete(nonce: string): void {
    this.table.delete(nonce);
  }
}
