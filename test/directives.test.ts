import { expect } from 'chai';
import { parseDirectives } from '../dist/directives.js';
import { DirectiveRules, DirectiveWriter, parseTokenList } from '../dist/directives.js';
import { dec, enc, expectCode } from './helpers/util.js';

const parse = (s: string) => parseDirectives(enc(s)).map((d) => [d.name, dec(d.value), d.quoted]);

describe('directive grammar (RFC 2831 §7)', () => {
  it('parses tokens and quoted-strings, lower-casing names', () => {
    expect(parse('Realm="x.org",NONCE="abc",qop="auth,auth-int",Algorithm=md5-sess')).to.deep.equal([
      ['realm', 'x.org', true],
      ['nonce', 'abc', true],
      ['qop', 'auth,auth-int', true],
      ['algorithm', 'md5-sess', false],
    ]);
  });

  it('accepts LWS around "=" and ",", and empty list elements', () => {
    expect(parse(' ,, a = "1" ,\t b=2 ,\r\n c\t=\t"3",, ')).to.deep.equal([
      ['a', '1', true],
      ['b', '2', false],
      ['c', '3', true],
    ]);
    expect(parse('')).to.deep.equal([]);
    expect(parse(' , , ')).to.deep.equal([]);
  });

  it('unescapes quoted-pairs', () => {
    expect(parse('u="a\\"b\\\\c\\d"')).to.deep.equal([['u', 'a"b\\cd', true]]);
  });

  it('keeps UTF-8 bytes in quoted values as they are', () => {
    const d = parseDirectives(enc('username="müller"'));
    expect(Array.from(d[0]!.value)).to.deep.equal(Array.from(enc('müller')));
  });

  it('accepts an empty quoted value', () => {
    expect(parse('authzid=""')).to.deep.equal([['authzid', '', true]]);
  });

  const bad: [string, RegExp][] = [
    ['=x', /name expected/],
    ['a', /"=" expected/],
    ['a=', /value expected/],
    ['a="x', /unterminated/],
    ['a="x\\', /unterminated/],
    ['a=x y=z', /"," expected/],
    ['a="x"y', /"," expected/],
    ['a="x\u0001"', /control character/],
    ['a=x\u0000', /"," expected/],
    ['a=é', /value expected/],
    ['a="x\\é"', /non-ASCII/],
    ['a@b=c', /"=" expected/],
  ];
  for (const [input, re] of bad) {
    it(`rejects ${JSON.stringify(input)} as malformed`, () => {
      expectCode(() => parseDirectives(enc(input)), 'malformed', re);
    });
  }

  it('finds each rule by name in any case, also names that share a lookup slot', () => {
    // "ae" and "ba" share a slot of the name table (length, first and last byte): found by a scan.
    const rules = new DirectiveRules({ ae: 'once', ba: 'optional', nonce: 'many', qop: 'optional' }, 'test message');
    const d = rules.parse(enc('Ba=1, AE="x", unknown=2, bz=3, nonce=a, NONCE="b", ab=4'));
    expect(dec(d.bytes(rules.at.ae)!)).to.equal('x');
    expect(dec(d.bytes(rules.at.ba)!)).to.equal('1');
    expect(d.all(rules.at.nonce).map(dec)).to.deep.equal(['a', 'b']);
    expect(d.has(rules.at.qop)).to.equal(false);
    expectCode(() => rules.parse(enc('ba=1')), 'malformed'); // "ae" is required
    expectCode(() => rules.parse(enc('ae=1,Ae=2')), 'malformed'); // "ae" at most once
  });

  it('splits token lists inside values, skipping empties and LWS', () => {
    const list = enc(' auth , ,AUTH-INT,, auth-conf ');
    expect(parseTokenList(list, 0, list.length, 'qop')).to.deep.equal(['auth', 'auth-int', 'auth-conf']);
    expect(parseTokenList(list, 3, 16, 'qop')).to.deep.equal(['th', 'auth-in']);
    expect(parseTokenList(enc('a b'), 0, 3, 'qop')).to.deep.equal(['a', 'b']);
    expectCode(() => parseTokenList(enc('auth;x'), 0, 6, 'qop'), 'malformed', /qop/);
    expect(parseTokenList(enc('auth;x'), 0, 4, 'qop')).to.deep.equal(['auth']);
  });

  it('writes strictly: escapes quotes and backslashes, refuses empty and non-token tokens', () => {
    const w = new DirectiveWriter();
    const out = w.start().quotedText('username', 'a"b\\c', enc).token('nc', '00000001').finish();
    expect(dec(out)).to.equal('username="a\\"b\\\\c",nc=00000001');
    expect(parse(dec(out))).to.deep.equal([
      ['username', 'a"b\\c', true],
      ['nc', '00000001', false],
    ]);
    expect(() => w.start().token('a', 'x y')).to.throw(/not a token/);
    expect(() => w.start().token('a', '')).to.throw(/empty token/);
    expect(() => w.start().token('a', 'caf\u00e9')).to.throw(/not a token/);
  });

  it('writes non-ASCII text through the given encoding, and grows past its first buffer', () => {
    const w = new DirectiveWriter();
    const latin1 = (t: string) => Uint8Array.from(t, (c) => c.charCodeAt(0));
    expect(Array.from(w.start().quotedText('u', 'caf\u00e9', latin1).finish())).to.deep.equal(Array.from(latin1('u="caf\u00e9"')));
    expect(dec(w.start().quotedText('u', 'caf\u00e9', enc).finish())).to.equal('u="caf\u00e9"');
    const long = 'x"'.repeat(3000);
    const big = w.start().token('a', 'b').quotedText('long', long, enc).finish();
    expect(dec(big)).to.equal(`a=b,long="${'x\\"'.repeat(3000)}"`);
    expect(parse(dec(big))[1]![1]).to.equal(long);
    // The writer is reused: a later, shorter message carries nothing of the earlier one.
    expect(dec(w.start().token('nc', '00000002').finish())).to.equal('nc=00000002');
  });

  it('round-trips arbitrary quoted values', () => {
    const w = new DirectiveWriter();
    for (let k = 0; k < 200; k++) {
      const bytes = Uint8Array.from({ length: k % 40 }, (_, i) => 0x20 + ((i * 37 + k * 11) % 95));
      const out = w.start().quoted('v', bytes).finish();
      expect(Array.from(parseDirectives(out)[0]!.value)).to.deep.equal(Array.from(bytes));
    }
  });

  it('never throws anything but DigestMD5Error on random input', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) & 0xff;
    const alphabet = enc('a=",\\ \t\r\nxyz09-');
    for (let k = 0; k < 3000; k++) {
      const len = rnd() % 64;
      const input = Uint8Array.from({ length: len }, () => (rnd() % 4 === 0 ? rnd() : alphabet[rnd() % alphabet.length]!));
      try {
        parseDirectives(input);
      } catch (e) {
        expect((e as Error).name).to.equal('DigestMD5Error');
      }
    }
  });
});
