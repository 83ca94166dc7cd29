// Tests of the AES-128-CBC cipher for the "aes-cbc" confidentiality layer (docs/aes-cipher.md)
// against the published vectors in vectors/ciphers/aes-cbc.json, plus chaining across calls and
// messages, in-place use, errors, node:crypto, and the IV derivation MD5({Kc, "aes-128"}).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { AesCbc, aesIv } from '../dist/layer/ciphers/aes.js';
import { md5 as portableMd5 } from '../dist/crypto/portable.js';
import { hex, inPieces, prng, splits, toHex } from './helpers/ciphers.js';
import { expectCode } from './helpers/util.js';

// ---------------------------------------------------------------------------------------------
// Vector file and helpers.

interface AesFile {
  source: string;
  sources: Record<string, string>;
  vectors: {
    name: string;
    source: string;
    direction: 'encrypt' | 'decrypt';
    key: string;
    iv: string;
    plaintext: string;
    ciphertext: string;
  }[];
  ivDerivation: { source: string; vectors: { kc: string; iv: string }[] };
}

const aesFile = JSON.parse(
  readFileSync(new URL('../vectors/ciphers/aes-cbc.json', import.meta.url), 'utf8'),
) as AesFile;

const nodeMd5 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

// ---------------------------------------------------------------------------------------------
// AES-128-CBC

describe('AES-128-CBC', () => {
  const counts = Object.keys(aesFile.sources)
    .map((s) => `${aesFile.vectors.filter((v) => v.source === s).length} ${s}`)
    .join(', ');
  describe(`published vectors (${counts}), both directions`, () => {
    for (const v of aesFile.vectors) {
      it(v.name, () => {
        const [key, iv] = [hex(v.key), hex(v.iv)];
        expect(toHex(new AesCbc(key, iv, 'encrypt').process(hex(v.plaintext)))).to.equal(v.ciphertext);
        expect(toHex(new AesCbc(key, iv, 'decrypt').process(hex(v.ciphertext)))).to.equal(v.plaintext);
      });
    }
  });

  it('runs SP 800-38A F.2.1 block by block, each block a separate call', () => {
    const v = aesFile.vectors.find((x) => x.source === 'sp800-38a')!;
    const enc = new AesCbc(hex(v.key), hex(v.iv), 'encrypt');
    const dec = new AesCbc(hex(v.key), hex(v.iv), 'decrypt');
    const [pt, ct] = [hex(v.plaintext), hex(v.ciphertext)];
    for (let i = 0; i < pt.length; i += 16) {
      expect(toHex(enc.process(pt.subarray(i, i + 16))), `block ${i / 16 + 1}`).to.equal(toHex(ct.subarray(i, i + 16)));
      expect(toHex(dec.process(ct.subarray(i, i + 16))), `block ${i / 16 + 1}`).to.equal(toHex(pt.subarray(i, i + 16)));
    }
  });

  it('chains the IV across calls (random splits equal one call), both directions', () => {
    const rand = prng(3602);
    for (let round = 0; round < 30; round++) {
      const [key, iv] = [rand.bytes(16), rand.bytes(16)];
      const data = rand.bytes(16 * (1 + rand.int(64)));
      const ct = new AesCbc(key, iv, 'encrypt').process(data);
      expect(toHex(inPieces(new AesCbc(key, iv, 'encrypt'), data, splits(rand, data.length, 16)))).to.equal(toHex(ct));
      expect(toHex(inPieces(new AesCbc(key, iv, 'decrypt'), ct, splits(rand, ct.length, 16)))).to.equal(toHex(data));
    }
  });

  it("uses the previous message's last ciphertext block as the next message's IV", () => {
    // The draft's rule ("Em of the previous packet becomes the IV"): a fresh object started
    // with that block must give what the long-lived one gives for the second message.
    const rand = prng(2831);
    const [key, iv] = [rand.bytes(16), rand.bytes(16)];
    const [m1, m2] = [rand.bytes(48), rand.bytes(80)];
    const enc = new AesCbc(key, iv, 'encrypt');
    const c1 = enc.process(m1);
    const c2 = enc.process(m2);
    const em = c1.subarray(c1.length - 16);
    expect(toHex(new AesCbc(key, em, 'encrypt').process(m2))).to.equal(toHex(c2));
    const dec = new AesCbc(key, iv, 'decrypt');
    expect(toHex(dec.process(c1))).to.equal(toHex(m1));
    expect(toHex(dec.process(c2))).to.equal(toHex(m2));
  });

  it('works in place in both directions', () => {
    const rand = prng(5);
    const [key, iv] = [rand.bytes(16), rand.bytes(16)];
    const data = rand.bytes(512);
    const ct = new AesCbc(key, iv, 'encrypt').process(data);
    const buf = data.slice();
    expect(new AesCbc(key, iv, 'encrypt').process(buf, buf)).to.equal(buf);
    expect(toHex(buf)).to.equal(toHex(ct));
    expect(new AesCbc(key, iv, 'decrypt').process(buf, buf)).to.equal(buf);
    expect(toHex(buf)).to.equal(toHex(data));
  });

  it('works in place in pieces, at unaligned offsets', () => {
    const rand = prng(6);
    const [key, iv] = [rand.bytes(16), rand.bytes(16)];
    const data = rand.bytes(256);
    const ct = new AesCbc(key, iv, 'encrypt').process(data);
    const backing = new Uint8Array(3 + data.length);
    const buf = backing.subarray(3);
    buf.set(data);
    const enc = new AesCbc(key, iv, 'encrypt');
    for (const [a, b] of [[0, 32], [32, 48], [48, 256]] as const) enc.process(buf.subarray(a, b), buf.subarray(a, b));
    expect(toHex(buf)).to.equal(toHex(ct));
    const dec = new AesCbc(key, iv, 'decrypt');
    for (const [a, b] of [[0, 16], [16, 160], [160, 256]] as const) dec.process(buf.subarray(a, b), buf.subarray(a, b));
    expect(toHex(buf)).to.equal(toHex(data));
  });

  it('writes into a longer output and returns exactly the bytes written', () => {
    const v = aesFile.vectors.find((x) => x.source === 'cavp-gfsbox')!;
    const out = new Uint8Array(20).fill(0xaa);
    const got = new AesCbc(hex(v.key), hex(v.iv), 'encrypt').process(hex(v.plaintext), out);
    expect(got.length).to.equal(16);
    expect(got.buffer).to.equal(out.buffer);
    expect(toHex(got)).to.equal(v.ciphertext);
    expect(out[16]).to.equal(0xaa);
  });

  it('treats an empty input as a no-op that keeps the chain', () => {
    const v = aesFile.vectors.find((x) => x.source === 'sp800-38a')!;
    const enc = new AesCbc(hex(v.key), hex(v.iv), 'encrypt');
    expect(enc.process(new Uint8Array(0)).length).to.equal(0);
    expect(toHex(enc.process(hex(v.plaintext)))).to.equal(v.ciphertext);
  });

  it('does not modify or keep the key and IV', () => {
    const rand = prng(8);
    const [key, iv] = [rand.bytes(16), rand.bytes(16)];
    const [keyCopy, ivCopy] = [key.slice(), iv.slice()];
    const data = rand.bytes(64);
    for (const direction of ['encrypt', 'decrypt'] as const) {
      const expected = new AesCbc(keyCopy, ivCopy, direction).process(data);
      const aes = new AesCbc(key, iv, direction);
      expect(toHex(key) + toHex(iv)).to.equal(toHex(keyCopy) + toHex(ivCopy));
      key.fill(0);
      iv.fill(0);
      expect(toHex(aes.process(data))).to.equal(toHex(expected));
      key.set(keyCopy);
      iv.set(ivCopy);
    }
  });

  it('checks its inputs at the boundary', () => {
    const k16 = new Uint8Array(16);
    for (const n of [0, 8, 15, 17, 24, 32]) {
      expectCode(() => new AesCbc(new Uint8Array(n), k16, 'encrypt'), 'bad-option');
      expectCode(() => new AesCbc(k16, new Uint8Array(n), 'decrypt'), 'bad-option');
    }
    expectCode(() => new AesCbc(k16, k16, 'sideways' as 'encrypt'), 'bad-option');
    expectCode(() => new AesCbc('0123456789abcdef' as unknown as Uint8Array, k16, 'encrypt'), 'bad-option');
    expectCode(() => new AesCbc(k16, Array.from(k16) as unknown as Uint8Array, 'encrypt'), 'bad-option');
    for (const direction of ['encrypt', 'decrypt'] as const) {
      const aes = new AesCbc(k16, k16, direction);
      for (const n of [1, 8, 15, 17, 24, 33]) expectCode(() => aes.process(new Uint8Array(n)), 'malformed');
      expectCode(() => aes.process(new Uint8Array(16), new Uint8Array(15)), 'bad-option');
      expectCode(() => aes.process([1, 2] as unknown as Uint8Array), 'bad-option');
      expectCode(() => aes.process(new Uint8Array(16), [] as unknown as Uint8Array), 'bad-option');
      const buf = new Uint8Array(48);
      expectCode(() => aes.process(buf.subarray(0, 32), buf.subarray(16, 48)), 'bad-option');
      expectCode(() => aes.process(buf.subarray(16, 48), buf.subarray(0, 32)), 'bad-option');
    }
  });

  it('leaves the chain untouched when a call is refused', () => {
    const rand = prng(7);
    const [key, iv] = [rand.bytes(16), rand.bytes(16)];
    const data = rand.bytes(64);
    for (const direction of ['encrypt', 'decrypt'] as const) {
      const expected = new AesCbc(key, iv, direction).process(data);
      const aes = new AesCbc(key, iv, direction);
      expectCode(() => aes.process(new Uint8Array(20)), 'malformed');
      expectCode(() => aes.process(new Uint8Array(32), new Uint8Array(16)), 'bad-option');
      expect(toHex(aes.process(data))).to.equal(toHex(expected));
    }
  });

  it('wipes its keys on destroy() and refuses use afterwards', () => {
    for (const direction of ['encrypt', 'decrypt'] as const) {
      const aes = new AesCbc(hex('2b7e151628aed2a6abf7158809cf4f3c'), hex('000102030405060708090a0b0c0d0e0f'), direction);
      aes.process(new Uint8Array(32));
      aes.destroy();
      const state = aes as unknown as { xk: Uint32Array; iv: Int32Array };
      expect(state.xk.length).to.equal(44);
      expect(state.xk.every((w) => w === 0) && state.iv.every((w) => w === 0)).to.equal(true);
      expectCode(() => aes.process(new Uint8Array(16)), 'bad-state');
      expectCode(() => aes.process(new Uint8Array(0)), 'bad-state');
      aes.destroy();
    }
  });

  it('agrees byte for byte with node:crypto aes-128-cbc, one object fed message after message', function () {
    try {
      createCipheriv('aes-128-cbc', new Uint8Array(16), new Uint8Array(16));
    } catch (e) {
      this.test!.title += ` (skipped: node:crypto refuses aes-128-cbc: ${(e as Error).message})`;
      this.skip();
    }
    const rand = prng(197);
    for (let round = 0; round < 25; round++) {
      const [key, iv] = [rand.bytes(16), rand.bytes(16)];
      const messages = Array.from({ length: 1 + rand.int(8) }, () => rand.bytes(16 * rand.int(70)));
      const nodeEnc = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      const nodeDec = createDecipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      const enc = new AesCbc(key, iv, 'encrypt');
      const dec = new AesCbc(key, iv, 'decrypt');
      for (const [i, m] of messages.entries()) {
        const expected = new Uint8Array(nodeEnc.update(m));
        expect(toHex(inPieces(enc, m, splits(rand, m.length, 16))), `round ${round} message ${i}`).to.equal(toHex(expected));
        expect(toHex(new Uint8Array(nodeDec.update(expected))), `round ${round} message ${i}`).to.equal(toHex(m));
        const buf = expected.slice();
        dec.process(buf, buf);
        expect(toHex(buf), `round ${round} message ${i}`).to.equal(toHex(m));
      }
      expect(nodeEnc.final().length + nodeDec.final().length).to.equal(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// aesIv

describe('aesIv: IV = MD5({Kc, "aes-128"})', () => {
  it(`matches the derived values (${aesFile.ivDerivation.vectors.length}) with either MD5`, () => {
    for (const v of aesFile.ivDerivation.vectors) {
      expect(toHex(aesIv(hex(v.kc), nodeMd5)), v.kc).to.equal(v.iv);
      expect(toHex(aesIv(hex(v.kc), portableMd5)), v.kc).to.equal(v.iv);
    }
  });

  it('hashes Kc then the 7 bytes "aes-128", nothing else', () => {
    const seen: string[] = [];
    const spy = (...parts: Uint8Array[]): Uint8Array => {
      seen.push(...parts.map(toHex));
      return nodeMd5(...parts);
    };
    const kc = prng(16).bytes(16);
    aesIv(kc, spy);
    expect(seen.join('')).to.equal(toHex(kc) + toHex(new TextEncoder().encode('aes-128')));
  });

  it('gives each direction its own IV, so IVc differs from IVs', () => {
    const rand = prng(17);
    const [kcc, kcs] = [rand.bytes(16), rand.bytes(16)];
    expect(toHex(aesIv(kcc, nodeMd5))).to.not.equal(toHex(aesIv(kcs, nodeMd5)));
  });

  it('refuses a Kc that is not 16 bytes, and an MD5 that does not return 16', () => {
    expectCode(() => aesIv(new Uint8Array(15), nodeMd5), 'bad-option');
    expectCode(() => aesIv(new Uint8Array(7), nodeMd5), 'bad-option');
    expectCode(() => aesIv('k' as unknown as Uint8Array, nodeMd5), 'bad-option');
    expectCode(() => aesIv(new Uint8Array(16), () => new Uint8Array(20)), 'bad-option');
  });
});
