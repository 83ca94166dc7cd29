import { expect } from 'chai';
import { randomTableRuns } from './helpers/util.js';
import { NonceCountTable } from '../dist/stores/nonce-counts.js';

/** The same contract written the plain way: a Map in LRU order (re-inserted on use). */
class ModelTable {
  private readonly m = new Map<string, { nc: number; expires: number }>();
  constructor(
    private readonly max: number,
    private readonly now: () => number,
  ) {}
  get size(): number {
    return this.m.size;
  }
  advance(nonce: string, nc: number, expiresAt: number): boolean {
    const now = this.now();
    let e = this.m.get(nonce);
    if (e !== undefined && e.expires <= now) {
      this.m.delete(nonce);
      e = undefined;
    }
    if (e === undefined ? nc !== 1 : nc <= e.nc) return false;
    if (e === undefined) {
      for (const [k, v] of this.m) {
        if (this.m.size < this.max && v.expires > now) break;
        this.m.delete(k);
      }
    } else this.m.delete(nonce);
    this.m.set(nonce, { nc, expires: Math.max(now, expiresAt) });
    return true;
  }
  delete(nonce: string): void {
    this.m.delete(nonce);
  }
}

describe('NonceCountTable (the in-memory replay store)', () => {
  it('accepts 1 for an unknown nonce, then only higher counts', () => {
    const t = new NonceCountTable(10, () => 0);
    expect(t.advance('n', 2, 1000)).to.equal(false);
    expect(t.advance('n', 1, 1000)).to.equal(true);
    expect(t.advance('n', 1, 1000)).to.equal(false);
    expect(t.advance('n', 5, 1000)).to.equal(true);
    expect(t.advance('n', 4, 1000)).to.equal(false);
    expect(t.advance('n', 0xffffffff, 1000)).to.equal(true);
    expect(t.advance('m', 1, 1000)).to.equal(true);
    expect(t.size).to.equal(2);
    t.delete('n');
    expect(t.size).to.equal(1);
    expect(t.advance('n', 6, 1000)).to.equal(false); // forgotten: unknown again
    t.delete('never-seen');
    expect(t.size).to.equal(1);
  });

  it('forgets an entry at its expiry and evicts the least recently used past the bound', () => {
    let now = 0;
    const t = new NonceCountTable(2, () => now);
    t.advance('a', 1, 100);
    t.advance('b', 1, 100);
    t.advance('a', 2, 100); // a is now the most recently used
    t.advance('c', 1, 100); // evicts b
    expect(t.size).to.equal(2);
    expect(t.advance('b', 2, 100)).to.equal(false);
    expect(t.advance('a', 3, 100)).to.equal(true);
    now = 100;
    expect(t.advance('a', 4, 200)).to.equal(false); // expired: unknown, so only 1 goes
    expect(t.advance('c', 1, 200)).to.equal(true);
  });

  it('matches the plain Map model over random operations, through growth, eviction and expiry', () => {
    randomTableRuns(40_000, (max, now) => {
      const table = new NonceCountTable(max, now);
      const model = new ModelTable(max, now);
      return {
        op(i, key, random) {
          const r = random();
          if (r < 0.05) {
            table.delete(key);
            model.delete(key);
          } else {
            const nc = r < 0.5 ? 1 : 1 + Math.floor(random() * 6);
            const expiresAt = now() + Math.floor(random() * 50);
            expect(table.advance(key, nc, expiresAt), `op ${i}`).to.equal(model.advance(key, nc, expiresAt));
          }
        },
        sizes: () => [table.size, model.size],
      };
    });
  });

  it('holds its bound at 100,000 distinct nonces', () => {
    const t = new NonceCountTable(1000, () => 0);
    for (let i = 0; i < 100_000; i++) expect(t.advance(`n${i}`, 1, 1)).to.equal(true);
    expect(t.size).to.equal(1000);
    expect(t.advance('n99999', 2, 1)).to.equal(true);
    expect(t.advance('n98999', 2, 1)).to.equal(false); // evicted
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new NonceCountTable(0, Date.now)).to.throw(RangeError);
    expect(() => new NonceCountTable(1.5, Date.now)).to.throw(RangeError);
  });
});
