// Runs every published or recorded vector in vectors/digest/ through the digest
// arithmetic and through the client and server state machines.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DigestMD5Client, DigestMD5Server, computeHA1, computeResponse, computeRspauth, hashUserRealmPassword, cryptoBackend, type Qop } from '../dist/index.js';
import { fromHex, latin1 } from '../dist/bytes.js';
import { parseResponse } from '../dist/messages.js';
import { dec, enc, expectCode } from './helpers/util.js';

interface Vector {
  name: string;
  username: string;
  realm: string;
  password?: string;
  hashedSecret?: string;
  authzid?: string;
  nonce: string;
  cnonce: string;
  nc: string;
  qop: Qop;
  cipher?: string;
  digestUri: string;
  charset?: string;
  challenge?: string;
  responseText?: string;
  expected: { response: string; rspauth?: string };
}

const DIR = fileURLToPath(new URL('../vectors/digest/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

function secretOf(v: Vector): Uint8Array {
  return v.hashedSecret !== undefined ? fromHex(v.hashedSecret)! : hashUserRealmPassword(v.username, v.realm, v.password!);
}

function credentialOf(v: Vector) {
  return v.hashedSecret !== undefined ? { hashedSecret: fromHex(v.hashedSecret)! } : { password: v.password! };
}

describe(`test vectors (crypto backend: ${cryptoBackend})`, () => {
  it('has vector files', () => {
    expect(files.length).to.be.greaterThan(0);
  });

  for (const file of files) {
    const { source, vectors } = JSON.parse(readFileSync(DIR + file, 'utf8')) as { source: string; vectors: Vector[] };
    describe(`${file} — ${source.slice(0, 80)}`, () => {
      it('has vectors', () => expect(vectors.length).to.be.greaterThan(0));
      vectors.forEach((v) => {
        const [service, host, servName] = v.digestUri.split('/') as [string, string, string | undefined];

        it(`${v.name}: digest arithmetic`, () => {
          const nonce = enc(v.nonce);
          const cnonce = enc(v.cnonce);
          const inputs = { ha1: computeHA1({ urp: secretOf(v), nonce, cnonce, authzid: v.authzid }), nonce, nc: parseInt(v.nc, 16), cnonce, qop: v.qop, digestUri: v.digestUri };
          expect(computeResponse(inputs)).to.equal(v.expected.response);
          if (v.expected.rspauth) expect(computeRspauth(inputs)).to.equal(v.expected.rspauth);
        });

        // On the wire, text is UTF-8 under charset=utf-8 and ISO-8859-1 otherwise (RFC 2831 §2.1.1).
        const wire = (text: string): Uint8Array => (v.charset === 'utf-8' ? enc(text) : (latin1(text) ?? enc(text)));

        if (v.nonce === '' && v.challenge !== undefined) {
          // A published "naughty server" case: the grammar requires a nonce, and an empty one gives no freshness.
          it(`${v.name}: client refuses the empty nonce`, () => {
            const c = new DigestMD5Client({ username: v.username, password: v.password ?? 'x', service, host });
            expectCode(() => c.step(wire(v.challenge!)), 'malformed', /nonce is empty/);
          });
          return;
        }

        // The state machines only ever send nc=1 in a first exchange, and auth-conf needs a cipher choice.
        if (v.challenge !== undefined && v.nc === '00000001' && v.qop !== 'auth-conf') {
          it(`${v.name}: client replays the published exchange`, () => {
            const c = new DigestMD5Client({
              username: v.username,
              ...(v.hashedSecret !== undefined ? { hashedSecret: fromHex(v.hashedSecret)! } : { password: v.password! }),
              realm: v.realm,
              service,
              host,
              ...(servName !== undefined ? { serviceName: servName } : {}),
              ...(v.authzid !== undefined ? { authzid: v.authzid } : {}),
              qop: [v.qop],
              unsafeFixedCnonce: v.cnonce,
            });
            const r = parseResponse(c.step(wire(v.challenge!)));
            expect(r.response).to.equal(v.expected.response);
            if (v.expected.rspauth) {
              c.step(enc(`rspauth=${v.expected.rspauth}`));
              expect(c.complete).to.equal(true);
            }
          });
        }

        if (v.responseText !== undefined && v.nc === '00000001' && v.qop !== 'auth-conf') {
          it(`${v.name}: server verifies the published response`, async () => {
            const s = new DigestMD5Server({
              service,
              hosts: host,
              ...(servName !== undefined ? { serviceName: servName } : {}),
              realms: v.realm === '' ? [] : [v.realm],
              credentials: { lookup: ({ username }) => (username === v.username ? credentialOf(v) : undefined) },
              qop: [v.qop],
              utf8: v.charset === 'utf-8' || v.challenge === undefined || v.challenge.includes('charset'),
              authorize: () => true,
              unsafeFixedNonce: v.nonce,
            });
            await s.step();
            const rspauth = dec(await s.step(wire(v.responseText!)));
            if (v.expected.rspauth) expect(rspauth).to.equal(`rspauth=${v.expected.rspauth}`);
            expect(s.username).to.equal(v.username);
          });
        }
      });
    });
  }
});
