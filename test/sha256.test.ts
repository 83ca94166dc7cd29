// Our HMAC-SHA-256 (src/crypto/sha256.ts, the MAC of our nonces) against RFC 4231's cases
// and node:crypto on every length around the block boundaries, with every key size class.
import { expect } from 'chai';
import { createHmac, randomBytes } from 'node:crypto';
import { HmacSha256State } from '../dist/crypto/sha256.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const enc = (s: string) => new TextEncoder().encode(s);

describe('HMAC-SHA-256 (sha256.ts)', () => {
  it('matches RFC 4231 test cases 1, 2 and 6 (key longer than a block)', () => {
    expect(hex(new HmacSha256State(new Uint8Array(20).fill(0x0b)).mac(enc('Hi There')))).to.equal(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(hex(new HmacSha256State(enc('Jefe')).mac(enc('what do ya want for nothing?')))).to.equal(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(hex(new HmacSha256State(new Uint8Array(131).fill(0xaa)).mac(enc('Test Using Larger Than Block-Size Key - Hash Key First')))).to.equal(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('agrees with node:crypto for every length 0..200 and large ones, keys of 1..100 bytes, state reused', () => {
    for (const keyLen of [1, 16, 32, 64, 65, 100]) {
      const key = randomBytes(keyLen);
      const state = new HmacSha256State(key);
      for (const n of [...Array(201).keys(), 1000, 4096, 65537]) {
        const data = randomBytes(n);
        expect(hex(state.mac(data)), `key ${keyLen}, length ${n}`).to.equal(createHmac('sha256', key).update(data).digest('hex'));
      }
    }
  });

  it('writes into a given array and leaves the key it was given untouched', () => {
    const key = randomBytes(32);
    const copy = Uint8Array.from(key);
    const out = new Uint8Array(40).fill(0xee);
    const r = new HmacSha256State(key).mac(enc('abc'), out);
    expect(r).to.equal(out);
    expect(hex(out.subarray(0, 32))).to.equal(createHmac('sha256', key).update('abc').digest('hex'));
    expect(hex(key)).to.equal(hex(copy));
  });

  it('macs the first n bytes only when given n, for one block and past it, and refuses n past the data', () => {
    const key = randomBytes(32);
    const state = new HmacSha256State(key);
    const data = randomBytes(300);
    for (const n of [0, 1, 43, 55, 56, 64, 200, 299]) {
      const want = createHmac('sha256', key).update(data.subarray(0, n)).digest('hex');
      expect(hex(state.mac(data, new Uint8Array(32), n)), `n ${n}`).to.equal(want);
    }
    expect(() => state.mac(data.subarray(0, 10), new Uint8Array(32), 11)).to.throw(RangeError);
  });
});
