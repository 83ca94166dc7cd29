import { expect } from 'chai';
import { chooseProtection, makePolicy, serverOffer, serverAccepts } from '../dist/negotiate.js';
import { DigestMD5Client, DigestMD5Server } from '../dist/index.js';
import { dec, enc, expectCode, expectCodeAsync } from './helpers/util.js';

describe('negotiation of qop and cipher', () => {
  it('defaults to auth only, and to the strong ciphers by SSF (aes, rc4 128 before 3des 112)', () => {
    const p = makePolicy({});
    expect(p.qops).to.deep.equal(['auth']);
    expect(p.ciphers).to.deep.equal(['aes', 'rc4', '3des']);
  });

  it('the client takes its first preference that the server offers', () => {
    const p = makePolicy({ qop: ['auth-conf', 'auth-int', 'auth'] });
    expect(chooseProtection(p, ['auth', 'auth-int', 'auth-conf'], ['des', 'rc4', '3des'])).to.deep.equal({ qop: 'auth-conf', cipher: 'rc4' });
    expect(chooseProtection(p, ['auth', 'auth-int', 'auth-conf'], ['des', '3des'])).to.deep.equal({ qop: 'auth-conf', cipher: '3des' });
    expect(chooseProtection(p, ['auth', 'auth-int', 'auth-conf'], ['des', 'rc4-40'])).to.deep.equal({ qop: 'auth-int', cipher: undefined });
    expect(chooseProtection(p, ['auth'], [])).to.deep.equal({ qop: 'auth', cipher: undefined });
  });

  it('weak ciphers only when named', () => {
    const p = makePolicy({ qop: ['auth-conf'], ciphers: ['rc4-40', 'des'] });
    expect(chooseProtection(p, ['auth-conf'], ['3des', 'des', 'rc4-40'])).to.deep.equal({ qop: 'auth-conf', cipher: 'rc4-40' });
    expectCode(() => chooseProtection(makePolicy({ qop: ['auth-conf'] }), ['auth-conf'], ['des', 'rc4-56', 'rc4-40']), 'policy', /no acceptable protection/);
  });

  it('a client that requires a layer refuses a server that offers none', () => {
    expectCode(() => chooseProtection(makePolicy({ qop: ['auth-conf', 'auth-int'] }), ['auth'], []), 'policy', /offers auth, we accept auth-conf\/aes,auth-conf\/rc4,auth-conf\/3des,auth-int/);
    expectCode(() => chooseProtection(makePolicy({ qop: ['auth-conf', 'auth-int', 'auth'], minSsf: 56 }), ['auth', 'auth-int'], []), 'policy');
  });

  it('minSsf and maxSsf bound the choice', () => {
    const p = makePolicy({ qop: ['auth-conf', 'auth-int', 'auth'], ciphers: ['rc4', '3des', 'des'], minSsf: 1, maxSsf: 112 });
    expect(chooseProtection(p, ['auth', 'auth-int', 'auth-conf'], ['rc4', '3des', 'des'])).to.deep.equal({ qop: 'auth-conf', cipher: '3des' });
    expectCode(() => makePolicy({ minSsf: 1 }), 'bad-option', /minSsf/);
    expectCode(() => makePolicy({ minSsf: 5, maxSsf: 2 }), 'bad-option', /minSsf/);
    expectCode(() => makePolicy({ ciphers: ['aes-9' as 'rc4'] }), 'bad-option', /unknown value/);
  });

  it('gives each set of options its own policy, when options alternate or a list is changed in place, and freezes it', () => {
    const qop: ('auth' | 'auth-int' | 'auth-conf')[] = ['auth-conf', 'auth'];
    const ciphers: ('rc4' | '3des' | 'des')[] = ['rc4', '3des'];
    const a = makePolicy({ qop, ciphers });
    expect(a.allowed.map((x) => x.cipher ?? x.qop)).to.deep.equal(['rc4', '3des', 'auth']);
    expect(makePolicy({ qop, ciphers })).to.equal(a);
    // The caller changes its arrays in place: the next policy follows them.
    ciphers[1] = 'des';
    expect(makePolicy({ qop, ciphers }).allowed.map((x) => x.cipher ?? x.qop)).to.deep.equal(['rc4', 'des', 'auth']);
    qop.pop();
    expect(makePolicy({ qop, ciphers }).allowed.map((x) => x.cipher ?? x.qop)).to.deep.equal(['rc4', 'des']);
    expect(makePolicy({ qop, ciphers, minSsf: 64 }).allowed.map((x) => x.cipher)).to.deep.equal(['rc4']);
    expectCode(() => makePolicy({ qop, ciphers, minSsf: 200 }), 'bad-option', /minSsf/);
    expect(makePolicy({}).qops).to.deep.equal(['auth']);
    expect(makePolicy({ qop: ['auth'] }).qops).to.deep.equal(['auth']);
    // A bad list after a good one of the same length is still checked.
    expectCode(() => makePolicy({ qop: ['auth-conf', 'auth-conf'] as typeof qop }), 'bad-option', /listed twice/);
    const p = makePolicy({ qop: ['auth-int'] });
    expect(Object.isFrozen(p) && Object.isFrozen(p.qops) && Object.isFrozen(p.ciphers) && Object.isFrozen(p.allowed)).to.equal(true);
  });

  it('the server offers only what its policy allows and accepts only that', () => {
    const p = makePolicy({ qop: ['auth-conf', 'auth'], ciphers: ['rc4', 'des'], minSsf: 0 });
    expect(serverOffer(p, 65536)).to.deep.equal({ qops: ['auth-conf', 'auth'], ciphers: ['rc4', 'des'] });
    expect(serverAccepts(p, 'auth-conf', 'des', [65536])).to.equal(true);
    expect(serverAccepts(p, 'auth-conf', '3des', [65536])).to.equal(false);
    const strict = makePolicy({ qop: ['auth-conf', 'auth-int', 'auth'], minSsf: 100 });
    expect(serverOffer(strict, 65536)).to.deep.equal({ qops: ['auth-conf'], ciphers: ['aes', 'rc4', '3des'] });
  });

  it('aes (draft-melnikov-sasl-digest-aes) is preferred when offered, and needs maxbuf >= 32 both ways', () => {
    const p = makePolicy({ qop: ['auth-conf'] });
    expect(chooseProtection(p, ['auth-conf'], ['3des', 'rc4', 'aes'], [65536, 65536]).cipher).to.equal('aes');
    expect(chooseProtection(p, ['auth-conf'], ['3des', 'rc4'], [65536, 65536]).cipher).to.equal('rc4');
    expect(chooseProtection(p, ['auth-conf'], ['aes', '3des'], [31, 65536]).cipher).to.equal('3des');
    expect(chooseProtection(p, ['auth-conf'], ['aes', '3des'], [65536, 31]).cipher).to.equal('3des');
    expect(serverOffer(p, 31).ciphers).to.deep.equal(['rc4', '3des']);
    expect(serverAccepts(p, 'auth-conf', 'aes', [31, 65536])).to.equal(false);
    expect(serverAccepts(p, 'auth-conf', 'aes', [32, 32])).to.equal(true);
  });

  it('end to end: the challenge carries cipher-opts only with auth-conf, and the server refuses a cipher it did not offer', async () => {
    const creds = { lookup: () => ({ password: 'p' }) };
    const s = new DigestMD5Server({ service: 'imap', hosts: 'h', credentials: creds, qop: ['auth-conf', 'auth'], ciphers: ['rc4'] });
    const ch = dec(await s.step());
    expect(ch).to.include('qop="auth-conf,auth"');
    expect(ch).to.include('cipher="rc4"');
    const c = new DigestMD5Client({ username: 'u', password: 'p', service: 'imap', host: 'h', qop: ['auth-conf'], ciphers: ['rc4'] });
    const r = dec(c.step(enc(ch)));
    expect(r).to.include('qop=auth-conf');
    expect(r).to.include('cipher=rc4');
    await expectCodeAsync(() => s.step(enc(r.replace('cipher=rc4', 'cipher=3des'))), 'invalid-response', /cipher "3des" was not offered/);
    const s2 = new DigestMD5Server({ service: 'imap', hosts: 'h', credentials: creds, qop: ['auth'] });
    expect(dec(await s2.step())).to.not.include('cipher=');
  });

  it('exposes the layer only for auth-int and auth-conf, the same object each time', async () => {
    const creds = { lookup: () => ({ password: 'p' }) };
    for (const qop of ['auth', 'auth-int', 'auth-conf'] as const) {
      const s = new DigestMD5Server({ service: 'imap', hosts: 'h', credentials: creds, qop: [qop] });
      const c = new DigestMD5Client({ username: 'u', password: 'p', service: 'imap', host: 'h', qop: [qop] });
      expect(c.securityLayer).to.equal(undefined);
      c.step(await s.step(c.step(await s.step())));
      expect(c.qop).to.equal(qop);
      if (qop === 'auth') {
        expect(c.securityLayer).to.equal(undefined);
        expect(s.securityLayer).to.equal(undefined);
        expect(c.ssf).to.equal(0);
      } else {
        expect(c.securityLayer).to.equal(c.securityLayer);
        expect(Array.from(s.securityLayer!.unwrap(c.securityLayer!.wrap(Uint8Array.of(1, 2))))).to.deep.equal([1, 2]);
        expect(c.cipher).to.equal(qop === 'auth-conf' ? 'aes' : undefined);
        expect(s.ssf).to.equal(qop === 'auth-conf' ? 128 : 1);
      }
    }
  });
});
