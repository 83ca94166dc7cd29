// The Node stream adapter (src/node/stream.ts): the security layer on a Duplex, under every
// fragmentation, with backpressure both ways, large transfers, and hostile frames.
import { expect } from 'chai';
import { createCipheriv } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { secureStream, SecureStream, DigestMD5Error, cryptoBackend } from '../dist/node.js';
import { SecurityLayer, type LayerQop } from '../dist/layer/security-layer.js';
import { splitFrames, wrapFramed } from '../dist/layer/framing.js';
import type { CipherName } from '../dist/layer/ciphers/index.js';
import { duplexPair } from './helpers/duplex-pair.js';
import { LAYER_SPECS } from './helpers/layers.js';

const HA1 = new Uint8Array(Buffer.from('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex'));
const SPECS = LAYER_SPECS;
const label = (qop: string, cipher?: string) => `${qop}${cipher ? '/' + cipher : ''}`;

/** A matching client and server layer; fresh ones always start from the same keys and sequence 0. */
function layers(qop: LayerQop, cipher: CipherName | undefined, clientMaxbuf = 65536, serverMaxbuf = 65536) {
  return {
    client: new SecurityLayer({ qop, cipher, ha1: HA1, side: 'client', maxbuf: clientMaxbuf, peerMaxbuf: serverMaxbuf }),
    server: new SecurityLayer({ qop, cipher, ha1: HA1, side: 'server', maxbuf: serverMaxbuf, peerMaxbuf: clientMaxbuf }),
  };
}

/** A small deterministic generator (xorshift32), so random-looking cases replay. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function bytes(n: number, seed: number): Buffer {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r(256);
  return b;
}

interface Collected {
  data: Buffer;
  error: Error | undefined;
  ended: boolean;
}

/** Reads a stream to its end, or to its close after an error. */
function collect(s: Duplex, ms = 10000): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let error: Error | undefined;
    let ended = false;
    const t = setTimeout(() => reject(new Error(`stream neither ended nor closed within ${ms} ms`)), ms);
    const done = () => {
      clearTimeout(t);
      resolve({ data: Buffer.concat(parts), error, ended });
    };
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', (e) => (error = e));
    s.on('end', () => {
      ended = true;
      done();
    });
    s.on('close', done);
  });
}

/** Counts the chunks a stream hands out through read(), to show a split reached the decoder as a split. */
function countReads(s: Duplex): { count: number } {
  const counter = { count: 0 };
  const read = s.read.bind(s);
  s.read = (n?: number) => {
    const r: unknown = read(n);
    if (r !== null) counter.count++;
    return r;
  };
  return counter;
}

/** Writes pieces to a raw end one event-loop turn apart, so each arrives on its own, then ends it. */
async function feed(raw: Duplex, pieces: Uint8Array[], end = true): Promise<void> {
  for (const p of pieces) {
    if (p.length === 0) continue;
    raw.write(p);
    await tick();
  }
  if (end) raw.end();
}

function expectTyped(e: Error | undefined, code: string, re?: RegExp): void {
  expect(e, 'expected a DigestMD5Error').to.be.instanceOf(DigestMD5Error);
  expect((e as DigestMD5Error).code, e!.message).to.equal(code);
  if (re) expect(e!.message).to.match(re);
}

describe('secureStream: the security layer on a Duplex', function () {
  this.timeout(30000);

  describe('carries data both ways', () => {
    for (const [qop, cipher] of SPECS) {
      it(`${label(qop, cipher)}: writes of many sizes each way arrive in order, split at maxPlaintext`, async () => {
        const { client, server } = layers(qop, cipher, 4096, 2000);
        const [a, b] = duplexPair();
        const A = secureStream(a, client);
        const B = secureStream(b, server);
        const sizes = [1, 5, 7, 8, 9, 16, 100, client.maxPlaintext - 1, client.maxPlaintext, client.maxPlaintext + 1, 10000];
        const toB = sizes.map((n, i) => bytes(n, i + 1));
        const toA = sizes.map((n, i) => bytes(n, i + 100));
        const gotB = collect(B);
        const gotA = collect(A);
        for (const m of toB) A.write(m);
        for (const m of toA) B.write(m);
        A.end();
        B.end();
        const [rb, ra] = await Promise.all([gotB, gotA]);
        expect(rb.error).to.equal(undefined);
        expect(ra.error).to.equal(undefined);
        expect(rb.data.equals(Buffer.concat(toB))).to.equal(true);
        expect(ra.data.equals(Buffer.concat(toA))).to.equal(true);
        // The server's maxbuf is 2000: no client buffer may be larger, so at least ceil(total / maxPlaintext) of them.
        const total = toB.reduce((n, m) => n + m.length, 0);
        expect(A.stats.framesOut).to.be.at.least(Math.ceil(total / client.maxPlaintext));
        expect(A.stats.plainOut).to.equal(total);
        expect(B.stats.plainIn).to.equal(total);
        expect(B.stats.wireIn).to.equal(A.stats.wireOut);
      });
    }

    it('each buffer on the wire holds at most the peer maxbuf, and a write is split into ceil(n / maxPlaintext) of them', async () => {
      const { client, server } = layers('auth-conf', '3des', 65536, 1000);
      const [a, b] = duplexPair();
      const A = secureStream(a, client);
      const raw: Buffer[] = [];
      b.on('data', (d: Buffer) => raw.push(d));
      const msg = bytes(5000, 7);
      await new Promise<void>((resolve) => A.end(msg, resolve));
      await tick();
      const tokens = splitFrames(Buffer.concat(raw), 1000);
      expect(tokens.length).to.equal(Math.ceil(5000 / client.maxPlaintext));
      for (const t of tokens) expect(t.length).to.be.at.most(1000);
      expect(Buffer.concat(tokens.map((t) => server.unwrap(t))).equals(msg)).to.equal(true);
    });

    it('small writes made while corked share one buffer', async () => {
      const { client, server } = layers('auth-int', undefined);
      const [a, b] = duplexPair();
      const A = secureStream(a, client);
      const B = secureStream(b, server);
      const got = collect(B);
      A.cork();
      const parts = Array.from({ length: 100 }, (_, i) => bytes(10, i + 1));
      for (const p of parts) A.write(p);
      process.nextTick(() => A.uncork());
      await tick();
      expect(A.stats.framesOut).to.equal(1);
      A.end();
      B.end();
      expect((await got).data.equals(Buffer.concat(parts))).to.equal(true);
    });

    it('decodes the head bytes (read past the switch point) before anything from the socket', async () => {
      const { client, server } = layers('auth-conf', 'rc4');
      const wire = wrapFramed(client, Buffer.from('first, already read by the line parser; '));
      const more = wrapFramed(client, Buffer.from('then from the socket'));
      const [a, b] = duplexPair();
      const B = secureStream(b, server, { head: wire.subarray(0, 30) });
      const got = collect(B);
      await feed(a, [wire.subarray(30), more]);
      const r = await got;
      expect(r.error).to.equal(undefined);
      expect(r.data.toString()).to.equal('first, already read by the line parser; then from the socket');
    });
  });

  describe('reassembles buffers from any split of the wire', () => {
    for (const [qop, cipher] of [['auth-int', undefined], ['auth-conf', '3des'], ['auth-conf', 'rc4'], ['auth-conf', 'aes']] as const) {
      const messages = [bytes(1, 1), bytes(40, 2), bytes(17, 3), bytes(100, 4)];
      const expected = Buffer.concat(messages);
      const sender = layers(qop, cipher).client;
      const wire = Buffer.concat(messages.map((m) => wrapFramed(sender, m)));

      it(`${label(qop, cipher)}: every split point of a ${wire.length}-byte run of ${messages.length} buffers`, async () => {
        for (let cut = 0; cut <= wire.length; cut++) {
          const [a, b] = duplexPair();
          const reads = countReads(b);
          const B = secureStream(b, layers(qop, cipher).server);
          const got = collect(B);
          await feed(a, [wire.subarray(0, cut), wire.subarray(cut)]);
          const r = await got;
          expect(reads.count, 'chunks read from the socket').to.equal(cut === 0 || cut === wire.length ? 1 : 2);
          expect(r.error, `cut at ${cut}`).to.equal(undefined);
          expect(r.data.equals(expected), `cut at ${cut}`).to.equal(true);
          expect(B.stats.framesIn).to.equal(messages.length);
        }
      });

      it(`${label(qop, cipher)}: one byte at a time, and all buffers coalesced in one chunk`, async () => {
        for (const pieces of [Array.from(wire, (x) => Uint8Array.of(x)), [wire]]) {
          const [a, b] = duplexPair();
          const reads = countReads(b);
          const B = secureStream(b, layers(qop, cipher).server);
          const got = collect(B);
          await feed(a, pieces);
          const r = await got;
          expect(reads.count).to.equal(pieces.length);
          expect(r.error).to.equal(undefined);
          expect(r.data.equals(expected)).to.equal(true);
        }
      });
    }

    it('random message sizes and random chunking (2000 messages, seeded)', async () => {
      const r = prng(20240601);
      const { client, server } = layers('auth-conf', 'des', 65536, 3000);
      const messages = Array.from({ length: 2000 }, (_, i) => bytes(r(4000), i + 7));
      const wire = Buffer.concat(messages.map((m) => wrapFramed(client, m)));
      const pieces: Buffer[] = [];
      for (let at = 0; at < wire.length; ) {
        const n = 1 + r(r(2) === 0 ? 16 : 9000);
        pieces.push(wire.subarray(at, at + n));
        at += n;
      }
      const [a, b] = duplexPair();
      const B = secureStream(b, server);
      const got = collect(B);
      await feed(a, pieces);
      const res = await got;
      expect(res.error).to.equal(undefined);
      expect(res.data.equals(Buffer.concat(messages))).to.equal(true);
    });
  });

  describe('refuses hostile input, emitting nothing unverified', () => {
    it('a declared length over our maxbuf is refused from the 4 length bytes alone', async () => {
      for (const declared of [65537, 0x00ffffff, 0xffffffff]) {
        const [a, b] = duplexPair();
        const B = secureStream(b, layers('auth-conf', 'rc4').server);
        const got = collect(B);
        const header = Buffer.alloc(4);
        header.writeUInt32BE(declared);
        await feed(a, [header], false); // no payload follows, and the raw end stays open
        const r = await got;
        expectTyped(r.error, 'too-large', new RegExp(`declared length ${declared} exceeds our maxbuf 65536`));
        expect(r.data.length).to.equal(0);
        expect(B.stats.wireIn).to.equal(4);
        expect(b.destroyed, 'the socket is destroyed too').to.equal(true);
      }
    });

    it('a declared length of 0 is refused', async () => {
      const [a, b] = duplexPair();
      const B = secureStream(b, layers('auth-int', undefined).server);
      const got = collect(B);
      await feed(a, [Buffer.alloc(4)], false);
      expectTyped((await got).error, 'integrity', /declared length 0/);
    });

    for (const [qop, cipher] of [['auth-int', undefined], ['auth-conf', 'aes'], ['auth-conf', '3des'], ['auth-conf', 'rc4']] as const) {
      it(`${label(qop, cipher)}: a tampered buffer destroys the stream; the buffers before it are delivered, it and the ones after are not`, async () => {
        for (const coalesced of [true, false]) {
          const { client, server } = layers(qop, cipher);
          const msgs = [bytes(50, 1), bytes(60, 2), bytes(70, 3), bytes(80, 4)];
          const frames = msgs.map((m) => Buffer.from(wrapFramed(client, m)));
          frames[2]![frames[2]!.length - 12]! ^= 0x20; // in the MAC, or in the last cipher block
          const [a, b] = duplexPair();
          const B = secureStream(b, server);
          const got = collect(B);
          await feed(a, coalesced ? [Buffer.concat(frames)] : frames, false);
          const r = await got;
          expectTyped(r.error, 'integrity');
          expect(r.data.equals(Buffer.concat(msgs.slice(0, 2))), `coalesced ${coalesced}`).to.equal(true);
          expect(r.ended).to.equal(false);
          expect(server.failed).to.equal(true);
          expect(b.destroyed).to.equal(true);
        }
      });
    }

    it('a replayed buffer is refused (sequence)', async () => {
      const { client, server } = layers('auth-int', undefined);
      const f = wrapFramed(client, Buffer.from('once'));
      const [a, b] = duplexPair();
      const B = secureStream(b, server);
      const got = collect(B);
      await feed(a, [f, f], false);
      const r = await got;
      expectTyped(r.error, 'sequence');
      expect(r.data.toString()).to.equal('once');
    });

    it('an end of input inside a buffer is an error, not an end', async () => {
      const { client, server } = layers('auth-conf', 'rc4');
      const f = wrapFramed(client, Buffer.from('cut short'));
      const [a, b] = duplexPair();
      const B = secureStream(b, server);
      const got = collect(B);
      await feed(a, [f.subarray(0, f.length - 3)]);
      const r = await got;
      expectTyped(r.error, 'integrity', /ended inside a buffer/);
      expect(r.data.length).to.equal(0);
    });

    it('refuses a socket it cannot own: not a Duplex, text mode, or with data listeners', () => {
      const { server } = layers('auth-int', undefined);
      const codeOf = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          expect(e).to.be.instanceOf(DigestMD5Error);
          return (e as DigestMD5Error).code;
        }
        return 'no error';
      };
      expect(codeOf(() => secureStream({} as Duplex, server))).to.equal('bad-option');
      const p1 = new PassThrough();
      p1.setEncoding('utf8');
      expect(codeOf(() => secureStream(p1, server))).to.equal('bad-option');
      const p2 = new PassThrough();
      p2.on('data', () => {});
      expect(codeOf(() => secureStream(p2, server))).to.equal('bad-option');
      expect(codeOf(() => secureStream(new PassThrough(), {} as SecurityLayer))).to.equal('bad-option');
    });
  });

  describe('backpressure', () => {
    it('a slow reader stops the writer; every buffer on the way stays bounded', async () => {
      const { client, server } = layers('auth-conf', 'rc4');
      const [a, b] = duplexPair(16 * 1024);
      const A = secureStream(a, client);
      const B = secureStream(b, server);
      B.pause();
      const total = 16 * 1024 * 1024;
      const chunk = bytes(64 * 1024, 5);
      let accepted = 0;
      let done = false;
      const writer = (async () => {
        while (accepted < total) {
          const ok = A.write(chunk);
          accepted += chunk.length;
          if (!ok) await new Promise((r) => A.once('drain', r));
        }
        A.end();
        done = true;
      })();
      const max = { B: 0, b: 0, a: 0, A: 0 };
      const sample = () => {
        max.B = Math.max(max.B, B.readableLength);
        max.b = Math.max(max.b, b.readableLength);
        max.a = Math.max(max.a, a.writableLength);
        max.A = Math.max(max.A, A.writableLength);
      };
      // Nobody reads for 200 ms: the writer must stall long before 16 MiB.
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 10));
        sample();
      }
      const stalledAt = accepted;
      expect(done).to.equal(false);
      expect(stalledAt, 'bytes accepted while nobody reads').to.be.below(512 * 1024);
      // Now read slowly, 16 KiB per turn, checking the data as it comes.
      let got = 0;
      let mismatch = -1;
      while (got < total) {
        const piece = B.read(Math.min(16 * 1024, total - got)) as Buffer | null;
        if (piece === null) {
          await new Promise((r) => B.once('readable', r));
          continue;
        }
        for (let i = 0; i < piece.length && mismatch < 0; i += 4096) {
          if (piece[i] !== chunk[(got + i) % chunk.length]) mismatch = got + i;
        }
        got += piece.length;
        sample();
        await tick();
      }
      await writer;
      expect(mismatch).to.equal(-1);
      expect(got).to.equal(total);
      // Readable side: high-water mark (64 KiB) + one 64 KiB feed slice + one token at most.
      expect(max.B, 'plaintext buffered for the reader').to.be.at.most(192 * 1024 + 64);
      expect(max.b, 'wire bytes buffered in the socket').to.be.at.most(64 * 1024 + 100);
      expect(max.A, 'plaintext buffered for the writer').to.be.at.most(128 * 1024);
      expect(max.a, 'wire bytes waiting to be sent').to.be.at.most(128 * 1024);
    });

    it('a socket that stays full holds the write callback until drain', async () => {
      const { client } = layers('auth-int', undefined);
      const [a, b] = duplexPair(1024);
      const A = secureStream(a, client);
      let called = false;
      const written = new Promise<void>((r) => A.write(bytes(200 * 1024, 1), () => r()));
      void written.then(() => (called = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(called, 'callback before the peer read anything').to.equal(false);
      let read = 0;
      b.on('data', (d: Buffer) => (read += d.length)); // the raw peer reads everything
      await written;
      expect(read, 'wire bytes read when the callback came').to.be.greaterThan(100 * 1024);
      A.destroy();
    });
  });

  describe('over TCP (127.0.0.1)', () => {
    let server: Server | undefined;
    const sockets: Socket[] = [];
    afterEach(async () => {
      for (const s of sockets) s.destroy();
      sockets.length = 0;
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      server = undefined;
    });

    /** A connected pair of TCP sockets on loopback. */
    async function tcpPair(allowHalfOpen: boolean): Promise<[Socket, Socket]> {
      const accepted = new Promise<Socket>((resolve) => {
        server = createServer({ allowHalfOpen }, resolve);
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
      const { port } = server!.address() as { port: number };
      const c = connect({ port, host: '127.0.0.1', allowHalfOpen });
      await new Promise((r) => c.once('connect', r));
      const s = await accepted;
      sockets.push(c, s);
      return [c, s];
    }

    // The keystream of AES-128-CTR under a fixed key: 64 MiB of reproducible bytes, made fast.
    function generator() {
      const g = createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16, 2));
      const zeros = Buffer.alloc(1024 * 1024);
      return (n: number) => g.update(zeros.subarray(0, n));
    }

    it('64 MiB through auth-conf, compared byte for byte', async function () {
      this.timeout(120000);
      const cipher: CipherName = (cryptoBackend as string) === 'node' ? 'aes' : 'rc4';
      const total = 64 * 1024 * 1024;
      const [c, s] = await tcpPair(false);
      const { client, server: srv } = layers('auth-conf', cipher);
      const C = secureStream(c, client);
      const S = secureStream(s, srv);
      const start = performance.now();
      const send = generator();
      const sent = (async () => {
        for (let n = 0; n < total; n += 1024 * 1024) {
          if (!C.write(send(1024 * 1024))) await new Promise((r) => C.once('drain', r));
        }
        C.end();
      })();
      const expected = generator();
      let got = 0;
      let firstMismatch = -1;
      for await (const piece of S as AsyncIterable<Buffer>) {
        const want = expected(piece.length);
        if (firstMismatch < 0 && !want.equals(piece)) firstMismatch = got;
        got += piece.length;
      }
      await sent;
      const seconds = (performance.now() - start) / 1000;
      expect(firstMismatch, 'first byte that differs').to.equal(-1);
      expect(got).to.equal(total);
      // At least ceil(total / maxPlaintext) buffers; at most that per 1 MiB write.
      expect(S.stats.framesIn).to.be.within(Math.ceil(total / client.maxPlaintext), 64 * Math.ceil(2 ** 20 / client.maxPlaintext));
      // Both ends ran in this one process: the rate counts wrap and unwrap together.
      console.log(`      64 MiB auth-conf/${cipher} over loopback TCP (${cryptoBackend} backend): ${(total / 1e6 / seconds).toFixed(1)} MB/s, ${C.stats.wireOut - total} bytes of framing and MACs`);
      S.end();
    });

    it('half-close both ways: end() reaches the peer as an end, which can still answer', async () => {
      const [c, s] = await tcpPair(true);
      const { client, server: srv } = layers('auth-conf', '3des');
      const C = secureStream(c, client);
      const S = secureStream(s, srv);
      expect(C.allowHalfOpen).to.equal(true);
      const closed = Promise.all([new Promise((r) => C.once('close', r)), new Promise((r) => S.once('close', r))]);
      C.end('question');
      const q = await collectUntilEnd(S);
      expect(q).to.equal('question');
      expect(C.writableFinished).to.equal(true);
      S.end('answer after the peer ended');
      expect(await collectUntilEnd(C)).to.equal('answer after the peer ended');
      await closed;
      expect(c.destroyed && s.destroyed).to.equal(true);
    });

    it('without allowHalfOpen (net default) the end of input ends the output, as on the socket', async () => {
      const [c, s] = await tcpPair(false);
      const { client, server: srv } = layers('auth-int', undefined);
      const C = secureStream(c, client);
      const S = secureStream(s, srv);
      expect(S.allowHalfOpen).to.equal(false);
      const sClosed = new Promise((r) => S.once('close', r));
      const cClosed = new Promise((r) => C.once('close', r));
      C.end('bye');
      expect(await collectUntilEnd(S)).to.equal('bye');
      await sClosed;
      expect(await collectUntilEnd(C)).to.equal('');
      await cClosed;
    });

    it('destroy() closes the socket; the peer sees the connection end', async () => {
      const [c, s] = await tcpPair(false);
      const { client, server: srv } = layers('auth-conf', 'rc4');
      const C = secureStream(c, client);
      const S = secureStream(s, srv);
      const got = collect(S);
      C.write('partial');
      await new Promise((r) => setTimeout(r, 20));
      C.destroy();
      expect(c.destroyed).to.equal(true);
      const r = await got;
      expect(r.data.toString()).to.equal('partial');
      expect(() => client.wrap(Uint8Array.of(1))).to.throw(DigestMD5Error, /destroyed/);
    });
  });
});

/** Reads a stream's text until its 'end'. */
function collectUntilEnd(s: SecureStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.once('end', () => resolve(text));
    s.once('error', reject);
  });
}
