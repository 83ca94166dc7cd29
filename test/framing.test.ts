import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { frame, splitFrames, wrapFramed, FrameDecoder } from '../dist/layer/framing.js';
import { SecurityLayer } from '../dist/layer/security-layer.js';
import { expectCode } from './helpers/util.js';

const HA1 = new Uint8Array(16).fill(7);

describe('RFC 4422 framing', () => {
  it('prefixes a 4-byte big-endian length', () => {
    expect(Array.from(frame(Uint8Array.of(9, 8, 7)))).to.deep.equal([0, 0, 0, 3, 9, 8, 7]);
  });

  it('splits a run of buffers, checking every length before returning any', () => {
    const run = new Uint8Array([...frame(Uint8Array.of(1)), ...frame(Uint8Array.of(2, 3))]);
    expect(splitFrames(run, 10).map((t) => Array.from(t))).to.deep.equal([[1], [2, 3]]);
    expect(splitFrames(new Uint8Array(0), 10)).to.deep.equal([]);
    expectCode(() => splitFrames(new Uint8Array([...frame(Uint8Array.of(1)), 0, 0, 4, 1]), 100), 'too-large', /buffer 2: declared length 1025 exceeds our maxbuf 100/);
    expectCode(() => splitFrames(new Uint8Array([0, 0, 0, 0]), 100), 'integrity', /declared length 0/);
    expectCode(() => splitFrames(new Uint8Array([0, 0, 0]), 100), 'integrity', /truncated length/);
    expectCode(() => splitFrames(new Uint8Array([0, 0, 0, 5, 1, 2]), 100), 'integrity', /only 2 present/);
  });

  it('reassembles tokens from every split of the input, one byte at a time and coalesced', () => {
    const tokens = [randomBytes(1), randomBytes(300), randomBytes(17)].map((b) => new Uint8Array(b));
    const wire = new Uint8Array(tokens.flatMap((t) => Array.from(frame(t))));
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new FrameDecoder(1000);
      const got = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
      expect(got.map((t) => Buffer.from(t).toString('hex'))).to.deep.equal(tokens.map((t) => Buffer.from(t).toString('hex')));
      expect(d.pending).to.equal(0);
    }
    const d = new FrameDecoder(1000);
    const got: Uint8Array[] = [];
    for (const b of wire) got.push(...d.push(Uint8Array.of(b)));
    expect(got).to.have.length(3);
  });

  it('refuses an oversize declared length as soon as the 4 bytes arrive, before the body', () => {
    const d = new FrameDecoder(1000);
    expect(d.push(Uint8Array.of(0x7f, 0xff))).to.deep.equal([]);
    expectCode(() => d.push(Uint8Array.of(0xff, 0xff)), 'too-large', /2147483647 exceeds our maxbuf 1000/);
  });

  it('wraps a long message as several buffers, none over the peer maxbuf', () => {
    for (const cipher of [undefined, '3des', 'rc4'] as const) {
      const qop = cipher ? 'auth-conf' : 'auth-int';
      const client = new SecurityLayer({ qop, cipher, ha1: HA1, side: 'client', maxbuf: 65536, peerMaxbuf: 100 });
      const server = new SecurityLayer({ qop, cipher, ha1: HA1, side: 'server', maxbuf: 100, peerMaxbuf: 65536 });
      const msg = randomBytes(1000);
      const wire = wrapFramed(client, msg);
      const tokens = splitFrames(wire, 100);
      expect(tokens.length).to.equal(Math.ceil(1000 / client.maxPlaintext));
      expect(Buffer.concat(tokens.map((t) => server.unwrap(t))).equals(msg)).to.equal(true);
      expect(wrapFramed(client, new Uint8Array(0))).to.have.length(0);
    }
  });
});
