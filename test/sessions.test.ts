// Server sessions the Microsoft Digest way, with an injected clock.
import { expect } from 'chai';
import { DigestMD5Client, DigestMD5Server, type DigestMD5ClientOptions } from '../dist/index.js';
import { ServerSessions } from '../dist/sessions.js';
import { NonceIssuer } from '../dist/nonce.js';
import { ClientContextCache } from '../dist/client-cache.js';
import { MemoryNonceStore, LruTtlCache } from '../dist/stores/memory.js';
import { parseChallenge } from '../dist/messages.js';
import { dec, enc, expectCode, expectCodeAsync } from './helpers/util.js';

class FakeClock {
  t = 1_700_000_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

const creds = { lookup: ({ username }: { username: string }) => (username === 'chris' ? { password: 'secret' } : undefined) };
const KEY = new Uint8Array(32).fill(9);

function setup(o: ConstructorParameters<typeof ServerSessions>[0] = {}) {
  const clock = new FakeClock();
  const sessions = new ServerSessions({ serverId: 'imap1.example.org', nonceKey: KEY, now: clock.now, ...o });
  const server = () => new DigestMD5Server({ service: 'imap', hosts: 'mail.example.org', realms: ['example.org'], credentials: creds, sessions });
  const cache = new ClientContextCache({ now: clock.now });
  const client = (x: Partial<DigestMD5ClientOptions> = {}) =>
    new DigestMD5Client({ username: 'chris', password: 'secret', service: 'imap', host: 'mail.example.org', contextCache: cache, ...x });
  return { clock, sessions, server, client, cache };
}

async function fullExchange(s: DigestMD5Server, c: DigestMD5Client) {
  let msg = await s.step();
  while (!c.complete) {
    const reply = c.step(msg);
    if (c.complete) break;
    msg = await s.step(reply);
  }
  expect(s.complete).to.equal(true);
}

describe('self-verifying nonces', () => {
  const clock = new FakeClock();
  const issuer = new NonceIssuer({ serverId: 'imap1.example.org', key: KEY, now: clock.now });

  it('carry the server id and the issue time, and verify', () => {
    const n = issuer.issue();
    expect(n).to.match(/^[A-Za-z0-9_-]+$/);
    expect(issuer.inspect(enc(n))).to.deep.equal({ serverId: 'imap1.example.org', issuedAt: clock.t });
    expect(issuer.issue()).to.not.equal(n);
  });

  it('refuse a forged nonce (any bit flipped), a foreign one and a malformed one', () => {
    const n = issuer.issue();
    const raw = Buffer.from(n, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const f = Buffer.from(raw);
      f[i]! ^= 0x10;
      expectCode(() => issuer.inspect(enc(f.toString('base64url'))), 'invalid-response', /nonce/);
    }
    const other = new NonceIssuer({ serverId: 'imap2.example.org', key: KEY, now: clock.now });
    expectCode(() => issuer.inspect(enc(other.issue())), 'invalid-response', /issued by "imap2.example.org", not by this server/);
    const otherKey = new NonceIssuer({ serverId: 'imap1.example.org', key: new Uint8Array(32).fill(1), now: clock.now });
    expectCode(() => issuer.inspect(enc(otherKey.issue())), 'invalid-response', /MAC/);
    for (const bad of ['', 'abc', '!!!!', 'OA6MG9tEQGm2hh', 'A'.repeat(200)]) expectCode(() => issuer.inspect(enc(bad)), 'invalid-response');
  });

  it('need a key of at least 128 bits and a short server id', () => {
    expectCode(() => new NonceIssuer({ serverId: 'x', key: new Uint8Array(15) }), 'bad-option', /16 bytes/);
    expectCode(() => new NonceIssuer({ serverId: 'x'.repeat(65), key: KEY }), 'bad-option', /64/);
  });
});

describe('stale nonces', () => {
  it('an expired nonce with the right password gets stale=true, and the client retries by itself', async () => {
    const { clock, server, client } = setup({ nonceLifetimeMs: 60_000, partialTtlMs: 120_000 });
    const s = server();
    const c = client();
    const challenge = await s.step();
    clock.advance(61_000);
    const again = await s.step(c.step(challenge));
    expect(s.complete).to.equal(false);
    expect(parseChallenge(again).stale).to.equal(true);
    const rspauth = await s.step(c.step(again));
    c.step(rspauth);
    expect(c.complete).to.equal(true);
    expect(s.complete).to.equal(true);
  });

  it('an answer after the partial-context TTL is stale as well', async () => {
    const { clock, server, client } = setup();
    const s = server();
    const c = client();
    const challenge = await s.step();
    clock.advance(30_001);
    expect(parseChallenge(await s.step(c.step(challenge))).stale).to.equal(true);
  });

  it('an expired nonce with a wrong password fails', async () => {
    const { clock, server, client } = setup({ nonceLifetimeMs: 60_000 });
    const s = server();
    const challenge = await s.step();
    clock.advance(61_000);
    await expectCodeAsync(async () => s.step(client({ password: 'wrong' }).step(challenge)), 'auth-failed');
  });

  it('a second stale in a row is an error on the client', async () => {
    const { clock, server, client } = setup({ nonceLifetimeMs: 60_000 });
    const s = server();
    const c = client();
    const challenge = await s.step();
    clock.advance(61_000);
    const again = await s.step(c.step(challenge));
    clock.advance(61_000);
    const third = await s.step(c.step(again));
    expect(parseChallenge(third).stale).to.equal(true);
    expectCode(() => c.step(third), 'stale', /twice in a row/);
  });
});

describe('replay detection and subsequent authentication', () => {
  it('fast reauth with nc+1 from the client cache: no challenge, same user', async () => {
    const { server, client, sessions } = setup();
    await fullExchange(server(), client());
    expect(sessions.stats.contexts).to.equal(1);
    for (let round = 2; round <= 4; round++) {
      const c = client();
      const ir = c.initialResponse()!;
      expect(dec(ir)).to.include(`nc=0000000${round}`);
      const s = server();
      const rspauth = await s.step(ir);
      expect(s.complete).to.equal(true);
      expect(s.reauthenticated).to.equal(true);
      expect(s.username).to.equal('chris');
      c.step(rspauth);
      expect(c.reauthenticated).to.equal(true);
    }
  });

  it('refuses a replayed (nonce, nc) and an nc going backwards: the server challenges instead', async () => {
    const { server, client } = setup();
    await fullExchange(server(), client());
    const ir2 = client().initialResponse()!;
    const ir3 = client().initialResponse()!;
    const s3 = server();
    await s3.step(ir3);
    expect(s3.reauthenticated).to.equal(true);
    for (const replay of [ir3, ir2]) {
      const s = server();
      const out = await s.step(replay);
      expect(s.complete).to.equal(false);
      expect(parseChallenge(out).realms).to.deep.equal(['example.org']);
    }
  });

  it('holds the same with a nonce store and a credential store that answer asynchronously', async () => {
    let clockNow = () => 0; // the sessions' fake clock, once setup() has made it
    const memory = new MemoryNonceStore({ now: () => clockNow() });
    let asked = 0;
    const later = <T>(v: T) => new Promise<T>((resolve) => setTimeout(() => resolve(v), 1));
    const nonceStore = {
      advance: (nonce: string, nc: number, expiresAt: number) => {
        asked++;
        return later(memory.advance(nonce, nc, expiresAt));
      },
      delete: (nonce: string) => memory.delete(nonce),
      get size() {
        return memory.size;
      },
    };
    const { client, sessions, clock } = setup({ nonceStore });
    clockNow = clock.now;
    const remoteCreds = { lookup: (q: { username: string }) => later(creds.lookup(q)) };
    const server = () => new DigestMD5Server({ service: 'imap', hosts: 'mail.example.org', realms: ['example.org'], credentials: remoteCreds, sessions });
    await fullExchange(server(), client());
    const ir2 = client().initialResponse()!;
    const s2 = server();
    await s2.step(ir2);
    expect(s2.reauthenticated).to.equal(true);
    const replayed = server();
    await replayed.step(ir2);
    expect(replayed.complete).to.equal(false);
    expect(asked).to.equal(3);
    // A wrong password through the asynchronous store still fails.
    const s = server();
    const reply = client({ password: 'wrong' }).step(await s.step());
    await expectCodeAsync(() => s.step(reply), 'auth-failed');
  });

  it('the in-memory nonce store answers at once', () => {
    const store = new MemoryNonceStore();
    expect(store.advance('n', 1, Date.now() + 1000)).to.equal(true);
    expect(store.advance('n', 1, Date.now() + 1000)).to.equal(false);
  });

  it('a failed attempt does not advance the count', async () => {
    const { server, client } = setup();
    await fullExchange(server(), client());
    const good = dec(client().initialResponse()!);
    const forged = good.replace(/response=[0-9a-f]{32}/, 'response=' + '0'.repeat(32));
    const s1 = server();
    await s1.step(enc(forged));
    expect(s1.complete).to.equal(false);
    const s2 = server();
    await s2.step(enc(good));
    expect(s2.reauthenticated).to.equal(true);
  });

  it('falls back to a full exchange after the full-context TTL, and the client follows', async () => {
    const { clock, server, client } = setup();
    await fullExchange(server(), client());
    clock.advance(300_001);
    // The client's cache has the same default lifetime: nothing to offer.
    expect(client().initialResponse()).to.equal(undefined);
    // A server whose contexts live shorter than the client's declines, and the client authenticates in full.
    const { clock: clock2, server: server2, client: client2 } = setup({ contextTtlMs: 1000 });
    await fullExchange(server2(), client2());
    clock2.advance(1001);
    const c2 = client2();
    const ir = c2.initialResponse()!;
    const s = server2();
    const challenge = await s.step(ir);
    expect(s.complete).to.equal(false);
    await fullExchange2(s, c2, challenge);
    expect(c2.reauthenticated).to.equal(false);
  });

  it('a response to another exchange of the same server is refused (nonce not issued in this exchange)', async () => {
    const { server, client } = setup();
    const s1 = server();
    const r1 = client().step(await s1.step());
    const s2 = server();
    await s2.step();
    await expectCodeAsync(() => s2.step(r1), 'invalid-response', /not the one this server issued/);
  });

  it('a response whose nonce differs from the issued one in one byte, or in length, is refused', async () => {
    const { server, client } = setup();
    for (const edit of ['flip', 'shorter', 'longer'] as const) {
      const s = server();
      const challenge = await s.step();
      const text = new TextDecoder().decode(client().step(challenge));
      const nonce = /nonce="([^"]+)"/.exec(text)![1]!;
      const last = nonce[nonce.length - 1] === 'A' ? 'B' : 'A';
      const changed = edit === 'flip' ? nonce.slice(0, -1) + last : edit === 'shorter' ? nonce.slice(0, -1) : nonce + 'A';
      const tampered = new TextEncoder().encode(text.replace(nonce, changed));
      await expectCodeAsync(() => s.step(tampered), 'invalid-response', /not the one this server issued/);
    }
  });

  it('never caches contexts with a security layer (keys would repeat)', async () => {
    const { sessions, cache } = setup();
    const s = new DigestMD5Server({ service: 'imap', hosts: 'mail.example.org', realms: ['example.org'], credentials: creds, sessions, qop: ['auth-conf'] });
    const c = new DigestMD5Client({ username: 'chris', password: 'secret', service: 'imap', host: 'mail.example.org', contextCache: cache, qop: ['auth-conf'] });
    await fullExchange(s, c);
    expect(sessions.stats.contexts).to.equal(0);
    expect(cache.size).to.equal(0);
  });

  it('keeps the partial contexts bounded under a flood of 100k unanswered challenges', async () => {
    const { sessions, server, client } = setup({ maxPartialContexts: 5000 });
    const first = server();
    const c = client();
    const ch = await first.step();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100_000; i++) await server().step();
    expect(sessions.stats.partialContexts).to.equal(5000);
    // The flood evicted the first challenge: its right answer gets stale=true, then succeeds.
    const again = await first.step(c.step(ch));
    expect(parseChallenge(again).stale).to.equal(true);
    c.step(await first.step(c.step(again)));
    expect(c.complete).to.equal(true);
    // 5000 entries of a short string and a number: far below 100k challenges' worth.
    expect(process.memoryUsage().heapUsed - before).to.be.below(64 * 1024 * 1024);
  });
});

async function fullExchange2(s: DigestMD5Server, c: DigestMD5Client, challenge: Uint8Array) {
  const rspauth = await s.step(c.step(challenge));
  c.step(rspauth);
  expect(c.complete && s.complete).to.equal(true);
}

describe('stores', () => {
  it('MemoryNonceStore: nc strictly increasing, 1 for an unknown nonce, bounded, expiring', async () => {
    const clock = new FakeClock();
    const store = new MemoryNonceStore({ maxEntries: 3, now: clock.now });
    expect(await store.advance('a', 2, clock.t + 1000)).to.equal(false);
    expect(await store.advance('a', 1, clock.t + 1000)).to.equal(true);
    expect(await store.advance('a', 1, clock.t + 1000)).to.equal(false);
    expect(await store.advance('a', 3, clock.t + 1000)).to.equal(true);
    expect(await store.advance('a', 2, clock.t + 1000)).to.equal(false);
    for (const n of ['b', 'c', 'd']) expect(await store.advance(n, 1, clock.t + 1000)).to.equal(true);
    expect(store.size).to.equal(3);
    expect(await store.advance('a', 4, clock.t + 1000)).to.equal(false); // evicted: unknown now
    clock.advance(1001);
    expect(await store.advance('b', 2, clock.t + 1000)).to.equal(false); // expired
  });

  it('MemoryNonceStore: of concurrent equal advances exactly one wins', async () => {
    const store = new MemoryNonceStore();
    await store.advance('n', 1, Date.now() + 1000);
    const results = await Promise.all(Array.from({ length: 10 }, () => store.advance('n', 2, Date.now() + 1000)));
    expect(results.filter((r) => r)).to.have.length(1);
  });

  it('LruTtlCache: least recently used goes first', () => {
    const clock = new FakeClock();
    const c = new LruTtlCache<string, number>(2, clock.now);
    c.set('a', 1, 1000);
    c.set('b', 2, 1000);
    c.get('a');
    c.set('c', 3, 1000);
    expect([c.get('a'), c.get('b'), c.get('c')]).to.deep.equal([1, undefined, 3]);
  });

  it('ServerSessions checks its options', () => {
    expectCode(() => new ServerSessions({ partialTtlMs: 0 }), 'bad-option', /partialTtlMs/);
    expectCode(() => new ServerSessions({ maxContexts: 0 }), 'bad-option', /maxContexts/);
    expectCode(() => new ServerSessions({ nonceKey: new Uint8Array(4) }), 'bad-option', /16 bytes/);
  });
});
