import { expect } from 'chai';
import { wireText } from '../dist/wire-text.js';

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('wireText (the text of short ASCII values, reused)', () => {
  it('gives the text of the range, lower-cased when asked', () => {
    const src = bytes('xxAUTH-Int,imap/Elwood.innosoft.com');
    expect(wireText(src, 2, 10, false)).to.equal('AUTH-Int');
    expect(wireText(src, 2, 10, true)).to.equal('auth-int');
    expect(wireText(src, 11, src.length, false)).to.equal('imap/Elwood.innosoft.com');
    expect(wireText(src, 3, 3, false)).to.equal('');
  });

  it('stays right when the same slots are asked for many different values, and for long ones', () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const seen: [Uint8Array, string][] = [];
    for (let k = 0; k < 5000; k++) {
      const len = next() % 90;
      const s = String.fromCharCode(...Array.from({ length: len }, () => 0x20 + (next() % 95)));
      const b = bytes(s);
      seen.push([b, s]);
      // Ask again for an older value: what is in its slot may have been replaced since.
      const [ob, os] = seen[next() % seen.length]!;
      expect(wireText(b, 0, b.length, false)).to.equal(s);
      expect(wireText(b, 0, b.length, true)).to.equal(s.toLowerCase());
      expect(wireText(ob, 0, ob.length, false)).to.equal(os);
    }
  });
});
