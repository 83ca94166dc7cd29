// Callers may reuse their message buffers: nothing this library keeps may alias them. The
// client parses a challenge in place (it is done with it before step() returns); the
// server parses in place too and copies what it needs before its first await.
import { expect } from 'chai';
import { ClientContextCache, DigestMD5Client, DigestMD5Server, ServerSessions, type Credential } from '../dist/index.js';
import { parseChallenge, parseResponse } from '../dist/messages.js';
import { dec, enc } from './helpers/util.js';

const clientOptions = { username: 'chris', password: 'secret', service: 'imap', host: 'mail.example.org' };

describe('buffers reused by the caller', () => {
  it('parse options: views into the input without copy, into a private copy by default', () => {
    const input = enc('realm="example.org",nonce="abcdef",qop="auth",algorithm=md5-sess');
    const copied = parseChallenge(input);
    const viewed = parseChallenge(input, { copy: false });
    input.fill(0x78, 27, 33); // the nonce's bytes
    expect(dec(copied.nonce)).to.equal('abcdef');
    expect(dec(viewed.nonce)).to.equal('xxxxxx');
  });

  it('the server is not disturbed when the response buffer is overwritten while the credential lookup waits', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const credentials = {
      lookup: async ({ username }: { username: string }): Promise<Credential | undefined> => {
        await gate;
        return username === 'chris' ? { password: 'secret' } : undefined;
      },
    };
    const s = new DigestMD5Server({ service: 'imap', hosts: 'mail.example.org', realms: ['example.org'], credentials });
    const c = new DigestMD5Client(clientOptions);
    const response = c.step(await s.step());
    const pending = s.step(response);
    await new Promise((r) => setImmediate(r));
    response.fill(0x41); // the caller reuses its buffer before the lookup answers
    release();
    c.step(await pending);
    expect(s.complete && c.complete).to.equal(true);
    expect(s.username).to.equal('chris');
    expect(s.realm).to.equal('example.org');
  });

  it('the client is not disturbed when the challenge buffer is overwritten after step(), context cache included', async () => {
    const sessions = new ServerSessions({ serverId: 'imap1' });
    const server = () => new DigestMD5Server({ service: 'imap', hosts: 'mail.example.org', credentials: { lookup: () => ({ password: 'secret' }) }, sessions });
    const contextCache = new ClientContextCache();
    const s = server();
    const c = new DigestMD5Client({ ...clientOptions, contextCache });
    const challenge = await s.step();
    const nonce = dec(parseChallenge(challenge).nonce);
    const response = c.step(challenge);
    challenge.fill(0x41);
    c.step(await s.step(response));
    expect(c.complete).to.equal(true);
    // The cached context carries the real nonce: a subsequent authentication succeeds.
    const c2 = new DigestMD5Client({ ...clientOptions, contextCache });
    const initial = c2.initialResponse()!;
    expect(dec(parseResponse(initial).nonce)).to.equal(nonce);
    const s2 = server();
    c2.step(await s2.step(initial));
    expect(c2.complete && c2.reauthenticated).to.equal(true);
  });
});
