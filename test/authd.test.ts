// The authenticating server (authd) and RemoteVerifier end to end on loopback, with
// certificates made by openssl for the run: originating servers authenticate clients
// through authd, relayed responses are refused, cached contexts need no authd, and
// losing authd fails new authentications closed while existing sessions go on.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import {
  ClientContextCache,
  DigestMD5Client,
  DigestMD5Server,
  hashCredentials,
  HashedCredentialStore,
  parseResponse,
  ServerSessions,
  type CredentialStore,
  type DigestMD5ClientOptions,
  type DigestMD5ServerOptions,
  type Qop,
} from '../dist/index.js';
import { AuthServer, createAuthServer, CredentialFile, RemoteVerifier, type AuthServerOptions, type RemoteVerifierOptions } from '../dist/node.js';
import { FrameDecoder, frame } from '../dist/layer/framing.js';
import { runAuthd } from '../dist/node/cli-authd.js';
import { makeCa, tempDir, type Leaf, type TestCa } from './helpers/certs.js';
import { dec, enc, expectCodeAsync } from './helpers/util.js';

const HELPER = fileURLToPath(new URL('./helpers/authd-main.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const USERS = [
  hashCredentials('chris', 'secret', { realm: 'example.org', forms: ['realm', 'upn'] }),
  hashCredentials('müller', 'pässwörd', { realm: 'example.org' }),
];

interface Pki {
  ca: TestCa;
  authd: Leaf;
  imap1: Leaf;
  imap2: Leaf;
  rogue: Leaf;
}

let tmp: { dir: string; remove: () => void };
let pki: Pki;
let storePath: string;

describe('authd', () => {
  before(function () {
    this.timeout(60_000);
    tmp = tempDir('digest-md5-authd-');
    const ca = makeCa(tmp.dir, 'test-ca');
    const other = makeCa(tmp.dir, 'other-ca');
    pki = {
      ca,
      authd: ca.leaf('authd.example.org', 'DNS:localhost,IP:127.0.0.1'),
      imap1: ca.leaf('imap1.example.org'),
      imap2: ca.leaf('imap2.example.org'),
      rogue: other.leaf('imap1.example.org'), // the right name from the wrong CA
    };
    storePath = join(tmp.dir, 'users.jsonl');
    writeFileSync(storePath, '', { mode: 0o600 });
  });

  after(() => tmp?.remove());

  function startAuthd(o: Partial<AuthServerOptions> = {}, port = 0): Promise<{ authd: AuthServer; port: number }> {
    const authd = createAuthServer({
      store: new HashedCredentialStore(USERS),
      tls: { key: pki.authd.key, cert: pki.authd.cert, ca: pki.ca.cert },
      ...o,
    });
    return authd.listen(port, '127.0.0.1').then((a) => ({ authd, port: a.port }));
  }

  function remote(port: number, leaf: Leaf, o: Partial<RemoteVerifierOptions> = {}): RemoteVerifier {
    return new RemoteVerifier({ host: '127.0.0.1', port, tls: { key: leaf.key, cert: leaf.cert, ca: pki.ca.cert }, timeoutMs: 3000, ...o });
  }

  /** An originating server: its sessions (serverId = its certificate's CN) and a server per exchange. */
  function originating(verifier: RemoteVerifier, serverId: string, o: Partial<DigestMD5ServerOptions> = {}) {
    const sessions = new ServerSessions({ serverId });
    return {
      sessions,
      server: () => new DigestMD5Server({ service: 'imap', hosts: 'mail.example.org', realms: ['example.org'], verifier, sessions, ...o }),
    };
  }

  const client = (x: Partial<DigestMD5ClientOptions> = {}) =>
    new DigestMD5Client({ username: 'chris', password: 'secret', service: 'imap', host: 'mail.example.org', ...x });

  async function exchange(s: DigestMD5Server, c: DigestMD5Client): Promise<void> {
    const ir = c.initialResponse();
    let msg = await s.step(ir);
    for (let i = 0; i < 4 && !c.complete; i++) {
      const reply = c.step(msg);
      if (c.complete) break;
      msg = await s.step(reply);
    }
    expect(c.complete).to.equal(true);
    expect(s.complete).to.equal(true);
  }

  /** Both directions of a security layer, a few messages each. */
  function checkLayer(s: DigestMD5Server, c: DigestMD5Client, round: number): void {
    for (let i = 0; i < 3; i++) {
      const up = enc(`client message ${round}.${i}`);
      expect(dec(s.securityLayer!.unwrap(c.securityLayer!.wrap(up)))).to.equal(dec(up));
      const down = enc(`server message ${round}.${i}`);
      expect(dec(c.securityLayer!.unwrap(s.securityLayer!.wrap(down)))).to.equal(dec(down));
    }
  }

  describe('authd in process, with RemoteVerifier', () => {
    let authd: AuthServer;
    let port: number;
    const verifiers: RemoteVerifier[] = [];
    const v = (leaf: Leaf, o: Partial<RemoteVerifierOptions> = {}) => {
      const r = remote(port, leaf, o);
      verifiers.push(r);
      return r;
    };

    beforeEach(async () => ({ authd, port } = await startAuthd()));
    afterEach(async () => {
      await Promise.all(verifiers.splice(0).map((r) => r.close()));
      await authd.close();
    });

    it('authenticates through authd: rspauth verifies and the layer keys derive from the returned H(A1)', async () => {
      const o = originating(v(pki.imap1), 'imap1.example.org', { qop: ['auth-conf', 'auth'] });
      const s = o.server();
      const c = client({ qop: ['auth-conf'] });
      await exchange(s, c);
      expect(s.username).to.equal('chris');
      expect(s.qop).to.equal('auth-conf');
      checkLayer(s, c, 1);
      expect(authd.stats).to.include({ requests: 1, accepted: 1, refused: 0 });
    });

    it('authenticates other forms and charsets the store holds (UPN without realm, Latin-1)', async () => {
      const verifier = v(pki.imap1);
      const noRealm = originating(verifier, 'imap1.example.org', { realms: [] });
      await exchange(noRealm.server(), client({ username: 'chris@example.org' }));
      await exchange(originating(verifier, 'imap1.example.org').server(), client({ username: 'müller', password: 'pässwörd' }));
      expect(authd.stats.accepted).to.equal(2);
    });

    it('refuses a wrong password and an unknown user with auth-failed from authd', async () => {
      const o = originating(v(pki.imap1), 'imap1.example.org');
      for (const c of [client({ password: 'wrong' }), client({ username: 'nobody' })]) {
        const s = o.server();
        await expectCodeAsync(async () => s.step(c.step(await s.step())), 'auth-failed', /^authd: authentication failed/);
      }
      expect(authd.stats).to.include({ requests: 2, refused: 2 });
    });

    it('refuses a response relayed by a second originating server with a different certificate', async () => {
      const one = originating(v(pki.imap1), 'imap1.example.org');
      const s = one.server();
      const response = client().step(await s.step());
      // imap2 (a rogue or compromised originating server) forwards the response it captured.
      const imap2 = v(pki.imap2);
      const e = await expectCodeAsync(
        () => imap2.verify({ response: parseResponse(response), raw: response }),
        'invalid-response',
        /the nonce was issued by "imap1.example.org", not by the calling server "imap2.example.org"/,
      );
      expect(e.message).to.match(/^authd: /);
      // An originating server lying about its own id in its nonces is refused the same way.
      const liar = originating(imap2, 'imap1.example.org').server();
      await expectCodeAsync(async () => liar.step(client().step(await liar.step())), 'invalid-response', /not by the calling server "imap2/);
      // The response itself was good: imap1 gets it through.
      const rspauth = await s.step(response);
      expect(dec(rspauth)).to.match(/^rspauth=[0-9a-f]{32}$/);
      expect(authd.stats).to.include({ accepted: 1, refused: 2 });
    });

    it('serves a subsequent authentication from the originating server\'s cache, without a call to authd', async () => {
      const o = originating(v(pki.imap1), 'imap1.example.org');
      const cache = new ClientContextCache();
      await exchange(o.server(), client({ contextCache: cache }));
      expect(authd.stats.requests).to.equal(1);
      for (let round = 0; round < 3; round++) {
        const s = o.server();
        const c = client({ contextCache: cache });
        await exchange(s, c);
        expect(s.reauthenticated).to.equal(true);
        expect(c.reauthenticated).to.equal(true);
      }
      expect(authd.stats.requests).to.equal(1);
    });

    it('refuses a certificate from another CA, and a server not on the allowed list', async () => {
      await expectCodeAsync(() => v(pki.rogue).verify(fakeRequest()), 'backend-failed', /authd at 127\.0\.0\.1:\d+ (is unreachable|was lost before it answered)/);
      await authd.close();
      ({ authd, port } = await startAuthd({ allowedServers: ['imap1.example.org'] }));
      await expectCodeAsync(() => v(pki.imap2).verify(fakeRequest()), 'backend-failed', /refused this server: policy: server "imap2.example.org" is not allowed/);
    });

    it('fails closed while authd is down, then reconnects with backoff', async () => {
      const verifier = v(pki.imap1, { backoff: { initialMs: 200, maxMs: 400 } });
      const o = originating(verifier, 'imap1.example.org');
      await exchange(o.server(), client());
      const p = port;
      await authd.close();
      const failing = async () => {
        const s = o.server();
        return expectCodeAsync(async () => s.step(client().step(await s.step())), 'backend-failed', /authd at 127\.0\.0\.1:\d+ (is unreachable|was lost before it answered)/);
      };
      const first = await failing();
      expect(first.message).to.match(/fails closed/);
      const second = await failing(); // within the backoff: refused at once, saying when it tries again
      expect(second.message).to.match(/next attempt in \d+ ms/);
      ({ authd } = await startAuthd({}, p));
      let ok = false;
      for (let i = 0; i < 40 && !ok; i++) {
        try {
          await exchange(o.server(), client());
          ok = true;
        } catch {
          await sleep(50);
        }
      }
      expect(ok, 'reconnected').to.equal(true);
      expect(verifier.stats).to.include({ connected: true, failures: 0 });
    });

    it('times out: a store that never answers, and an authd slower than the verifier\'s deadline', async () => {
      const hung: CredentialStore = { lookup: () => new Promise(() => undefined) };
      await authd.close();
      ({ authd, port } = await startAuthd({ store: hung, requestTimeoutMs: 150 }));
      await expectCodeAsync(() => v(pki.imap1).verify(fakeRequest()), 'backend-failed', /authd: the credential store did not answer within 150 ms/);
      await authd.close();
      ({ authd, port } = await startAuthd({ store: hung, requestTimeoutMs: 5000 }));
      const t0 = Date.now();
      await expectCodeAsync(() => v(pki.imap1, { timeoutMs: 150 }).verify(fakeRequest()), 'backend-failed', /did not answer within 150 ms/);
      expect(Date.now() - t0).to.be.lessThan(2000);
    });

    it('bounds the verifications in flight', async () => {
      await authd.close();
      ({ authd, port } = await startAuthd({ store: { lookup: () => new Promise(() => undefined) }, requestTimeoutMs: 300 }));
      const verifier = v(pki.imap1, { maxInFlight: 2 });
      const waiting = [verifier.verify(fakeRequest()), verifier.verify(fakeRequest())];
      await expectCodeAsync(() => verifier.verify(fakeRequest()), 'backend-failed', /2 verifications already wait/);
      for (const w of waiting) await expectCodeAsync(() => w, 'backend-failed', /did not answer within 300 ms/);
    });

    it('runs at most maxConcurrent verifications at once and refuses past maxQueuedPerConnection', async () => {
      const inner = new HashedCredentialStore(USERS);
      let running = 0;
      let peak = 0;
      const slow: CredentialStore = {
        lookup: async (q) => {
          peak = Math.max(peak, ++running);
          await sleep(20);
          running--;
          return inner.lookup(q);
        },
      };
      await authd.close();
      ({ authd, port } = await startAuthd({ store: slow, maxConcurrent: 2, maxInFlightPerConnection: 4, maxQueuedPerConnection: 8 }));
      const o = originating(v(pki.imap1), 'imap1.example.org');
      await Promise.all(Array.from({ length: 6 }, () => exchange(o.server(), client())));
      expect(peak).to.equal(2);
      expect(authd.stats).to.include({ accepted: 6, inFlight: 0 });
      // Twelve requests in one write: eight are taken, four refused as busy, each by its id.
      const s = o.server();
      const response = Buffer.from(client().step(await s.step())).toString('base64');
      const raw = await RawClient.connect(port, pki.imap1);
      raw.sendRaw(Buffer.concat(Array.from({ length: 12 }, (_, id) => Buffer.from(frame(Buffer.from(JSON.stringify({ v: 1, id, type: 'verify', response })))))));
      const replies = [];
      for (let i = 0; i < 12; i++) replies.push(await raw.next());
      const busy = replies.filter((r) => r.code === 'backend-failed');
      expect(busy.map((r) => r.id).sort((a, b) => a - b)).to.deep.equal([8, 9, 10, 11]);
      expect(busy[0].message).to.equal('authd is busy: too many requests on this connection');
      expect(replies.filter((r) => r.ok).length).to.equal(8); // authd does not detect replays: that is the originating server's nonce store
      raw.close();
    });

    it('fails closed when the credential file turns unsafe, and logs why', async () => {
      const path = join(tmp.dir, 'turns-unsafe.jsonl');
      const file = await CredentialFile.open(path, { create: true, checkIntervalMs: 1 });
      for (const r of USERS) await file.put(r);
      await authd.close();
      ({ authd, port } = await startAuthd({ store: file }));
      const events: { ok: boolean; message: string | undefined }[] = [];
      authd.on('request', (e) => events.push(e));
      const o = originating(v(pki.imap1), 'imap1.example.org');
      await exchange(o.server(), client());
      chmodSync(path, 0o644);
      await sleep(5);
      const s = o.server();
      const e = await expectCodeAsync(async () => s.step(client().step(await s.step())), 'backend-failed', /^authd: the credential store failed$/);
      expect(e.message).to.not.include(path); // the caller is not told the file's name
      expect(events.map((x) => x.ok)).to.deep.equal([true, false]);
      expect(events[1]!.message).to.match(/the credential store failed: .*turns-unsafe\.jsonl: refusing a credential file that every user may read/);
    });

    it('is a Verifier that a closed RemoteVerifier refuses', async () => {
      const verifier = v(pki.imap1);
      await verifier.close();
      await expectCodeAsync(() => verifier.verify(fakeRequest()), 'bad-state', /closed/);
    });

    describe('wire format (docs/authd.md)', () => {
      it('answers with the session key and rspauth only: never a stored hash', async () => {
        const o = originating(v(pki.imap1), 'imap1.example.org');
        const s = o.server();
        const response = client({ authzid: 'chris' }).step(await s.step());
        const raw = await RawClient.connect(port, pki.imap1);
        raw.send({ v: 1, id: 7, type: 'verify', response: Buffer.from(response).toString('base64'), offer: { realms: ['example.org'], qop: ['auth'], ciphers: [], maxbuf: 65536 } });
        const reply = await raw.next();
        expect(Object.keys(reply).sort()).to.deep.equal(['authzid', 'ha1', 'id', 'ok', 'realm', 'rspauth', 'username', 'v']);
        expect(reply).to.include({ v: 1, id: 7, ok: true, username: 'chris', realm: 'example.org', authzid: 'chris' });
        const stored = USERS[0]!.entries.flatMap((e) => [Buffer.from(e.hash).toString('hex'), e.hashUtf8 ? Buffer.from(e.hashUtf8).toString('hex') : '']);
        expect(stored).to.not.include(reply.ha1);
        expect(JSON.stringify(reply)).to.not.include(stored[0]);
        raw.close();
      });

      it('checks the response against the originating server\'s offer', async () => {
        const s = originating(v(pki.imap1), 'imap1.example.org').server();
        const response = Buffer.from(client().step(await s.step())).toString('base64');
        const raw = await RawClient.connect(port, pki.imap1);
        raw.send({ v: 1, id: 1, type: 'verify', response, offer: { realms: ['example.org'], qop: ['auth-int'], ciphers: [], maxbuf: 65536 } });
        expect(await raw.next()).to.include({ id: 1, ok: false, code: 'invalid-response' });
        raw.send({ v: 1, id: 2, type: 'verify', response, offer: { realms: ['other.org'], qop: ['auth'], ciphers: [], maxbuf: 65536 } });
        expect((await raw.next()).message).to.match(/realm "example.org" was not offered/);
        raw.close();
      });

      it('refuses bad requests by id, and closes on an unreadable frame', async () => {
        const raw = await RawClient.connect(port, pki.imap1);
        const cases: [object, string, RegExp][] = [
          [{ v: 1, id: 1, type: 'ping' }, 'unsupported', /request type "ping"/],
          [{ v: 2, id: 2, type: 'verify', response: '' }, 'unsupported', /version 2/],
          [{ v: 1, id: 3, type: 'verify', response: 'not base64!' }, 'malformed', /base64/],
          [{ v: 1, id: 4, type: 'verify', response: Buffer.from('hello').toString('base64') }, 'malformed', /./],
          [{ v: 1, id: 5, type: 'verify', response: 'A'.repeat(8000) }, 'too-large', /4096/],
          [{ v: 1, id: 6, type: 'verify', response: 'AAAA', offer: { realms: 'x' } }, 'malformed', /offer.realms/],
          [{ v: 1, id: 8, type: 'verify', response: Buffer.from(fakeResponse()).toString('base64') }, 'invalid-response', /names no server/],
        ];
        for (const [req, code, re] of cases) {
          raw.send(req);
          const reply = await raw.next();
          expect(reply, JSON.stringify(req).slice(0, 60)).to.include({ id: (req as { id: number }).id, ok: false, code });
          expect(reply.message).to.match(re);
        }
        raw.send(Buffer.from('{"no id":'));
        expect(await raw.next()).to.include({ id: null, ok: false, code: 'malformed' });
        await raw.closed;
      });

      it('refuses a declared length over the limit before reading it, and drops an unfinished frame', async () => {
        await authd.close();
        ({ authd, port } = await startAuthd({ frameTimeoutMs: 150 }));
        const big = await RawClient.connect(port, pki.imap1);
        big.sendRaw(Buffer.from([0x00, 0x10, 0x00, 0x00]));
        expect(await big.next()).to.include({ id: null, ok: false, code: 'too-large' });
        await big.closed;
        const partial = await RawClient.connect(port, pki.imap1);
        const t0 = Date.now();
        partial.sendRaw(Buffer.from([0x00, 0x00, 0x00, 0x40, 0x7b]));
        await partial.closed;
        expect(Date.now() - t0).to.be.within(100, 3000);
      });

      it('closes idle connections and bounds the connections', async () => {
        await authd.close();
        ({ authd, port } = await startAuthd({ idleTimeoutMs: 150, maxConnections: 1 }));
        const a = await RawClient.connect(port, pki.imap1);
        const b = await RawClient.connect(port, pki.imap1);
        expect(await b.next()).to.include({ id: null, code: 'backend-failed' });
        await b.closed;
        await a.closed; // idle
        expect(authd.stats.connections).to.equal(0);
      });
    });
  });

  describe('authd as a separate process (runAuthd)', () => {
    let child: ChildProcess | undefined;
    let port: number;
    let stderr = '';
    const verifiers: RemoteVerifier[] = [];

    before(async function () {
      this.timeout(20_000);
      const file = await CredentialFile.open(storePath);
      for (const r of USERS) await file.put(r);
      const conditions = process.execArgv.filter((a) => a.startsWith('--conditions') || a.startsWith('-C'));
      child = spawn(
        process.execPath,
        [...conditions, HELPER, '--store', storePath, '--cert', pki.authd.certPath, '--key', pki.authd.keyPath, '--ca', pki.ca.certPath, '--port', '0'],
        { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, AUTHD_TEST_LIFETIME_MS: '120000' } },
      );
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      port = await new Promise<number>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`authd did not start: ${stderr}`)), 10_000);
        child!.stdout!.on('data', (d: Buffer) => {
          out += d.toString('utf8');
          const m = /listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child!.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`authd exited with ${code}: ${stderr}`));
        });
      });
    });

    after(async () => {
      await Promise.all(verifiers.splice(0).map((r) => r.close()));
      await stopChild(child, 'SIGKILL');
    });

    it('authenticates through it; killing it fails new authentications closed while existing sessions go on', async () => {
      const verifier = remote(port, pki.imap1, { backoff: { initialMs: 100, maxMs: 200 } });
      verifiers.push(verifier);
      const o = originating(verifier, 'imap1.example.org', { qop: ['auth-conf', 'auth-int', 'auth'] as Qop[] });
      // A wrapped session (auth-conf) and a cached qop=auth context, both through the real authd.
      const s1 = o.server();
      const c1 = client({ qop: ['auth-conf'] });
      await exchange(s1, c1);
      checkLayer(s1, c1, 1);
      const cache = new ClientContextCache();
      await exchange(o.server(), client({ qop: ['auth'], contextCache: cache }));
      expect(stderr).to.match(/imap1\.example\.org 127\.0\.0\.1:\d+: chris realm=example\.org ok\n/);

      await stopChild(child, 'SIGKILL');
      child = undefined;

      for (let i = 0; i < 2; i++) {
        const s = o.server();
        await expectCodeAsync(
          async () => s.step(client().step(await s.step())),
          'backend-failed',
          /^authd at 127\.0\.0\.1:\d+ (is unreachable \(.*\); authentication fails closed|was lost before it answered)/,
        );
      }
      // The session authenticated before goes on: its keys live in the originating server.
      checkLayer(s1, c1, 2);
      // And the cached context still serves a subsequent authentication, without authd.
      const s = o.server();
      await exchange(s, client({ qop: ['auth'], contextCache: cache }));
      expect(s.reauthenticated).to.equal(true);
    });
  });

  describe('digest-md5 authd (runAuthd)', () => {
    class Sink extends Writable {
      text = '';
      override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
        this.text += chunk.toString('utf8');
        cb();
      }
    }
    const run = async (argv: string[], stop: Promise<unknown> = Promise.resolve()) => {
      const stdout = new Sink();
      const stderr = new Sink();
      const code = await runAuthd(argv, { stdout, stderr, stop });
      return { code, out: stdout.text, err: stderr.text };
    };
    const base = () => ['--store', storePath, '--cert', pki.authd.certPath, '--key', pki.authd.keyPath, '--ca', pki.ca.certPath];

    it('prints help; usage errors exit 2 with one line', async () => {
      expect((await run(['--help'])).out).to.include('usage: digest-md5 authd --store FILE');
      for (const argv of [[], ['--port', '0'], [...base()], [...base(), '--port', '70000'], [...base(), '--port', '0', 'extra'], [...base(), '--port', '0', '--bogus']]) {
        const r = await run(argv);
        expect(r.code, argv.join(' ')).to.equal(2);
        expect(r.err).to.match(/^digest-md5 authd: [^\n]*\(see digest-md5 authd --help\)\n$/);
      }
    });

    it('fails with one line on a world-readable key or store, or a missing file', async () => {
      const key = join(tmp.dir, 'open.key');
      writeFileSync(key, readFileSync(pki.authd.keyPath));
      chmodSync(key, 0o644);
      const a = await run(['--store', storePath, '--cert', pki.authd.certPath, '--key', key, '--ca', pki.ca.certPath, '--port', '0']);
      expect(a.code).to.equal(1);
      expect(a.err).to.match(/^digest-md5 authd: --key .*refusing a private key that every user may read \(mode 0644\)/);
      const store = join(tmp.dir, 'open.jsonl');
      writeFileSync(store, '');
      chmodSync(store, 0o644);
      const b = await run(['--store', store, '--cert', pki.authd.certPath, '--key', pki.authd.keyPath, '--ca', pki.ca.certPath, '--port', '0']);
      expect(b.code).to.equal(1);
      expect(b.err).to.match(/every user may read/);
      const c = await run(['--store', join(tmp.dir, 'none'), '--cert', pki.authd.certPath, '--key', pki.authd.keyPath, '--ca', pki.ca.certPath, '--port', '0']);
      expect(c.code).to.equal(1);
      expect(c.err).to.match(/no such file/);
    });

    it('serves until stopped, logging each request', async () => {
      let stop!: () => void;
      const stopped = new Promise<void>((r) => (stop = r));
      const stdout = new Sink();
      const stderr = new Sink();
      const running = runAuthd([...base(), '--port', '0', '--allow', 'imap1.example.org'], { stdout, stderr, stop: stopped });
      let p = 0;
      for (let i = 0; i < 100 && p === 0; i++) {
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout.text);
        if (m) p = Number(m[1]);
        else await sleep(20);
      }
      expect(p).to.be.greaterThan(0);
      const verifier = remote(p, pki.imap1);
      try {
        await exchange(originating(verifier, 'imap1.example.org').server(), client());
      } finally {
        await verifier.close();
        stop();
      }
      expect(await running).to.equal(0);
      expect(stderr.text).to.include('user(s) in');
      expect(stderr.text).to.include('servers allowed: imap1.example.org');
      expect(stderr.text).to.match(/imap1\.example\.org 127\.0\.0\.1:\d+: chris realm=example\.org ok/);
    });
  });
});

/** A digest-response with a nonce that is not of this implementation (for requests that must fail early). */
function fakeResponse(): Uint8Array {
  return enc('username="chris",realm="example.org",nonce="abc",cnonce="def",nc=00000001,qop=auth,digest-uri="imap/mail.example.org",response=0123456789abcdef0123456789abcdef');
}

function fakeRequest() {
  // A well-formed response with a nonce naming imap1, so that only the store or the transport can fail it.
  const sessions = new ServerSessions({ serverId: 'imap1.example.org' });
  const { nonce } = sessions.issueChallenge();
  const raw = enc(`username="chris",realm="example.org",nonce="${nonce}",cnonce="def",nc=00000001,qop=auth,digest-uri="imap/mail.example.org",response=0123456789abcdef0123456789abcdef`);
  return { response: parseResponse(raw), raw };
}

/** Kills a child and waits (bounded) for it to exit. */
async function stopChild(c: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill(signal);
  c.unref();
  await Promise.race([exited, sleep(5000)]);
  c.stdin?.destroy();
  c.stdout?.destroy();
  c.stderr?.destroy();
}

/** A bare TLS client speaking authd's frames, for the wire-format tests. */
class RawClient {
  private readonly decoder = new FrameDecoder(1 << 20);
  private readonly replies: Record<string, unknown>[] = [];
  private waiter: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(private readonly socket: tls.TLSSocket) {
    socket.on('data', (d: Buffer) => {
      for (const f of this.decoder.push(d)) this.replies.push(JSON.parse(Buffer.from(f).toString('utf8')));
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }

  static connect(port: number, leaf: Leaf): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, key: leaf.key, cert: leaf.cert, ca: pki.ca.cert }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send(message: object | Buffer): void {
    const body = Buffer.isBuffer(message) ? message : Buffer.from(JSON.stringify(message));
    this.socket.write(frame(body));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async next(timeoutMs = 3000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (Date.now() > deadline) throw new Error('no reply from authd');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 50);
      });
    }
    return this.replies.shift();
  }

  close(): void {
    this.socket.destroy();
  }
}
