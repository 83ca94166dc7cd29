// computeResponseAndRspauth (one KD prefix hashed for both values) against the two
// separate computations, for nonce and cnonce lengths that put the shared prefix on
// every side of the 64-byte block boundaries, and for every qop.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { computeHA1, computeResponse, computeResponseAndRspauth, computeRspauth, hashUserRealmPassword } from '../dist/digest.js';

const b64 = (n: number) => new TextEncoder().encode(randomBytes(n).toString('base64').slice(0, n));

describe('computeResponseAndRspauth', () => {
  it('equals computeResponse and computeRspauth for prefixes of every length around the blocks', () => {
    for (const qop of ['auth', 'auth-int', 'auth-conf'] as const) {
      for (let nonceLen = 1; nonceLen <= 140; nonceLen += 3) {
        for (const cnonceLen of [1, 22, 40, 63, 64, 65]) {
          const inputs = { ha1: randomBytes(16), nonce: b64(nonceLen), nc: 1 + nonceLen, cnonce: b64(cnonceLen), qop, digestUri: 'imap/elwood.innosoft.com' };
          const both = computeResponseAndRspauth(inputs);
          expect(both.response, `${qop} ${nonceLen} ${cnonceLen}`).to.equal(computeResponse(inputs));
          expect(both.rspauth, `${qop} ${nonceLen} ${cnonceLen}`).to.equal(computeRspauth(inputs));
          expect(both.response).to.not.equal(both.rspauth);
        }
      }
    }
  });

  it('gives the response and rspauth of the RFC 2831 §4 IMAP example', () => {
    const enc = (t: string) => new TextEncoder().encode(t);
    const ha1 = computeHA1({
      urp: hashUserRealmPassword('chris', 'elwood.innosoft.com', 'secret'),
      nonce: enc('OA6MG9tEQGm2hh'),
      cnonce: enc('OA6MHXh6VqTrRk'),
    });
    const both = computeResponseAndRspauth({ ha1, nonce: enc('OA6MG9tEQGm2hh'), nc: 1, cnonce: enc('OA6MHXh6VqTrRk'), qop: 'auth', digestUri: 'imap/elwood.innosoft.com' });
    expect(both.response).to.equal('d388dad90d4bbd760a152321f2143af7');
    expect(both.rspauth).to.equal('ea40f60335c427b5527b84dbabcdfffd');
  });
});
