// Security layers against the JDK, byte for byte: auth-int and auth-conf with every
// cipher, both directions, bare tokens and RFC 4422 framed buffers.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { INTEROP, JDK_PROTECTIONS, java, ours, requireInterop, okFields, BACKEND } from './relay.js';
import { pair, type Paired } from './pair.js';
import { cell } from './results.js';

// 'auth' is tried framed only: no layer, the bytes pass unchanged (bare has nothing to wrap).
// 1 byte, short, block-aligned around 8 and 16, odd, 1 KiB, and 64 KiB.
const SIZES = [1, 5, 7, 8, 9, 16, 100, 1024, 65536];
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

interface Setup {
  label: string;
  server: string;
  client: string;
  oursIs: 'server' | 'client';
}

function setups(qop: string, cipher: string | undefined, framed: boolean): Setup[] {
  const c = cipher ? ` --cipher ${cipher}` : '';
  // Bare tokens carry 64 KiB in one piece: both maxbufs must hold it (the JDK does not split).
  const mb = framed ? '' : ' --maxbuf 70000';
  const f = framed ? ' --framed' : '';
  const common = `--qop ${qop}${c}${mb}${f}`;
  return [
    {
      label: 'our client -> JDK server',
      server: java('server', `--users 'chris:secret' ${common}`),
      client: ours('client', `--user chris --password secret ${common} --send-last`),
      oursIs: 'client',
    },
    {
      label: 'JDK client -> our server',
      server: ours('server', `--users 'chris:secret' ${common}`),
      client: java('client', `--user chris --password secret ${common} --no-send-last`),
      oursIs: 'server',
    },
  ];
}

/** P: on one side, D: on the other; the plaintext must come back unchanged. */
async function transfer(from: Paired['server'], to: Paired['server'], msg: Uint8Array): Promise<void> {
  const w = await from.ask(`P: ${b64(msg)}`);
  expect(w, `${from.name} P: answered`).to.match(/^W: /);
  const u = await to.ask(`D: ${w.slice(3)}`);
  expect(u.slice(0, 3), `${to.name} D: answered ${u.slice(0, 120)}`).to.equal('U: ');
  expect(Buffer.from(u.slice(3), 'base64').equals(Buffer.from(msg)), `${msg.length} bytes round trip`).to.equal(true);
}

describe(`interop with the JDK: security layers (our crypto backend: ${BACKEND})`, function () {
  this.timeout(120000);
  before(requireInterop);

  for (const framed of [false, true]) {
    for (const [qop, cipher] of JDK_PROTECTIONS) {
      if (qop === 'auth' && !framed) continue;
      for (const s of setups(qop, cipher, framed)) {
        const name = `${framed ? 'framed' : 'bare'} ${qop}${cipher ? '/' + cipher : ''}: ${s.label}`;

        it(`${name}: messages of ${SIZES.join(', ')} bytes each way, and echoes`, cell({ peer: 'JDK', direction: s.oursIs, qop, cipher: cipher ?? '-', mode: framed ? 'framed' : 'bare' }, async () => {
          const p = await pair(s.server, s.client, INTEROP);
          try {
            expect(p.serverOk, p.server.stderr).to.match(/^OK /);
            expect(p.clientOk, p.client.stderr).to.match(/^OK /);
            for (const ok of [p.serverOk, p.clientOk]) {
              expect(okFields(ok).qop).to.equal(qop);
              expect(okFields(ok).cipher).to.equal(cipher ?? '-');
            }
            for (const n of SIZES) {
              await transfer(p.client, p.server, randomBytes(n));
              await transfer(p.server, p.client, randomBytes(n));
            }
            // Echo: W: to one side gives U: and its wrap of the reversed bytes.
            const msg = randomBytes(33);
            const w = await p.client.ask(`P: ${b64(msg)}`);
            expect(await p.server.ask(`W: ${w.slice(3)}`)).to.equal(`U: ${b64(msg)}`);
            const back = await p.server.next();
            expect(await p.client.ask(`D: ${back!.slice(3)}`)).to.equal(`U: ${b64(Buffer.from(msg).reverse())}`);
          } finally {
            p.close();
          }
        }));

        if (qop === 'auth') continue;
        it(`${name}: a tampered token from the JDK is refused by us, and so is everything after`, async () => {
          const p = await pair(s.server, s.client, INTEROP);
          try {
            const [jdk, us] = s.oursIs === 'server' ? [p.client, p.server] : [p.server, p.client];
            await transfer(jdk, us, randomBytes(40));
            const w = Buffer.from((await jdk.ask(`P: ${b64(randomBytes(40))}`)).slice(3), 'base64');
            const good = Buffer.from(w);
            w[w.length - 12]! ^= 0x01; // inside the MAC (auth-int) or the last cipher block (auth-conf)
            expect(await us.ask(`D: ${b64(w)}`)).to.match(/^E: integrity: /);
            expect(await us.ask(`D: ${b64(good)}`)).to.match(/^E: bad-state: /);
          } finally {
            p.close();
          }
        });

        it(`${name}: a replayed token from the JDK is refused by us`, async () => {
          const p = await pair(s.server, s.client, INTEROP);
          try {
            const [jdk, us] = s.oursIs === 'server' ? [p.client, p.server] : [p.server, p.client];
            const w = (await jdk.ask(`P: ${b64(randomBytes(20))}`)).slice(3);
            expect(await us.ask(`D: ${w}`)).to.match(/^U: /);
            // auth-int: the sequence number gives it away; auth-conf: the cipher state has moved on, so the MAC fails first.
            expect(await us.ask(`D: ${w}`)).to.match(qop === 'auth-int' ? /^E: sequence: / : /^E: (integrity|sequence): /);
          } finally {
            p.close();
          }
        });
      }
    }
  }

  it('a server that offers aes among its ciphers does not disturb the JDK client', async () => {
    const p = await pair(ours('server', "--users 'chris:secret' --qop auth-conf --cipher aes,3des,rc4"), java('client', '--user chris --password secret --qop auth-conf --no-send-last'), INTEROP);
    try {
      expect(p.serverOk, p.client.stderr).to.match(/^OK /);
      expect(p.clientOk).to.match(/^OK /);
      expect(okFields(p.serverOk).cipher).to.equal('3des'); // the JDK's first choice among what it knows
      expect(Buffer.from(p.transcript[0]!.split(': ').pop()!, 'base64').toString()).to.include('cipher="aes,3des,rc4"');
      await transfer(p.client, p.server, randomBytes(100));
      await transfer(p.server, p.client, randomBytes(100));
    } finally {
      p.close();
    }
  });

  describe('framed buffers larger than the peer maxbuf', () => {
    for (const [qop, cipher] of [['auth-int', undefined], ['auth-conf', '3des'], ['auth-conf', 'rc4']] as const) {
      for (const s of setups(qop, cipher, true)) {
        it(`${qop}${cipher ? '/' + cipher : ''} ${s.label}: split on send, reassembled on receipt, at and around the boundary`, async () => {
          const server = s.server.replace('--framed', '--framed --maxbuf 1000');
          const client = s.client.replace('--framed', '--framed --maxbuf 1000');
          const p = await pair(server, client, INTEROP);
          try {
            const ourRaw = Number(okFields(s.oursIs === 'server' ? p.serverOk : p.clientOk).rawsendsize);
            const [jdk, us] = s.oursIs === 'server' ? [p.client, p.server] : [p.server, p.client];
            for (const n of [ourRaw - 1, ourRaw, ourRaw + 1, 5000, 200000]) {
              const msg = randomBytes(n);
              const w = Buffer.from((await us.ask(`P: ${b64(msg)}`)).slice(3), 'base64');
              // Count our buffers: each is a 4-byte length and at most the peer's maxbuf (1000) of token.
              let at = 0;
              let count = 0;
              while (at < w.length) {
                const len = w.readUInt32BE(at);
                expect(len).to.be.at.most(1000);
                at += 4 + len;
                count++;
              }
              expect(count).to.equal(Math.ceil(n / ourRaw));
              expect(await jdk.ask(`D: ${b64(w)}`)).to.equal(`U: ${b64(msg)}`);
              await transfer(jdk, us, msg);
            }
          } finally {
            p.close();
          }
        });
      }
    }
  });
});
