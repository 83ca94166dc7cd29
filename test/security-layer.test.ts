import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { SecurityLayer, type LayerQop } from '../dist/layer/security-layer.js';
import { deriveConfidentialityKeys, deriveIntegrityKeys } from '../dist/layer/keys.js';
import { cipherSpec, type CipherName } from '../dist/layer/ciphers/index.js';
import { hmacMd5 } from '../dist/crypto/portable.js';
import { expectCode } from './helpers/util.js';
import { LAYER_SPECS } from './helpers/layers.js';

const HA1 = new Uint8Array(Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
const SPECS = LAYER_SPECS;

function layers(qop: LayerQop, cipher: CipherName | undefined, o: { clientMaxbuf?: number; serverMaxbuf?: number; seq?: number } = {}) {
  const cm = o.clientMaxbuf ?? 65536;
  const sm = o.serverMaxbuf ?? 65536;
  const seq = o.seq !== undefined ? { send: o.seq, receive: o.seq } : undefined;
  return {
    client: new SecurityLayer({ qop, cipher, ha1: HA1, side: 'client', maxbuf: cm, peerMaxbuf: sm, ...(seq ? { initialSeq: seq } : {}) }),
    server: new SecurityLayer({ qop, cipher, ha1: HA1, side: 'server', maxbuf: sm, peerMaxbuf: cm, ...(seq ? { initialSeq: seq } : {}) }),
  };
}

describe('key derivation (RFC 2831 §2.3-2.4)', () => {
  it('derives four different keys, Kc from the first n bytes of H(A1)', () => {
    const { kic, kis } = deriveIntegrityKeys(HA1);
    const { kcc, kcs } = deriveConfidentialityKeys(HA1, 16);
    const keys = [kic, kis, kcc, kcs].map((k) => Buffer.from(k).toString('hex'));
    expect(new Set(keys).size).to.equal(4);
    // rc4-40 uses 5 bytes of H(A1): changing byte 5 must not change Kc, changing byte 4 must.
    const other = HA1.slice();
    other[5]! ^= 1;
    expect(deriveConfidentialityKeys(other, 5).kcc).to.deep.equal(deriveConfidentialityKeys(HA1, 5).kcc);
    other[4]! ^= 1;
    expect(deriveConfidentialityKeys(other, 5).kcc).to.not.deep.equal(deriveConfidentialityKeys(HA1, 5).kcc);
  });
});

describe('security layer', () => {
  for (const [qop, cipher] of SPECS) {
    const name = `${qop}${cipher ? '/' + cipher : ''}`;
    describe(name, () => {
      it('round-trips every size from 0 to 70 and up to maxPlaintext, both ways', () => {
        const { client, server } = layers(qop, cipher);
        const sizes = [...Array(71).keys(), 1000, 4096, client.maxPlaintext - 1, client.maxPlaintext];
        for (const n of sizes) {
          const m = randomBytes(n);
          expect(Buffer.from(server.unwrap(client.wrap(m))).equals(m)).to.equal(true);
          expect(Buffer.from(client.unwrap(server.wrap(m))).equals(m)).to.equal(true);
        }
      });

      it('pads block ciphers to whole blocks and never lets a token exceed the peer maxbuf', () => {
        const bs = cipher ? cipherSpec(cipher).blockSize : 1;
        for (const peerMax of [17, 26, 27, 31, 32, 40, 100, 1000, 65536]) {
          const { client } = layers(qop, cipher, { serverMaxbuf: peerMax });
          const max = client.maxPlaintext;
          if (max > 0) {
            const t = client.wrap(new Uint8Array(max));
            expect(t.length).to.be.at.most(peerMax);
            if (bs > 1) expect((t.length - 6) % bs).to.equal(0);
          }
          expectCode(() => client.wrap(new Uint8Array(max + 1)), 'too-large', /split it/);
        }
      });

      it('refuses a token over our maxbuf without consuming a sequence number', () => {
        const { client, server } = layers(qop, cipher, { serverMaxbuf: 100, clientMaxbuf: 65536 });
        const big = layers(qop, cipher, { serverMaxbuf: 65536 }).client.wrap(new Uint8Array(200));
        expectCode(() => server.unwrap(big), 'too-large', /exceeds our maxbuf 100/);
        expect(Buffer.from(server.unwrap(client.wrap(Uint8Array.of(1, 2, 3))))).to.deep.equal(Buffer.from([1, 2, 3]));
      });

      it('ends the layer on any flipped bit, in every position (the MAC covers the sequence number too)', () => {
        const msg = randomBytes(21);
        const length = layers(qop, cipher).client.wrap(msg).length;
        for (let i = 0; i < length; i++) {
          for (const bit of [0x01, 0x80]) {
            const { client, server } = layers(qop, cipher);
            expect(Buffer.from(server.unwrap(client.wrap(msg))).equals(msg)).to.equal(true);
            const t = client.wrap(msg);
            t[i]! ^= bit;
            expectCode(() => server.unwrap(t), 'integrity', /MAC or padding|message type/);
            expectCode(() => server.unwrap(t), 'bad-state', /failed earlier/);
            expectCode(() => server.wrap(new Uint8Array(1)), 'bad-state', /failed earlier/);
          }
        }
      });

      it('refuses replayed and skipped tokens', () => {
        // auth-int: the sequence number betrays them; with a cipher the receiver's cipher state
        // (keystream offset, CBC chain) no longer matches, so the MAC fails first.
        const code = qop === 'auth-int' ? 'sequence' : 'integrity';
        const a = layers(qop, cipher);
        const t0 = a.client.wrap(Uint8Array.of(0));
        a.server.unwrap(t0);
        expectCode(() => a.server.unwrap(t0), code);
        const b = layers(qop, cipher);
        const u0 = b.client.wrap(Uint8Array.of(0));
        b.client.wrap(Uint8Array.of(1));
        const u2 = b.client.wrap(Uint8Array.of(2));
        b.server.unwrap(u0);
        expectCode(() => b.server.unwrap(u2), code);
      });

      it('refuses tokens too short to hold a MAC and trailer', () => {
        for (const n of [0, 1, 6, 15]) {
          const { server } = layers(qop, cipher);
          expectCode(() => server.unwrap(new Uint8Array(n)), 'integrity');
        }
      });

      it('refuses to wrap past sequence number 2^32 - 1', () => {
        const { client, server } = layers(qop, cipher, { seq: 2 ** 32 - 1 });
        expect(Array.from(server.unwrap(client.wrap(Uint8Array.of(7))))).to.deep.equal([7]);
        expectCode(() => client.wrap(Uint8Array.of(8)), 'sequence', /exhausted/);
      });

      it('refuses use after destroy()', () => {
        const { client } = layers(qop, cipher);
        client.destroy();
        expectCode(() => client.wrap(Uint8Array.of(1)), 'bad-state', /destroyed/);
      });

      it('wipes both MAC states on destroy() and when a bad token ends the layer', () => {
        // The keyed HMAC states are private; read here only to see that nothing keyed is left.
        type Keyed = { pads: Int32Array; longKey?: Uint8Array };
        const macs = (l: object) => {
          const d = l as unknown as { send: { mac: Keyed }; receive: { mac: Keyed } };
          return [d.send.mac, d.receive.mac];
        };
        const wiped = (m: Keyed) => m.pads.every((w) => w === 0) && (m.longKey === undefined || m.longKey.every((b) => b === 0));
        const { client, server } = layers(qop, cipher);
        expect(macs(client).some(wiped), 'keyed before').to.equal(false);
        client.destroy();
        expect(macs(client).every(wiped), 'after destroy()').to.equal(true);
        const token = layers(qop, cipher).client.wrap(Uint8Array.of(1, 2, 3));
        token[0]! ^= 1;
        expect(() => server.unwrap(token)).to.throw();
        expect(macs(server).every(wiped), 'after a failed unwrap').to.equal(true);
      });
    });
  }

  it('rejects a token whose MAC is right but whose padding is wrong', () => {
    // Build what a sender with the right keys but a bad pad would send: 3 pad bytes of value 2.
    const seq = new Uint8Array(4);
    const msg = new Uint8Array([1, 2, 3]);
    const mac = hmacMd5(deriveIntegrityKeys(HA1).kic).mac(seq, msg).subarray(0, 10);
    const body = new Uint8Array([...msg, 2, 2, 2, ...mac]); // 16 bytes: two DES blocks
    const ct = cipherSpec('des').create(deriveConfidentialityKeys(HA1, 16).kcc, 'encrypt').process(body);
    const token = new Uint8Array([...ct, 0, 1, 0, 0, 0, 0]);
    const { server } = layers('auth-conf', 'des');
    expectCode(() => server.unwrap(token), 'integrity', /MAC or padding/);
    // The same body with a correct 3-byte pad of 3s is accepted.
    const good = new Uint8Array([...msg, 3, 3, 3, ...mac]);
    const ct2 = cipherSpec('des').create(deriveConfidentialityKeys(HA1, 16).kcc, 'encrypt').process(good);
    expect(Array.from(layers('auth-conf', 'des').server.unwrap(new Uint8Array([...ct2, 0, 1, 0, 0, 0, 0])))).to.deep.equal([1, 2, 3]);
  });

  it('auth-int unwrap returns a view into the token (no copy); auth-conf a new buffer', () => {
    const a = layers('auth-int', undefined);
    const t = a.client.wrap(Uint8Array.of(1, 2, 3));
    const u = a.server.unwrap(t);
    expect(u.buffer).to.equal(t.buffer);
    expect(Array.from(u)).to.deep.equal([1, 2, 3]);
    const b = layers('auth-conf', 'rc4');
    const t2 = b.client.wrap(Uint8Array.of(1, 2, 3));
    expect(b.server.unwrap(t2).buffer).to.not.equal(t2.buffer);
  });

  it('rejects a wrong message type even with a good MAC', () => {
    const { client, server } = layers('auth-int', undefined);
    const t = client.wrap(Uint8Array.of(9));
    t[t.length - 5] = 2;
    expectCode(() => server.unwrap(t), 'integrity', /message type/);
  });

  it('checks its parameters', () => {
    expectCode(() => new SecurityLayer({ qop: 'auth-conf', ha1: HA1, side: 'client', maxbuf: 100, peerMaxbuf: 100 }), 'bad-option', /cipher/);
    expectCode(() => new SecurityLayer({ qop: 'auth-int', ha1: new Uint8Array(3), side: 'client', maxbuf: 100, peerMaxbuf: 100 }), 'bad-option', /16 bytes/);
  });
});
