// Our MD5 and HMAC-MD5 (src/crypto/md5.ts) against RFC 1321's test suite, RFC 2202's
// HMAC-MD5 cases, and node:crypto on every length around the block boundaries.
import { expect } from 'chai';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { md5, md5KeyAnd, prepareKeySuffix, HmacMd5State, Md5 } from '../dist/crypto/md5.js';
import * as active from '#crypto';
const backendMd5 = active.md5;
const hmacMd5 = active.hmacMd5;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const enc = (s: string) => new TextEncoder().encode(s);

describe('MD5 and HMAC-MD5 (md5.ts)', () => {
  it('matches RFC 1321 A.5', () => {
    const suite: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [input, digest] of suite) expect(hex(md5(enc(input))), input).to.equal(digest);
  });

  it('matches RFC 2202 §2 HMAC-MD5 cases 1, 2 and 6 (key longer than a block)', () => {
    expect(hex(new HmacMd5State(new Uint8Array(16).fill(0x0b)).mac(enc('Hi There')))).to.equal('9294727a3638bb1c13f48ef8158bfc9d');
    expect(hex(new HmacMd5State(enc('Jefe')).mac(enc('what do ya want for nothing?')))).to.equal('750c783e6ab0b503eaa86e310a5db738');
    expect(hex(new HmacMd5State(new Uint8Array(80).fill(0xaa)).mac(enc('Test Using Larger Than Block-Size Key - Hash Key First')))).to.equal('6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd');
  });

  it('agrees with node:crypto for every length 0..300 and large ones, in any split, aligned or not', () => {
    const lengths = [...Array(301).keys(), 1023, 1024, 1025, 4096, 65536, 65537];
    for (const n of lengths) {
      const backing = randomBytes(n + 3);
      for (const shift of [0, 1, 3]) {
        const d = new Uint8Array(backing.buffer, backing.byteOffset + shift, n);
        const want = createHash('md5').update(d).digest('hex');
        expect(hex(md5(d)), `length ${n} shift ${shift}`).to.equal(want);
        const cut = n % 97;
        expect(hex(new Md5().start().update(d.subarray(0, cut)).update(d.subarray(cut)).finish())).to.equal(want);
      }
      const key = randomBytes(n % 90);
      const h = new HmacMd5State(key);
      const seq = randomBytes(4);
      const want = createHmac('md5', key).update(seq).update(backing).digest('hex');
      expect(hex(h.mac(seq, backing)), `hmac length ${n}`).to.equal(want);
      expect(hex(h.mac(seq, backing)), 'state reused').to.equal(want);
    }
  });

  it('hashes a 16-byte key and a prepared constant of 48..103 bytes (md5KeyAnd), and refuses other lengths', () => {
    for (let len = 48; len <= 103; len++) {
      const constant = randomBytes(len);
      const suffix = prepareKeySuffix(constant);
      for (let k = 0; k < 3; k++) {
        const key = randomBytes(16);
        const want = createHash('md5').update(key).update(constant).digest('hex');
        expect(hex(md5KeyAnd(key, suffix)), `constant of ${len}`).to.equal(want);
      }
    }
    for (const len of [0, 47, 104]) expect(() => prepareKeySuffix(new Uint8Array(len))).to.throw(RangeError);
    expect(() => md5KeyAnd(new Uint8Array(15), prepareKeySuffix(new Uint8Array(48)))).to.throw(RangeError);
  });

  it('absorbs a range of an array as that range alone, after any prefix', () => {
    const h = new Md5();
    const data = randomBytes(400);
    for (let from = 0; from < 200; from += 7) {
      for (const to of [from, from + 1, from + 63, from + 64, from + 65, from + 130, 400]) {
        for (const prefix of [0, 5, 64, 70]) {
          const got = h.start().update(data.subarray(0, prefix)).update(data, from, to).finish();
          const want = createHash('md5').update(data.subarray(0, prefix)).update(data.subarray(from, to)).digest('hex');
          expect(hex(got), `prefix ${prefix}, range ${from}..${to}`).to.equal(want);
        }
      }
    }
  });

  it('absorbs Latin-1 text as its bytes, in any split with byte updates, across block boundaries', () => {
    const h = new Md5();
    for (let n = 0; n < 200; n++) {
      const text = String.fromCharCode(...Array.from({ length: n }, (_, i) => (i * 97 + n * 31) % 256));
      const bytes = Buffer.from(text, 'latin1');
      const cut = (n * 7) % (n + 1);
      const got = h.start().update(bytes.subarray(0, cut)).updateLatin1(text.slice(cut)).finish();
      expect(hex(got), `length ${n}, cut ${cut}`).to.equal(createHash('md5').update(bytes).digest('hex'));
      const prefixed = h.start().updateLatin1('x'.repeat(n % 64)).updateLatin1(text).update(bytes).finish();
      expect(hex(prefixed)).to.equal(createHash('md5').update('x'.repeat(n % 64)).update(bytes).update(bytes).digest('hex'));
    }
  });

  it('the active backend gives the same results on both sides of its native threshold', () => {
    for (const n of [0, 100, 1535, 1536, 1537, 12283, 12284, 12285, 12287, 12288, 12289, 20000]) {
      const d = randomBytes(n);
      expect(hex(backendMd5(d))).to.equal(createHash('md5').update(d).digest('hex'));
      const key = randomBytes(16);
      const want = createHmac('md5', key).update(d).digest('hex');
      expect(hex(hmacMd5(key).mac(d.subarray(0, 4), d.subarray(4)))).to.equal(want);
      const out = new Uint8Array(16);
      expect(hmacMd5(key).mac(d.subarray(0, 4), d.subarray(4), out)).to.equal(out);
      expect(hex(out), 'written into out').to.equal(want);
    }
  });

  it('the active backend keys its HMAC with keys of every length, on both sides of its native threshold', () => {
    for (const keyLength of [0, 1, 5, 15, 16, 17, 63, 64, 65, 100]) {
      const key = randomBytes(keyLength);
      const h = hmacMd5(key);
      for (const n of [100, 20000]) {
        const d = randomBytes(n);
        const want = createHmac('md5', key).update(d).digest('hex');
        expect(hex(h.mac(d.subarray(0, 4), d.subarray(4))), `key ${keyLength}, message ${n}`).to.equal(want);
      }
    }
  });

  it('destroy() wipes the keyed state: the active backend MACs no longer match the key, on both sides of its threshold', () => {
    for (const n of [100, 20000]) {
      const d = randomBytes(n);
      const key = randomBytes(16);
      const want = createHmac('md5', key).update(d).digest('hex');
      const h = hmacMd5(key);
      expect(hex(h.mac(d.subarray(0, 4), d.subarray(4))), `before, ${n}`).to.equal(want);
      h.destroy();
      expect(hex(h.mac(d.subarray(0, 4), d.subarray(4))), `after, ${n}`).to.not.equal(want);
    }
    // The portable state alone: after destroy() its pads are the zero state, whatever the key.
    const a = new HmacMd5State(randomBytes(16));
    const b = new HmacMd5State(randomBytes(16));
    a.destroy();
    b.destroy();
    expect(hex(a.mac(enc('x')))).to.equal(hex(b.mac(enc('x'))));
  });
});
