// DigestMD5ServerConfig: options checked once and shared by a listener's exchanges. Its
// prepared challenge must be byte for byte what the full serialiser writes, whatever the
// realms (quotes and backslashes in them too), charset, qop, ciphers and maxbuf.
import { expect } from 'chai';
import { DigestMD5Client, DigestMD5Server, DigestMD5ServerConfig, ServerSessions, type DigestMD5ServerOptions } from '../dist/index.js';
import { parseChallenge } from '../dist/messages.js';
import { dec, enc, expectCode } from './helpers/util.js';

const creds = { lookup: ({ username }: { username: string }) => (username === 'chris' ? { password: 'secret' } : undefined) };
const base: DigestMD5ServerOptions = { service: 'imap', hosts: 'mail.example.org', credentials: creds };

describe('DigestMD5ServerConfig', () => {
  const variants: Partial<DigestMD5ServerOptions>[] = [
    {},
    { realms: [] },
    { realms: ['example.org', 'a"quoted\\realm', 'третий'] },
    { utf8: false, realms: ['example.org'] },
    { qop: ['auth-conf', 'auth-int', 'auth'], ciphers: ['aes', 'rc4', '3des', 'des', 'rc4-56', 'rc4-40'] },
    { qop: ['auth-int'], maxbuf: 1000 },
    { qop: ['auth-conf'], ciphers: ['rc4'], maxbuf: 16777215 },
  ];
  for (const v of variants) {
    it(`prepares the challenge the serialiser writes: ${JSON.stringify(v)}`, () => {
      const cfg = new DigestMD5ServerConfig({ ...base, ...v });
      for (const nonce of ['AQGiBfOMtxRvkkJTr5tTyUnUE4CC1gMTZWx3b29k', 'x', 'nonce-with_dashes', 'back\\slash']) {
        const prepared = cfg.challenge(enc(nonce), false);
        expect(dec(prepared)).to.equal(dec(cfg.serialiseChallenge(enc(nonce), false)));
        expect(dec(parseChallenge(prepared).nonce)).to.equal(nonce);
      }
      expect(parseChallenge(cfg.challenge(enc('n'), true)).stale).to.equal(true);
    });
  }

  it('remembers right digest-uris without accepting wrong ones, past its bound too', () => {
    const cfg = new DigestMD5ServerConfig({ ...base, hosts: ['mail.example.org', 'imap.example.org'] });
    for (let round = 0; round < 3; round++) {
      expect(cfg.digestUriProblem('imap/mail.example.org')).to.equal(undefined);
      expect(cfg.digestUriProblem('IMAP/Mail.Example.org/mail.example.org')).to.equal(undefined);
      expect(cfg.digestUriProblem('imap/other.example.org')).to.match(/not a name of this server/);
      expect(cfg.digestUriProblem('smtp/mail.example.org')).to.match(/service "smtp"/);
      expect(cfg.digestUriProblem('imap/mail.example.org/replica')).to.match(/does not name this service/);
      expect(cfg.digestUriProblem('imap')).to.match(/serv-type\/host/);
    }
    const any = new DigestMD5ServerConfig({ ...base, hosts: '*', realms: [] });
    for (let i = 0; i < 200; i++) expect(any.digestUriProblem(`imap/host${i}.example.org`)).to.equal(undefined);
    expect(any.digestUriProblem('pop/host1.example.org')).to.match(/service "pop"/);
    expect(any.digestUriProblem('imap/')).to.match(/not a name of this server/);
  });

  it('one config serves many exchanges, each with its own nonce, and a stale round', async () => {
    let t = 1_000_000;
    const sessions = new ServerSessions({ serverId: 'imap1', nonceLifetimeMs: 60_000, now: () => t });
    const cfg = new DigestMD5ServerConfig({ ...base, realms: ['example.org'], sessions });
    const nonces = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const s = new DigestMD5Server(cfg);
      const c = new DigestMD5Client({ username: 'chris', password: 'secret', service: 'imap', host: 'mail.example.org' });
      const challenge = await s.step();
      nonces.add(dec(parseChallenge(challenge).nonce));
      if (i === 4) t += 61_000; // the last one answers too late: stale=true, then succeeds
      let reply = await s.step(c.step(challenge));
      if (i === 4) {
        expect(parseChallenge(reply).stale).to.equal(true);
        reply = await s.step(c.step(reply));
      }
      c.step(reply);
      expect(s.complete && c.complete, `exchange ${i}`).to.equal(true);
      expect(s.username).to.equal('chris');
    }
    expect(nonces.size).to.equal(5);
  });

  it('refuses bad options when it is made, as the server does', () => {
    expectCode(() => new DigestMD5ServerConfig({ ...base, service: 'a/b' }), 'bad-option', /service/);
    expectCode(() => new DigestMD5ServerConfig({ ...base, hosts: [] }), 'bad-option', /hosts/);
    expectCode(() => new DigestMD5ServerConfig({ ...base, hosts: '*' }), 'bad-option', /realms/);
    expectCode(() => new DigestMD5ServerConfig({ ...base, maxbuf: 10 }), 'bad-option', /maxbuf/);
    expectCode(() => new DigestMD5ServerConfig({ service: 'imap', hosts: 'h' }), 'bad-option', /credentials or verifier/);
    expectCode(() => new DigestMD5Server({ ...base, maxbuf: 10 }), 'bad-option', /maxbuf/);
  });

  it('keeps the options it was given, whatever the caller changes in its object later', async () => {
    const options: DigestMD5ServerOptions = { ...base, realms: ['example.org'] };
    const cfg = new DigestMD5ServerConfig(options);
    (options as { realms?: string[] }).realms = ['other.org'];
    const c = parseChallenge(await new DigestMD5Server(cfg).step());
    expect(c.realms).to.deep.equal(['example.org']);
  });
});
