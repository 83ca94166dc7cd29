// The sample protocol (docs/protocol.md) end to end on 127.0.0.1: every qop and cipher,
// what goes over the wire, and a hostile or confused client at every step.
import { expect } from 'chai';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  connectProtocolClient,
  createProtocolServer,
  hashUserRealmPassword,
  secureStream,
  wrapFramed,
  splitFrames,
  DigestMD5Client,
  DigestMD5Error,
  DigestMD5Server,
  ProtocolClient,
  ProtocolError,
  type ProtocolServer,
  type ProtocolServerOptions,
  type CipherName,
  type Qop,
} from '../dist/node.js';
import { LineChannel } from '../dist/node/line-channel.js';
import { startProxy, type Proxy } from './helpers/tcp-proxy.js';
import { duplexPair } from './helpers/duplex-pair.js';

const REALM = 'example.org';
const USERS = new Map([
  ['alice', hashUserRealmPassword('alice', REALM, 'wonderland')],
  ['bob', hashUserRealmPassword('bob', REALM, 'builder')],
]);
const CIPHERS: CipherName[] = ['aes', '3des', 'des', 'rc4', 'rc4-56', 'rc4-40'];
const SPECS: [Qop, CipherName | undefined][] = [['auth', undefined], ['auth-int', undefined], ...CIPHERS.map((c): [Qop, CipherName] => ['auth-conf', c])];
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function serverOptions(extra: Partial<ProtocolServerOptions> = {}): ProtocolServerOptions {
  return {
    name: 'test server',
    ...extra,
    sasl: {
      hosts: ['localhost', '127.0.0.1'],
      realms: [REALM],
      qop: ['auth-conf', 'auth-int', 'auth'],
      ciphers: CIPHERS,
      credentials: { lookup: ({ username, realm }) => (realm === REALM && USERS.has(username) ? { hashedSecret: USERS.get(username)! } : undefined) },
      ...extra.sasl,
    },
  };
}

/** A line-level client on a raw socket, for driving the server by hand. */
class RawClient {
  lines: LineChannel;
  out: import('node:stream').Duplex;
  constructor(readonly socket: Socket) {
    socket.on('error', () => {});
    this.lines = new LineChannel(socket, 1 << 20);
    this.out = socket;
  }
  static async open(port: number): Promise<RawClient> {
    const s = connect({ port, host: '127.0.0.1' });
    await new Promise((r, j) => (s.once('connect', r), s.once('error', j)));
    return new RawClient(s);
  }
  send(line: string): void {
    this.out.write(line + '\r\n');
  }
  /** The next line, or undefined at the end; fails after 5 s. */
  async next(): Promise<string | undefined> {
    let t: NodeJS.Timeout | undefined;
    const l = await Promise.race([
      this.lines.next(),
      new Promise<never>((_, j) => (t = setTimeout(() => j(new Error('no line within 5 s')), 5000))),
    ]).finally(() => clearTimeout(t));
    return l.kind === 'line' ? l.text : l.kind === 'end' ? undefined : '(too long)';
  }
  async ask(line: string): Promise<string | undefined> {
    this.send(line);
    return this.next();
  }
  /** Runs the exchange up to the rspauth, returning the mechanism client. */
  async toRspauth(options: { qop?: Qop[]; password?: string } = {}): Promise<{ sasl: DigestMD5Client; rspauth: Uint8Array }> {
    const sasl = new DigestMD5Client({ username: 'alice', password: options.password ?? 'wonderland', service: 'sample', host: 'localhost', qop: options.qop ?? ['auth'] });
    const c = await this.ask('AUTHENTICATE DIGEST-MD5');
    expect(c).to.match(/^\+ /);
    const r = await this.ask(b64(sasl.step(unb64(c!.slice(2)))));
    expect(r, 'rspauth line').to.match(/^\+ /);
    return { sasl, rspauth: unb64(r!.slice(2)) };
  }
  destroy(): void {
    this.socket.destroy();
  }
}

describe('sample protocol over TCP (127.0.0.1)', function () {
  this.timeout(20000);
  let server: ProtocolServer;
  let port: number;
  const cleanup: (() => unknown)[] = [];
  const sessionErrors: Error[] = [];

  async function start(extra: Partial<ProtocolServerOptions> = {}): Promise<void> {
    server = createProtocolServer(serverOptions(extra));
    server.on('session-error', (e) => sessionErrors.push(e));
    port = (await server.listen(0, '127.0.0.1')).port;
    cleanup.push(() => server.close());
  }

  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
    sessionErrors.length = 0;
  });

  describe('every qop and cipher', () => {
    for (const [qop, cipher] of SPECS) {
      it(`${qop}${cipher ? '/' + cipher : ''}: authenticates, runs every command inside the layer, and quits`, async () => {
        await start();
        const proxy = await startProxy(port);
        cleanup.push(() => proxy.close());
        const authenticated: string[] = [];
        server.on('authenticated', (id) => authenticated.push(`${id.authzid} ${id.qop} ${id.cipher ?? 'none'}`));
        const c = await connectProtocolClient({
          port: proxy.port,
          sasl: { username: 'alice', password: 'wonderland', host: 'localhost', qop: [qop], ...(cipher ? { ciphers: [cipher] } : {}) },
        });
        cleanup.push(() => c.destroy());
        expect(c.greeting).to.equal('* OK test server ready');
        expect([c.qop, c.cipher]).to.deep.equal([qop, cipher]);
        expect(authenticated).to.deep.equal([`alice ${qop} ${cipher ?? 'none'}`]);

        const cap = await c.command('CAPABILITY');
        expect(cap.ok).to.equal(true);
        expect(cap.untagged).to.deep.equal([`CAPABILITY SASL DIGEST-MD5 qop=auth-conf,auth-int,auth cipher=${CIPHERS.join(',')}`]);
        expect(await c.command('ECHO hello, secret world')).to.deep.equal({ ok: true, text: 'hello, secret world', untagged: [] });
        expect(await c.command('PUT colour blue green')).to.deep.include({ ok: true, text: 'stored' });
        expect(await c.command('GET colour')).to.deep.include({ ok: true, text: 'blue green' });
        expect(await c.command('GET shape')).to.deep.include({ ok: false, text: 'no such key' });
        const who = await c.command('WHOAMI');
        expect(who.text).to.equal(`alice realm=${REALM} qop=${qop} cipher=${cipher ?? 'none'} ssf=${c.ssf}`);
        expect(await c.command('AUTHENTICATE DIGEST-MD5')).to.deep.include({ ok: false, text: 'already authenticated' });
        expect(await c.command('FROB')).to.deep.include({ ok: false, text: 'unknown command "FROB"' });
        // A big reply: several buffers at the peer's maxbuf.
        const big = 'x'.repeat(7000);
        expect((await c.command(`ECHO ${big}`)).text).to.equal(big);
        expect(await c.quit()).to.deep.include({ ok: true, text: 'bye' });

        // On the wire: plaintext up to and including the OK line (server) and the empty line (client), then only buffers.
        const rec = proxy.recordings[0]!;
        const okAt = rec.s2c.indexOf(`OK qop=${qop} cipher=${cipher ?? 'none'}\r\n`);
        expect(okAt).to.be.greaterThan(0);
        const s2cAfter = rec.s2c.subarray(rec.s2c.indexOf('\r\n', okAt) + 2);
        const c2sAfter = rec.c2s.subarray(rec.c2s.indexOf('\r\n\r\n') + 4);
        if (qop === 'auth') {
          expect(s2cAfter.toString()).to.include('OK hello, secret world\r\n');
          expect(c2sAfter.toString()).to.match(/^CAPABILITY\r\nECHO hello/);
        } else {
          const fromServer = splitFrames(s2cAfter, 65536);
          const fromClient = splitFrames(c2sAfter, 65536);
          expect(fromServer.length).to.be.at.least(10);
          expect(fromClient.length).to.be.at.least(10);
          const visible = qop === 'auth-int';
          expect(s2cAfter.includes('hello, secret world'), 'reply in the clear').to.equal(visible);
          expect(c2sAfter.includes('hello, secret world'), 'command in the clear').to.equal(visible);
        }
        await until(() => server.sessionCount === 0);
        expect(sessionErrors).to.deep.equal([]);
      });
    }
  });

  describe('before authentication', () => {
    it('answers NO authenticate first to everything but AUTHENTICATE, CAPABILITY and QUIT', async () => {
      await start();
      const r = await RawClient.open(port);
      cleanup.push(() => r.destroy());
      expect(await r.next()).to.equal('* OK test server ready');
      for (const cmd of ['ECHO hi', 'PUT a b', 'GET a', 'WHOAMI', 'FROB', '', 'echo lower case']) {
        expect(await r.ask(cmd), cmd).to.equal('NO authenticate first');
      }
      expect(await r.ask('ECHO bell\x07here')).to.equal('NO control characters are not allowed');
      expect(await r.ask('capability')).to.match(/^\* CAPABILITY SASL DIGEST-MD5 qop=auth-conf,auth-int,auth cipher=aes,/);
      expect(await r.next()).to.equal('OK');
      expect(await r.ask('AUTHENTICATE PLAIN')).to.equal('NO unsupported mechanism "PLAIN"');
      expect(await r.ask('AUTHENTICATE')).to.equal('NO usage: AUTHENTICATE DIGEST-MD5');
      expect(await r.ask('QUIT')).to.equal('OK bye');
      expect(await r.next()).to.equal(undefined);
    });

    it('a client that cancels with "*" at either step gets NO and may try again', async () => {
      await start();
      const r = await RawClient.open(port);
      cleanup.push(() => r.destroy());
      await r.next();
      expect(await r.ask('AUTHENTICATE DIGEST-MD5')).to.match(/^\+ /);
      expect(await r.ask('*')).to.equal('NO authentication cancelled');
      expect(await r.ask('ECHO x')).to.equal('NO authenticate first');
      await r.toRspauth();
      expect(await r.ask('*')).to.equal('NO authentication cancelled');
      // A third attempt completes.
      const { sasl, rspauth } = await r.toRspauth();
      sasl.step(rspauth);
      expect(await r.ask('')).to.equal('OK qop=auth cipher=none');
      expect(await r.ask('ECHO in')).to.equal('OK in');
    });

    it('bad base64, a non-empty final response, and a bad digest-response each get NO', async () => {
      await start({ maxAuthFailures: 10 });
      const r = await RawClient.open(port);
      cleanup.push(() => r.destroy());
      await r.next();
      expect(await r.ask('AUTHENTICATE DIGEST-MD5')).to.match(/^\+ /);
      expect(await r.ask('not base64!')).to.equal('NO invalid base64');
      expect(await r.ask('AUTHENTICATE DIGEST-MD5')).to.match(/^\+ /);
      expect(await r.ask('YWJj ZA==')).to.equal('NO invalid base64');
      expect(await r.ask('AUTHENTICATE DIGEST-MD5')).to.match(/^\+ /);
      expect(await r.ask(b64(Buffer.from('username="alice"')))).to.match(/^NO malformed: /);
      await r.toRspauth();
      expect(await r.ask(b64(Buffer.from('unexpected')))).to.match(/^NO malformed: .*must be empty/);
      expect(await r.ask('ECHO x')).to.equal('NO authenticate first');
    });

    it('a wrong password is refused; after maxAuthFailures the server says BYE and closes', async () => {
      await start({ maxAuthFailures: 2 });
      const c = await ProtocolClient.open(await tcp(port));
      cleanup.push(() => c.destroy());
      const err = await rejection(c.authenticate({ username: 'alice', password: 'wrong', host: 'localhost' }));
      expect(err).to.be.instanceOf(ProtocolError);
      expect((err as ProtocolError).code).to.equal('refused');
      expect(err.message).to.match(/auth-failed/);
      const err2 = await rejection(c.authenticate({ username: 'nobody', password: 'x', host: 'localhost' }));
      expect(err2.message).to.match(/auth-failed/);
      // The BYE follows the second NO; the next command finds the connection closed.
      const err3 = await rejection(c.command('CAPABILITY'));
      expect((err3 as ProtocolError).code).to.equal('closed');
      expect(err3.message).to.match(/too many failed authentications|closed/);
    });

    it('connectProtocolClient rejects with the typed error when authentication fails', async () => {
      await start();
      const e1 = await rejection(connectProtocolClient({ port, sasl: { username: 'bob', password: 'wrong', host: 'localhost' } }));
      expect((e1 as ProtocolError).code).to.equal('refused');
      // No qop in common: the client cancels and reports the mechanism's own error.
      const e2 = await rejection(
        connectProtocolClient({ port, sasl: { username: 'bob', password: 'builder', host: 'localhost', qop: ['auth-conf'], ciphers: ['rc4'], minSsf: 200 } }),
      );
      expect(e2).to.be.instanceOf(DigestMD5Error);
      expect((e2 as DigestMD5Error).code).to.be.oneOf(['bad-option', 'policy']);
      const e3 = await rejection(connectProtocolClient({ port, sasl: { username: 'bob', password: 'builder', host: 'elsewhere.example' } }));
      expect(e3.message).to.match(/invalid-response: .*host/);
    });

    it('a client detects a server that does not know the password (rspauth), cancels, and reports mutual-auth-failed', async () => {
      // A fake server that runs the real exchange but alters rspauth.
      const fake: Server = createServer((s) => {
        s.on('error', () => {});
        const lines = new LineChannel(s, 8192);
        const sasl = new DigestMD5Server({ service: 'sample', hosts: '127.0.0.1', realms: [REALM], credentials: { lookup: () => ({ password: 'wonderland' }) } });
        void (async () => {
          s.write('* OK fake ready\r\n');
          await lines.next(); // AUTHENTICATE
          s.write(`+ ${b64(await sasl.step())}\r\n`);
          const resp = await lines.next();
          const rsp = Buffer.from(await sasl.step(unb64((resp as { text: string }).text)));
          rsp[rsp.length - 1] = rsp[rsp.length - 1] === 0x30 ? 0x31 : 0x30;
          s.write(`+ ${b64(rsp)}\r\n`);
          const cancel = await lines.next();
          s.write(cancel.kind === 'line' && cancel.text === '*' ? 'NO authentication cancelled\r\n' : 'OK qop=auth cipher=none\r\n');
        })();
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
      cleanup.push(() => new Promise((r) => fake.close(r)));
      const fport = (fake.address() as { port: number }).port;
      const c = await ProtocolClient.open(await tcp(fport));
      cleanup.push(() => c.destroy());
      const err = await rejection(c.authenticate({ username: 'alice', password: 'wonderland', host: '127.0.0.1' }));
      expect(err).to.be.instanceOf(DigestMD5Error);
      expect((err as DigestMD5Error).code).to.equal('mutual-auth-failed');
      expect(c.authenticated).to.equal(false);
    });
  });

  describe('bounds', () => {
    it('an over-long line gets NO and is skipped; the session carries on', async () => {
      await start();
      const r = await RawClient.open(port);
      cleanup.push(() => r.destroy());
      await r.next();
      expect(await r.ask('ECHO ' + 'y'.repeat(9000))).to.equal('NO line longer than 8192 bytes');
      expect(await r.ask('CAPABILITY')).to.match(/^\* CAPABILITY/);
    });

    it('maxSessions: one more connection is told BYE', async () => {
      await start({ maxSessions: 1 });
      const first = await connectProtocolClient({ port, sasl: { username: 'alice', password: 'wonderland', host: 'localhost' } });
      cleanup.push(() => first.destroy());
      const err = await rejection(ProtocolClient.open(await tcp(port)));
      expect((err as ProtocolError).code).to.equal('refused');
      expect(err.message).to.match(/BYE too many sessions/);
      await first.quit();
      await until(() => server.sessionCount === 0);
      const again = await connectProtocolClient({ port, sasl: { username: 'alice', password: 'wonderland', host: 'localhost' } });
      cleanup.push(() => again.destroy());
      expect((await again.command('ECHO room again')).text).to.equal('room again');
    });

    it('an idle session is told BYE and closed', async () => {
      await start({ idleTimeoutMs: 150 });
      const r = await RawClient.open(port);
      cleanup.push(() => r.destroy());
      await r.next();
      expect(await r.next()).to.equal('* BYE idle timeout');
      expect(await r.next()).to.equal(undefined);
      expect(sessionErrors.map((e) => (e as ProtocolError).code)).to.deep.equal(['timeout']);
    });

    it('the per-user store is bounded in keys and sizes, and separate per user', async () => {
      await start({ store: { maxKeysPerUser: 2, maxValueBytes: 10, maxKeyBytes: 5 } });
      const a = await connectProtocolClient({ port, sasl: { username: 'alice', password: 'wonderland', host: 'localhost', qop: ['auth-int'] } });
      cleanup.push(() => a.destroy());
      expect((await a.command('PUT k1 v')).ok).to.equal(true);
      expect((await a.command('PUT k2 v')).ok).to.equal(true);
      expect(await a.command('PUT k3 v')).to.deep.include({ ok: false, text: 'store full (2 keys)' });
      expect((await a.command('PUT k2 replaced')).ok).to.equal(true);
      expect(await a.command('PUT k1 01234567890')).to.deep.include({ ok: false, text: 'value longer than 10 bytes' });
      expect(await a.command('PUT k123456 v')).to.deep.include({ ok: false, text: 'key longer than 5 bytes' });
      expect(await a.command('PUT k1')).to.deep.include({ ok: false, text: 'usage: PUT <key> <value>' });
      expect(await a.command('GET')).to.deep.include({ ok: false, text: 'usage: GET <key>' });
      const b = await connectProtocolClient({ port, sasl: { username: 'bob', password: 'builder', host: 'localhost', qop: ['auth-conf'] } });
      cleanup.push(() => b.destroy());
      expect(await b.command('GET k1')).to.deep.include({ ok: false, text: 'no such key' });
      expect(await a.command('GET k2')).to.deep.include({ ok: true, text: 'replaced' });
    });
  });

  describe('the switch to the security layer', () => {
    it('bytes sent right after the empty line, in the same packet, are read inside the layer', async () => {
      await start();
      const r = await RawClient.open(port);
      cleanup.push(() => r.destroy());
      await r.next();
      const { sasl, rspauth } = await r.toRspauth({ qop: ['auth-conf'] });
      sasl.step(rspauth);
      const layer = sasl.securityLayer!;
      r.socket.write(Buffer.concat([Buffer.from('\r\n'), wrapFramed(layer, Buffer.from('ECHO pipelined\r\nWHOAMI\r\n'))]));
      expect(await r.next()).to.equal(`OK qop=auth-conf cipher=${sasl.cipher}`);
      const head = r.lines.detach();
      const s = secureStream(r.socket, layer, { head });
      r.out = s;
      r.lines = new LineChannel(s, 8192);
      expect(await r.next()).to.equal('OK pipelined');
      expect(await r.next()).to.match(/^OK alice realm=example.org qop=auth-conf/);
    });

    it('a tampered buffer from the client ends the session with the typed error', async () => {
      await start();
      let switchAt = -1;
      let flipped = false;
      let seen = Buffer.alloc(0);
      const proxy: Proxy = await startProxy(port, (chunk, offset) => {
        seen = Buffer.concat([seen, chunk]);
        const i = seen.indexOf('\r\n\r\n');
        if (switchAt < 0 && i >= 0) switchAt = i + 4;
        const target = switchAt + 10; // inside the first buffer after the switch
        if (!flipped && switchAt >= 0 && target >= offset && target < offset + chunk.length) {
          chunk[target - offset]! ^= 0x04;
          flipped = true;
        }
        return chunk;
      });
      cleanup.push(() => proxy.close());
      const c = await connectProtocolClient({ port: proxy.port, sasl: { username: 'alice', password: 'wonderland', host: 'localhost', qop: ['auth-conf'] } });
      cleanup.push(() => c.destroy());
      const err = await rejection(c.command('ECHO never seen'));
      expect((err as ProtocolError).code).to.equal('closed');
      await until(() => sessionErrors.length > 0);
      expect(sessionErrors[0]).to.be.instanceOf(DigestMD5Error);
      expect((sessionErrors[0] as DigestMD5Error).code).to.equal('integrity');
      expect(flipped).to.equal(true);
    });
  });

  it('serves any Duplex: a session over an in-memory pair', async () => {
    server = createProtocolServer(serverOptions());
    const [a, b] = duplexPair();
    const served = server.handle(a);
    const c = await ProtocolClient.open(b);
    await c.authenticate({ username: 'alice', password: 'wonderland', host: 'localhost', qop: ['auth-conf'], ciphers: ['3des'] });
    expect((await c.command('ECHO over memory')).text).to.equal('over memory');
    await c.quit();
    await served;
    expect(server.sessionCount).to.equal(0);
  });

  it('refuses bad options with typed errors', () => {
    const bad = (o: unknown) => {
      try {
        createProtocolServer(o as ProtocolServerOptions);
      } catch (e) {
        return (e as DigestMD5Error).code;
      }
      return 'accepted';
    };
    expect(bad(undefined)).to.equal('bad-option');
    expect(bad({ sasl: { hosts: 'h', qop: ['nope'] } })).to.equal('bad-option');
    expect(bad(serverOptions({ maxSessions: 0 }))).to.equal('bad-option');
    expect(bad(serverOptions({ maxLineBytes: 100 }))).to.equal('bad-option');
    expect(bad(serverOptions({ name: 'two\r\nlines' }))).to.equal('bad-option');
    expect(bad(serverOptions({ store: { maxUsers: -1 } }))).to.equal('bad-option');
  });
});

async function tcp(port: number): Promise<Socket> {
  const s = connect({ port, host: '127.0.0.1' });
  await new Promise((r, j) => (s.once('connect', r), s.once('error', j)));
  return s;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Waits (at most 3 s) for a condition. */
async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(f(), 'condition within 3 s').to.equal(true);
}
