import { expect } from 'chai';
import {
  parseChallenge,
  parseResponse,
  parseResponseAuth,
  readResponseAuth,
  serialiseChallenge,
  serialiseResponse,
  serialiseResponseAuth,
  MAX_CHALLENGE_SIZE,
  MAX_RESPONSE_SIZE,
} from '../dist/messages.js';
import { dec, enc, expectCode } from './helpers/util.js';

const CH = 'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8';
const RESP =
  'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,' +
  'cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth';

describe('digest-challenge', () => {
  it('parses the RFC 2831 §4 challenge', () => {
    const c = parseChallenge(enc(CH));
    expect(c.realms).to.deep.equal(['elwood.innosoft.com']);
    expect(dec(c.nonce)).to.equal('OA6MG9tEQGm2hh');
    expect(c.qopOptions).to.deep.equal(['auth']);
    expect(c.utf8).to.equal(true);
    expect(c.maxbuf).to.equal(65536);
    expect(c.stale).to.equal(false);
  });

  it('accepts quoted values where the grammar says token, and the reverse (JDK, Dovecot)', () => {
    const c = parseChallenge(enc('nonce=abc,qop=auth-int,charset="UTF-8",algorithm="md5-sess",maxbuf="1024",cipher="rc4,des",stale=TRUE'));
    expect(dec(c.nonce)).to.equal('abc');
    expect(c.qopOptions).to.deep.equal(['auth-int']);
    expect(c.utf8).to.equal(true);
    expect(c.maxbuf).to.equal(1024);
    expect(c.ciphers).to.deep.equal(['rc4', 'des']);
    expect(c.stale).to.equal(true);
  });

  it('keeps several realms in order and ignores unknown directives', () => {
    const c = parseChallenge(enc('realm="a",realm="b",x-new="1",nonce="n",algorithm=md5-sess,realm="c"'));
    expect(c.realms).to.deep.equal(['a', 'b', 'c']);
    expect(c.qopOptions).to.deep.equal(['auth']);
  });

  it('decodes realms as UTF-8 with charset=utf-8 and as Latin-1 without', () => {
    expect(parseChallenge(enc('realm="ωmega.org",nonce="n",algorithm=md5-sess,charset=utf-8')).realms).to.deep.equal(['ωmega.org']);
    const latin = Uint8Array.from([...enc('realm="'), 0xe9, ...enc('t",nonce="n",algorithm=md5-sess')]);
    expect(parseChallenge(latin).realms).to.deep.equal(['ét']);
    const badUtf8 = Uint8Array.from([...enc('realm="'), 0xe9, ...enc('t",nonce="n",algorithm=md5-sess,charset=utf-8')]);
    expectCode(() => parseChallenge(badUtf8), 'malformed', /UTF-8/);
  });

  const rules: [string, string, RegExp][] = [
    ['nonce="a",nonce="b",algorithm=md5-sess', 'malformed', /"nonce" appears more than once/],
    ['nonce="a",algorithm=md5-sess,algorithm=md5-sess', 'malformed', /"algorithm" appears more than once/],
    ['nonce="a",algorithm=md5-sess,qop="auth",qop="auth"', 'malformed', /"qop" appears more than once/],
    ['nonce="a",algorithm=md5-sess,charset=utf-8,charset=utf-8', 'malformed', /"charset"/],
    ['nonce="a",algorithm=md5-sess,maxbuf=100,maxbuf=100', 'malformed', /"maxbuf"/],
    ['realm="x",algorithm=md5-sess', 'malformed', /"nonce" is missing/],
    ['nonce="a"', 'malformed', /"algorithm" is missing/],
    ['nonce="",algorithm=md5-sess', 'malformed', /nonce is empty/],
    ['nonce="a",algorithm=md5', 'unsupported', /algorithm "md5"/],
    ['nonce="a",algorithm=md5-sess,charset=iso-8859-1', 'unsupported', /charset/],
    ['nonce="a",algorithm=md5-sess,maxbuf=16', 'malformed', /maxbuf 16/],
    ['nonce="a",algorithm=md5-sess,maxbuf=16777216', 'malformed', /maxbuf/],
    ['nonce="a",algorithm=md5-sess,maxbuf=99999999999999999999', 'malformed', /not a decimal/],
    ['nonce="a",algorithm=md5-sess,maxbuf=-5', 'malformed', /not a decimal/],
    ['nonce="a",algorithm=md5-sess,qop=""', 'malformed', /qop-options is empty/],
    ['nonce="a",algorithm=md5-sess,stale=maybe', 'malformed', /stale/],
  ];
  for (const [input, code, re] of rules) {
    it(`refuses ${input}`, () => expectCode(() => parseChallenge(enc(input)), code, re));
  }

  it('gives each challenge its own qop and cipher lists when the lists change between challenges, frozen', () => {
    const ch = (qop: string, cipher: string) => parseChallenge(enc(`nonce="n",qop="${qop}",algorithm=md5-sess,cipher="${cipher}"`));
    const a = ch('auth,auth-int,auth-conf', 'rc4,des,3des');
    expect(a.qopOptions).to.deep.equal(['auth', 'auth-int', 'auth-conf']);
    expect(a.ciphers).to.deep.equal(['rc4', 'des', '3des']);
    // The same length and different bytes, then a case change, then the first again.
    const b = ch('auth,auth-int,auth-cong', 'rc4,des,aes1');
    expect(b.qopOptions).to.deep.equal(['auth', 'auth-int', 'auth-cong']);
    expect(b.ciphers).to.deep.equal(['rc4', 'des', 'aes1']);
    expect(ch('AUTH,auth-int,auth-conf', 'RC4,des,3des').ciphers).to.deep.equal(['rc4', 'des', '3des']);
    const again = ch('auth,auth-int,auth-conf', 'rc4,des,3des');
    expect(again.qopOptions).to.deep.equal(['auth', 'auth-int', 'auth-conf']);
    expect(Object.isFrozen(again.qopOptions) && Object.isFrozen(again.ciphers)).to.equal(true);
    expect(Object.isFrozen(parseChallenge(enc('nonce="n",algorithm=md5-sess')).qopOptions)).to.equal(true);
    // A list longer than the memo keeps is parsed, and a bad list still fails after good ones.
    const long = Array.from({ length: 30 }, (_, i) => `c${i}`).join(',');
    expect(ch('auth', long).ciphers).to.have.length(30);
    expect(ch('auth', long).ciphers[29]).to.equal('c29');
    expectCode(() => ch('auth,au/th', 'rc4'), 'malformed', /qop-options/);
  });

  it('refuses a challenge over 2048 bytes before parsing, and an empty one', () => {
    const big = enc(CH + ',x="' + 'a'.repeat(MAX_CHALLENGE_SIZE) + '"');
    expectCode(() => parseChallenge(big), 'too-large', /2048/);
    expectCode(() => parseChallenge(new Uint8Array(0)), 'malformed', /empty/);
    const exact = enc(CH + ',x="' + 'a'.repeat(MAX_CHALLENGE_SIZE - CH.length - 5) + '"');
    expect(exact.length).to.equal(MAX_CHALLENGE_SIZE);
    expect(parseChallenge(exact).realms).to.deep.equal(['elwood.innosoft.com']);
  });

  it('serialises what it parses', () => {
    const out = serialiseChallenge({ realms: ['a"b', 'c'], nonce: enc('n1'), qopOptions: ['auth', 'auth-int'], maxbuf: 1024, utf8: true, ciphers: ['rc4'] });
    expect(dec(out)).to.equal('realm="a\\"b",realm="c",nonce="n1",qop="auth,auth-int",maxbuf=1024,charset=utf-8,algorithm=md5-sess,cipher="rc4"');
    const c = parseChallenge(out);
    expect(c.realms).to.deep.equal(['a"b', 'c']);
    expect(c.maxbuf).to.equal(1024);
    expect(c.ciphers).to.deep.equal(['rc4']);
  });
});

describe('digest-response', () => {
  it('parses the RFC 2831 §4 response', () => {
    const r = parseResponse(enc(RESP));
    expect(r.username).to.equal('chris');
    expect(r.realm).to.equal('elwood.innosoft.com');
    expect(r.nc).to.equal(1);
    expect(r.qop).to.equal('auth');
    expect(r.digestUri).to.equal('imap/elwood.innosoft.com');
    expect(r.response).to.equal('d388dad90d4bbd760a152321f2143af7');
    expect(r.authzid).to.equal(undefined);
    expect(r.maxbuf).to.equal(65536);
  });

  it('defaults qop to auth and realm to empty, and treats an empty authzid as none', () => {
    const r = parseResponse(enc('username="u",nonce="n",cnonce="c",nc=00000001,digest-uri="imap/h",response=D388DAD90D4BBD760A152321F2143AF7,authzid=""'));
    expect(r.qop).to.equal('auth');
    expect(r.realm).to.equal('');
    expect(r.realmPresent).to.equal(false);
    expect(r.authzid).to.equal(undefined);
    expect(r.response).to.equal('d388dad90d4bbd760a152321f2143af7');
  });

  it('accepts the JDK quoting of maxbuf and cipher', () => {
    const r = parseResponse(enc(RESP.replace('qop=auth', 'qop=auth-conf') + ',maxbuf="4096",cipher="rc4"'));
    expect(r.maxbuf).to.equal(4096);
    expect(r.cipher).to.equal('rc4');
  });

  it('keeps the username bytes as sent for hashing', () => {
    const latin = Uint8Array.from([...enc('username="m'), 0xfc, ...enc('ller",nonce="n",cnonce="c",nc=00000001,digest-uri="imap/h",response=d388dad90d4bbd760a152321f2143af7')]);
    const r = parseResponse(latin);
    expect(r.username).to.equal('müller');
    expect(Array.from(r.usernameBytes)).to.deep.equal([0x6d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]);
  });

  const once = ['username', 'nonce', 'cnonce', 'nc', 'digest-uri', 'response'];
  for (const name of once) {
    it(`requires exactly one ${name}`, () => {
      const without = RESP.split(',').filter((p) => !p.startsWith(name + '=')).join(',');
      expectCode(() => parseResponse(enc(without)), 'malformed', new RegExp(`"${name}" is missing`));
      const twice = RESP + ',' + RESP.split(',').find((p) => p.startsWith(name + '='))!;
      expectCode(() => parseResponse(enc(twice)), 'malformed', new RegExp(`"${name}" appears more than once`));
    });
  }
  for (const name of ['realm', 'qop', 'maxbuf', 'charset', 'cipher', 'authzid']) {
    it(`allows at most one ${name}`, () => {
      const extra = { realm: 'realm="x"', qop: 'qop=auth', maxbuf: 'maxbuf=100', charset: 'charset=utf-8', cipher: 'cipher=rc4', authzid: 'authzid="a"' }[name]!;
      expectCode(() => parseResponse(enc(`${RESP},${extra},${extra}`)), 'malformed', new RegExp(`"${name}" appears more than once`));
    });
  }

  const values: [string, string, RegExp][] = [
    ['nc=00000001', 'nc=1', /nc "1"/],
    ['nc=00000001', 'nc=0000000g', /nc/],
    ['qop=auth', 'qop=auth-foo', /qop "auth-foo"/],
    ['qop=auth', 'qop=auth-conf', /cipher is required/],
    ['response=d388dad90d4bbd760a152321f2143af7', 'response=d388', /32 hex/],
    ['username="chris"', 'username=""', /username is empty/],
    ['cnonce="OA6MHXh6VqTrRk"', 'cnonce=""', /cnonce is empty/],
  ];
  for (const [from, to, re] of values) {
    it(`refuses ${to}`, () => expectCode(() => parseResponse(enc(RESP.replace(from, to))), 'malformed', re));
  }

  it('refuses a response over 4096 bytes before parsing', () => {
    expectCode(() => parseResponse(enc(RESP + ',x="' + 'a'.repeat(MAX_RESPONSE_SIZE) + '"')), 'too-large', /4096/);
  });

  it('serialises the authzid only when given and non-empty, as UTF-8', () => {
    const base = { username: 'ωuser', realm: 'r', nonce: enc('n'), cnonce: enc('c'), nc: 1, qop: 'auth' as const, digestUri: 'imap/h', response: '0'.repeat(32), utf8: true };
    expect(dec(serialiseResponse(base))).to.not.include('authzid');
    expect(dec(serialiseResponse({ ...base, authzid: '' }))).to.not.include('authzid');
    const withZ = serialiseResponse({ ...base, authzid: 'ωadmin' });
    const r = parseResponse(withZ);
    expect(r.authzid).to.equal('ωadmin');
    expect(r.username).to.equal('ωuser');
  });

  it('sends Latin-1 names as ISO-8859-1 bytes when charset=utf-8 is not in force', () => {
    const base = { username: 'müller', realm: undefined, nonce: enc('n'), cnonce: enc('c'), nc: 1, qop: 'auth' as const, digestUri: 'imap/h', response: '0'.repeat(32), utf8: false };
    const out = serialiseResponse(base);
    expect(Array.from(out.subarray(10, 16))).to.deep.equal([0x6d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]);
  });
});

describe('response-auth', () => {
  it('parses rspauth and ignores other directives', () => {
    expect(parseResponseAuth(enc('rspauth=EA40F60335C427B5527B84DBABCDFFFD'))).to.equal('ea40f60335c427b5527b84dbabcdfffd');
    expect(parseResponseAuth(enc('x=1,rspauth="ea40f60335c427b5527b84dbabcdfffd"'))).to.equal('ea40f60335c427b5527b84dbabcdfffd');
  });
  it('refuses a missing, repeated or malformed rspauth', () => {
    expectCode(() => parseResponseAuth(enc('x=1')), 'malformed', /"rspauth" is missing/);
    expectCode(() => parseResponseAuth(enc('rspauth=ea40f60335c427b5527b84dbabcdfffd,rspauth=ea40f60335c427b5527b84dbabcdfffd')), 'malformed', /more than once/);
    expectCode(() => parseResponseAuth(enc('rspauth=xyz')), 'malformed', /32 hex/);
  });

  it('reads the server message after a response: rspauth in any form, or none (a new challenge)', () => {
    const hex = 'ea40f60335c427b5527b84dbabcdfffd';
    for (const form of [`rspauth=${hex}`, `rspauth=${hex.toUpperCase()}`, `RSPAUTH=${hex}`, `rspauth="${hex}"`, ` rspauth = ${hex}`, `x=1,rspauth=${hex}`]) {
      expect(readResponseAuth(enc(form)), form).to.equal(hex);
    }
    expect(readResponseAuth(enc('nonce="abc",stale=true,algorithm=md5-sess'))).to.equal(undefined);
    // 40 bytes that start like the common form but are not 32 hex digits: the parser's error.
    expectCode(() => readResponseAuth(enc(`rspauth=${hex.slice(0, 31)}g`)), 'malformed', /32 hex/);
    expectCode(() => readResponseAuth(enc(`rspauth=${hex.slice(0, 30)},x`)), 'malformed', /"=" expected after directive "x"/);
    expectCode(() => readResponseAuth(enc(`rspauth=${hex.slice(0, 30)}00x`)), 'malformed', /32 hex/);
    expectCode(() => readResponseAuth(enc(`rspauth=${hex},rspauth=${hex}`)), 'malformed', /more than once/);
  });

  it('writes rspauth= and the 32 digits, and refuses to write anything but a token', () => {
    const hex = 'ea40f60335c427b5527b84dbabcdfffd';
    expect(dec(serialiseResponseAuth(hex))).to.equal(`rspauth=${hex}`);
    expect(readResponseAuth(serialiseResponseAuth(hex))).to.equal(hex);
    expect(() => serialiseResponseAuth(`${hex.slice(0, 31)}"`)).to.throw(/not 32 hex digits/);
    expect(() => serialiseResponseAuth('a b')).to.throw(/not a token/);
  });
});
