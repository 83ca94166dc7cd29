// The server's cache of authenticated contexts (src/stores/context-table.ts), against the
// plain LruTtlCache it replaced as a model, and for what it must not keep.
import { expect } from 'chai';
import { randomTableRuns } from './helpers/util.js';
import { ContextTable, MAX_KEPT_CNONCE, type AuthContext } from '../dist/stores/context-table.js';
import { LruTtlCache } from '../dist/stores/memory.js';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

function context(i: number, cnonceLength = 22): AuthContext {
  return {
    username: `user${i % 7}`,
    realm: i % 3 === 0 ? '' : 'example.org',
    authzid: i % 5 === 0 ? `admin${i}` : undefined,
    ha1: bytes(16, (i % 251) + 1),
    cnonce: bytes(cnonceLength, (i % 13) + 1),
    digestUri: `imap/host${i % 2}`,
    qop: 'auth',
    cipher: i % 4 === 0 ? 'rc4' : undefined,
  };
}

/** A context as plain data, for deep comparison. */
const plain = (c: AuthContext | undefined) => c && { ...c, ha1: Array.from(c.ha1), cnonce: Array.from(c.cnonce) };

describe('ContextTable (the cached contexts of subsequent authentication)', () => {
  it('gives back what was kept, as copies, and keeps copies', () => {
    const t = new ContextTable(10, () => 0);
    const c = context(5);
    t.set('n1', c, 1000);
    c.ha1.fill(0xee);
    c.cnonce.fill(0xee);
    const got = t.get('n1')!;
    expect(plain(got)).to.deep.equal(plain(context(5)));
    got.ha1.fill(0);
    expect(Array.from(t.get('n1')!.ha1)).to.deep.equal(Array.from(context(5).ha1));
    expect(t.get('n2')).to.equal(undefined);
    expect(t.size).to.equal(1);
    t.delete('n1');
    expect(t.get('n1')).to.equal(undefined);
    expect(t.size).to.equal(0);
  });

  it('replaces a context, a shorter cnonce leaving nothing of the longer one', () => {
    const t = new ContextTable(10, () => 0);
    t.set('n', context(1, 40), 1000);
    t.set('n', context(2, 3), 1000);
    expect(plain(t.get('n'))).to.deep.equal(plain(context(2, 3)));
    expect(t.size).to.equal(1);
  });

  it('does not keep a context whose cnonce is over the limit, and drops the one it replaces', () => {
    const t = new ContextTable(10, () => 0);
    t.set('n', context(1, MAX_KEPT_CNONCE), 1000);
    expect(t.get('n')!.cnonce.length).to.equal(MAX_KEPT_CNONCE);
    t.set('n', context(1, MAX_KEPT_CNONCE + 1), 1000);
    expect(t.get('n')).to.equal(undefined);
    expect(t.size).to.equal(0);
  });

  it('wipes the H(A1) and cnonce of a context that leaves, evicted or deleted', () => {
    const t = new ContextTable(2, () => 0);
    const internals = t as unknown as { ha1: Uint8Array; cnonce: Uint8Array };
    t.set('a', context(1), 1000);
    t.set('b', context(2), 1000);
    t.set('c', context(3), 1000); // evicts a
    t.delete('b');
    const held = plain(t.get('c'))!;
    const nonZero = (a: Uint8Array) => a.reduce((n, b) => n + (b !== 0 ? 1 : 0), 0);
    // Only c's 16 bytes of H(A1) and 22 of cnonce are left anywhere in the arrays.
    expect(nonZero(internals.ha1)).to.equal(16);
    expect(nonZero(internals.cnonce)).to.equal(22);
    expect(held.ha1).to.deep.equal(Array.from(context(3).ha1));
  });

  it('matches LruTtlCache over random operations, through growth, eviction and expiry', () => {
    randomTableRuns(30_000, (max, now) => {
      const table = new ContextTable(max, now);
      const model = new LruTtlCache<string, AuthContext>(max, now);
      return {
        op(i, key, random) {
          const r = random();
          if (r < 0.05) {
            table.delete(key);
            model.delete(key);
          } else if (r < 0.5) {
            const c = context(i, 1 + Math.floor(random() * MAX_KEPT_CNONCE));
            const ttl = 1 + Math.floor(random() * 50);
            table.set(key, c, ttl);
            model.set(key, c, ttl);
          } else {
            expect(plain(table.get(key)), `op ${i}`).to.deep.equal(plain(model.get(key)));
          }
        },
        sizes: () => [table.size, model.size],
      };
    });
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new ContextTable(0, Date.now)).to.throw(RangeError);
    expect(() => new ContextTable(2.5, Date.now)).to.throw(RangeError);
  });
});
