// Replays recorded JDK sessions offline: the handshake through our client and server
// (fixed cnonce/nonce), then every token the JDK wrapped, byte for byte, both ways.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DigestMD5Client, DigestMD5Server, cryptoBackend, type Qop } from '../dist/index.js';
import type { CipherName } from '../dist/layer/ciphers/index.js';
import { enc, dec } from './helpers/util.js';

interface LayerVector {
  name: string;
  username: string;
  realm: string;
  password: string;
  authzid?: string;
  nonce: string;
  cnonce: string;
  qop: Qop;
  cipher?: CipherName;
  digestUri: string;
  challenge: string;
  responseText: string;
  expected: { response: string; rspauth: string };
  messages: { from: 'client' | 'server'; plain: string; token: string }[];
}

const DIR = fileURLToPath(new URL('../vectors/layer/', import.meta.url));
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe(`security-layer vectors (crypto backend: ${cryptoBackend})`, () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
    const { vectors } = JSON.parse(readFileSync(DIR + file, 'utf8')) as { vectors: LayerVector[] };
    for (const v of vectors) {
      it(`${file} ${v.name}: handshake and ${v.messages.length} tokens byte for byte`, async () => {
        const [service, host] = v.digestUri.split('/') as [string, string];
        const ciphers = v.cipher ? [v.cipher] : undefined;
        const client = new DigestMD5Client({
          username: v.username,
          password: v.password,
          service,
          host,
          ...(v.authzid ? { authzid: v.authzid } : {}),
          qop: [v.qop],
          ...(ciphers ? { ciphers } : {}),
          unsafeFixedCnonce: v.cnonce,
        });
        const response = dec(client.step(enc(v.challenge)));
        expect(response).to.include(`response=${v.expected.response}`);
        client.step(enc(`rspauth=${v.expected.rspauth}`));

        const server = new DigestMD5Server({
          service,
          hosts: host,
          realms: [v.realm],
          credentials: { lookup: () => ({ password: v.password }) },
          qop: [v.qop],
          ...(ciphers ? { ciphers } : {}),
          unsafeFixedNonce: v.nonce,
        });
        await server.step();
        expect(dec(await server.step(enc(v.responseText)))).to.equal(`rspauth=${v.expected.rspauth}`);

        const layers = { client: client.securityLayer!, server: server.securityLayer! };
        for (const m of v.messages) {
          const to = m.from === 'client' ? layers.server : layers.client;
          expect(toHex(layers[m.from].wrap(hex(m.plain))), `${m.from} wrap of ${m.plain}`).to.equal(m.token);
          expect(toHex(to.unwrap(hex(m.token)))).to.equal(m.plain);
        }
      });
    }
  }
});
