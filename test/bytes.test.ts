// Text encodings of bytes.ts against RFC 4648 §10's vectors and Node's own encoders, on
// both sides of the length where short text is concatenated and long text decoded.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { base64BytesUnpadded, base64UrlDecodeInto, constantTimeEqualText, decodeUtf8, toBase64, toBase64Url, toHex } from '../dist/bytes.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('bytes.ts encodings', () => {
  it('base64 matches RFC 4648 §10', () => {
    const cases: [string, string][] = [['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy']];
    for (const [plain, b64] of cases) {
      expect(toBase64(enc(plain)), plain).to.equal(b64);
      expect(new TextDecoder().decode(base64BytesUnpadded(enc(plain))), plain).to.equal(b64.replace(/=+$/, ''));
      expect(toBase64Url(enc(plain)), plain).to.equal(b64.replace(/=+$/, ''));
    }
  });

  it('agrees with Node for every length 0..200, and base64url decodes back', () => {
    for (let n = 0; n <= 200; n++) {
      const b = randomBytes(n);
      expect(toBase64(b), `base64 ${n}`).to.equal(b.toString('base64'));
      expect(new TextDecoder().decode(base64BytesUnpadded(b)), `base64BytesUnpadded ${n}`).to.equal(b.toString('base64').replace(/=+$/, ''));
      const url = toBase64Url(b);
      expect(url, `base64url ${n}`).to.equal(b.toString('base64url'));
      const back = new Uint8Array(Math.floor((url.length * 3) / 4));
      expect(base64UrlDecodeInto(enc(url), back), `decoded length ${n}`).to.equal(n);
      expect(Buffer.from(back).equals(b), `round trip ${n}`).to.equal(true);
      expect(toHex(b), `hex ${n}`).to.equal(b.toString('hex'));
    }
  });

  it('refuses base64url outside the alphabet, with a bad length or nonzero leftover bits', () => {
    const out = new Uint8Array(16);
    expect(base64UrlDecodeInto(enc('ab+d'), out)).to.equal(-1);
    expect(base64UrlDecodeInto(enc('abcde'), out)).to.equal(-1);
    expect(base64UrlDecodeInto(enc('Zh'), out)).to.equal(-1); // 'Zg' is the only encoding of "f"
    expect(base64UrlDecodeInto(enc('Zg'), out)).to.equal(1);
  });

  it('decodes UTF-8 and ASCII of any length, and refuses invalid UTF-8', () => {
    for (const text of ['', 'chris', 'a'.repeat(64), 'b'.repeat(65), 'müller', 'x'.repeat(70) + 'é']) {
      expect(decodeUtf8(enc(text))).to.equal(text);
    }
    expect(decodeUtf8(Uint8Array.of(0x61, 0xff))).to.equal(undefined);
    expect(decodeUtf8(new Uint8Array(80).fill(0xc3))).to.equal(undefined);
  });

  it('compares text in constant time by content and length', () => {
    expect(constantTimeEqualText('abc', 'abc')).to.equal(true);
    expect(constantTimeEqualText('abc', 'abd')).to.equal(false);
    expect(constantTimeEqualText('abc', 'ab')).to.equal(false);
  });
});
