// Tests of the CSPRNG helpers (src/crypto/random.ts): the pooled small requests and randomInto's ranges.
import { expect } from 'chai';
import { randomBytes, randomInto } from '../dist/crypto/random.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('randomBytes and randomInto', () => {
  it('give arrays of the asked length, pooled and not, never two alike', () => {
    const seen = new Set<string>();
    for (const n of [1, 16, 30, 256, 257, 4096, 70000]) {
      const a = randomBytes(n);
      expect(a.length).to.equal(n);
      if (n >= 16) {
        expect(seen.has(hex(a)), `repeat at ${n}`).to.equal(false);
        seen.add(hex(a));
        expect(a.some((b) => b !== 0), `all zero at ${n}`).to.equal(true);
      }
    }
  });

  it('randomInto writes exactly the range it is given and nothing around it', () => {
    for (const [at, n] of [
      [0, 16],
      [7, 16],
      [3, 256],
      [5, 257],
      [1, 70000],
    ] as const) {
      const out = new Uint8Array(at + n + 9).fill(0xa5);
      expect(randomInto(out, at, n)).to.equal(out);
      expect(out.subarray(0, at).every((b) => b === 0xa5), `before, ${at}+${n}`).to.equal(true);
      expect(out.subarray(at + n).every((b) => b === 0xa5), `after, ${at}+${n}`).to.equal(true);
      const range = out.subarray(at, at + n);
      // 0xa5 everywhere in the range would mean nothing was written (2^-128 by chance).
      expect(range.some((b) => b !== 0xa5), `written, ${at}+${n}`).to.equal(true);
    }
  });

  it('randomInto gives different bytes on each call, across pool refills', () => {
    const seen = new Set<string>();
    const out = new Uint8Array(16);
    for (let i = 0; i < 1000; i++) {
      const v = hex(randomInto(out, 0, 16));
      expect(seen.has(v)).to.equal(false);
      seen.add(v);
    }
  });

  it('randomInto refuses ranges that do not fit', () => {
    const out = new Uint8Array(16);
    for (const [at, n] of [
      [0, 17],
      [1, 16],
      [-1, 4],
      [0, -1],
      [0.5, 4],
      [0, Number.NaN],
    ]) {
      expect(() => randomInto(out, at!, n!), `${at}+${n}`).to.throw(RangeError);
    }
  });
});
