// Against Cyrus SASL 2.1.28 (Debian's libsasl2 and DIGEST-MD5 plugin, through
// shared/interop/cyrus/cyrus-peer): every qop and cipher both of us support, both
// directions, framed buffers split at maxbuf, names, authzid, realms, subsequent
// authentication, and refusals on our side.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BACKEND, INTEROP, okFields, ours, relay, requireInterop, shellQuote } from './relay.js';
import { LinePeer, pair, type Paired } from './pair.js';
import { cell } from './results.js';

const q = shellQuote;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
function cyrus(role: 'server' | 'client', args: string): string {
  return `${q(resolve(INTEROP, 'cyrus/cyrus-peer'))} --${role} ${args}`;
}
// Cyrus picks qop and cipher by SSF range: -m X -M X forces one.
const SPECS: { qop: string; cipher?: string; ssf: number }[] = [
  { qop: 'auth', ssf: 0 },
  { qop: 'auth-int', ssf: 1 },
  { qop: 'auth-conf', cipher: 'rc4', ssf: 128 },
  { qop: 'auth-conf', cipher: 'rc4-56', ssf: 56 },
  { qop: 'auth-conf', cipher: 'rc4-40', ssf: 40 },
  { qop: 'auth-conf', cipher: 'des', ssf: 55 },
];
const USERS = q('alice:secret,müller:pässwörd,ωuser:Ωmega');

async function transfer(from: LinePeer, to: LinePeer, msg: Uint8Array): Promise<Buffer> {
  const w = await from.ask(`P: ${b64(msg)}`);
  expect(w, `${from.name} P:`).to.match(/^W: /);
  const u = await to.ask(`D: ${w.slice(3)}`);
  expect(u.slice(0, 60), `${to.name} D:`).to.match(/^U: /);
  expect(Buffer.from(u.slice(3), 'base64').equals(Buffer.from(msg)), `${msg.length} bytes`).to.equal(true);
  return Buffer.from(w.slice(3), 'base64');
}

/** Buffers in a framed payload. */
function buffers(wire: Buffer): number[] {
  const lens: number[] = [];
  for (let at = 0; at < wire.length; at += 4 + wire.readUInt32BE(at)) lens.push(wire.readUInt32BE(at));
  return lens;
}

function sides(p: Paired, oursIs: 'server' | 'client') {
  return oursIs === 'server' ? { us: p.server, them: p.client, usOk: p.serverOk, themOk: p.clientOk } : { us: p.client, them: p.server, usOk: p.clientOk, themOk: p.serverOk };
}

describe(`interop with Cyrus SASL (our crypto backend: ${BACKEND})`, function () {
  this.timeout(120000);
  before(function () {
    requireInterop();
    if (!existsSync('/usr/include/sasl/sasl.h')) throw new Error('Cyrus SASL packages missing: run shared/interop/cyrus/install.sh (.ci/run does)');
  });

  for (const spec of SPECS) {
    const c = spec.cipher ? ` --cipher ${spec.cipher}` : '';
    const name = `${spec.qop}${spec.cipher ? '/' + spec.cipher : ''}`;
    const setups = [
      {
        oursIs: 'client' as const,
        label: 'our client -> Cyrus server',
        server: cyrus('server', `-r example.org -m ${spec.ssf} -M ${spec.ssf}`),
        client: ours('client', `--user alice --password secret --qop ${spec.qop}${c} --framed`),
      },
      {
        oursIs: 'server' as const,
        label: 'Cyrus client -> our server',
        server: ours('server', `--users ${USERS} --realm example.org --qop ${spec.qop}${c} --framed`),
        client: cyrus('client', `-u alice -p secret -r example.org -m ${spec.ssf} -M ${spec.ssf}`),
      },
    ];
    for (const s of setups) {
      it(
        `${name}: ${s.label}: messages each way, one over the peer's maxbuf, and the exact boundary`,
        cell({ peer: 'Cyrus', direction: s.oursIs, qop: spec.qop, cipher: spec.cipher ?? '-', mode: 'framed' }, async () => {
          const p = await pair(s.server, s.client, INTEROP);
          try {
            const { us, them, usOk, themOk } = sides(p, s.oursIs);
            expect(usOk, us.stderr).to.match(/^OK /);
            expect(themOk, them.stderr).to.match(/^OK /);
            expect(okFields(usOk).qop).to.equal(spec.qop);
            expect(okFields(themOk).qop).to.equal(spec.qop);
            expect(okFields(usOk).cipher).to.equal(spec.cipher ?? '-');
            expect(okFields(themOk).cipher).to.equal(spec.cipher ?? 'none');
            for (const n of [1, 7, 100, 5000]) {
              await transfer(us, them, randomBytes(n));
              await transfer(them, us, randomBytes(n));
            }
            if (spec.qop === 'auth') return; // no layer: the bytes pass unchanged, nothing is split
            // Larger than the peer's maxbuf: split on send, reassembled on receipt.
            const big = randomBytes(150000);
            expect(buffers(await transfer(us, them, big)).length).to.be.greaterThan(2);
            expect(buffers(await transfer(them, us, big)).length).to.be.greaterThan(2);
            // The boundary: exactly the largest plaintext per buffer gives one buffer, one more byte two.
            const ourRaw = Number(okFields(usOk).rawsendsize);
            const theirRaw = Number(okFields(themOk).maxoutbuf);
            expect(buffers(await transfer(us, them, randomBytes(ourRaw)))).to.have.length(1);
            expect(buffers(await transfer(us, them, randomBytes(ourRaw + 1)))).to.have.length(2);
            const edge = buffers(await transfer(them, us, randomBytes(theirRaw)));
            expect(edge).to.have.length(1);
            expect(edge[0]).to.be.at.most(65536);
            expect(buffers(await transfer(them, us, randomBytes(theirRaw + 1)))).to.have.length(2);
          } finally {
            p.close();
          }
        }),
      );
    }
  }

  describe('3des, which Debian\'s Cyrus offers but cannot run (OpenSSL 3 key parity)', () => {
    it('our client, by default, chooses rc4 from Cyrus\'s full offer (ranked by SSF, as Cyrus ranks)', async () => {
      const p = await pair(cyrus('server', '-r example.org'), ours('client', '--user alice --password secret --qop auth-conf --framed'), INTEROP);
      try {
        expect(okFields(p.clientOk).cipher).to.equal('rc4');
        await transfer(p.client, p.server, randomBytes(64));
      } finally {
        p.close();
      }
    });
    it('our client told to use only 3des: Cyrus refuses it with a clear NO, our client never says OK', () => {
      const v = relay(cyrus('server', '-r example.org -m 112 -M 112'), ours('client', '--user alice --password secret --qop auth-conf --cipher 3des --framed'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.server).to.match(/^NO .*3des/);
      expect(v.rounds[0]!.client).to.not.match(/^OK/);
    });
    it('a Cyrus client limited to 3des fails on its own side; our server never says OK', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org --qop auth-conf --cipher 3des --framed`), cyrus('client', '-u alice -p secret -r example.org -m 112 -M 112'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.client).to.match(/^NO .*3des/);
      expect(v.rounds[0]!.server).to.not.match(/^OK/);
    });
  });

  describe('names, authzid, realms', () => {
    for (const [user, pw] of [['alice', 'secret'], ['müller', 'pässwörd'], ['ωuser', 'Ωmega']]) {
      it(`${user}: our client -> Cyrus server`, () => {
        const v = relay(cyrus('server', '-r example.org'), ours('client', `--user ${q(user!)} --password ${q(pw!)} --framed`), ['--no-data']);
        expect(v.pass, v.stderr).to.equal(true);
        expect(okFields(v.rounds[0]!.server).authid).to.equal(`${user}@example.org`);
      });
      it(`${user}: Cyrus client -> our server`, () => {
        const v = relay(ours('server', `--users ${USERS} --realm example.org --framed`), cyrus('client', `-u ${q(user!)} -p ${q(pw!)} -r example.org`), ['--no-data']);
        expect(v.pass, v.stderr).to.equal(true);
        expect(okFields(v.rounds[0]!.server).authid).to.equal(user);
      });
    }
    it('authzid allowed: our client -> Cyrus server -A', () => {
      const v = relay(cyrus('server', '-r example.org -A'), ours('client', '--user alice --password secret --authzid bob --framed'), ['--no-data']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(okFields(v.rounds[0]!.server).user).to.equal('bob@example.org');
    });
    it('authzid refused: our client -> Cyrus server', () => {
      const v = relay(cyrus('server', '-r example.org'), ours('client', '--user alice --password secret --authzid bob --framed'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.server).to.match(/^NO /);
    });
    it('authzid allowed: Cyrus client -> our server --allow-any-authzid', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org --allow-any-authzid --framed`), cyrus('client', '-u alice -p secret -z bob -r example.org'), ['--no-data']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(okFields(v.rounds[0]!.server).authzid).to.equal('bob');
    });
    it('authzid refused: Cyrus client -> our server', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org --framed`), cyrus('client', '-u alice -p secret -z bob -r example.org'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.server).to.match(/^NO authz-failed/);
    });
    it('a realm the Cyrus server did not offer: refused', () => {
      const v = relay(cyrus('server', '-r example.org'), ours('client', '--user alice --password secret --realm other.org --framed'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.client).to.not.match(/^OK/);
    });
    // (The Cyrus client always answers with a realm the server offered, whatever -r says; our server's refusal of
    // a realm it did not offer is covered against the JDK client and in the unit tests.)
  });

  describe('subsequent authentication', () => {
    it('our client reauthenticates to Cyrus (reauth_timeout set): the 3-line exchange', () => {
      const v = relay(cyrus('server', '-r example.org -i -o reauth_timeout=10 -M 0'), ours('client', '--user alice --password secret -i --framed'), ['--no-data', '--reauth', '2', '--expect-reauth', 'fast']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds.slice(1).every((r) => r.steps === 3)).to.equal(true);
    });
    it('the Cyrus client reauthenticates to our server', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org -i --framed`), cyrus('client', '-u alice -p secret -r example.org -i -M 0'), ['--no-data', '--reauth', '2', '--expect-reauth', 'fast']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(okFields(v.rounds[2]!.server).reauth).to.equal('fast');
    });
    it('with a security layer our server answers the Cyrus client\'s reauth with a full challenge (no key reuse)', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org -i --qop auth-conf --cipher rc4 --framed`), cyrus('client', '-u alice -p secret -r example.org -i -m 128 -M 128'), ['--tests', 'c2s,s2c', '--reauth', '1', '--expect-reauth', 'full']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(okFields(v.rounds[1]!.server).reauth).to.equal('full');
    });
    it('a replay of the same reauth response is refused by our server (a full challenge instead)', async () => {
      const p = await pair(ours('server', `--users ${USERS} --realm example.org -i --framed`), cyrus('client', '-u alice -p secret -r example.org -i -M 0'), INTEROP, true);
      try {
        expect(p.serverOk).to.match(/^OK /);
        p.server.send('R');
        p.client.send('R');
        const reauth = (await p.client.next())!;
        expect(reauth).to.match(/^C: [A-Za-z0-9+/]/); // a subsequent-authentication response, not "C: -"
        const unb64 = (line: string) => Buffer.from(line.slice(3), 'base64').toString('latin1');
        const first = await p.server.ask(reauth);
        expect(unb64(first)).to.match(/^rspauth=/);
        const fin = await p.client.ask(first);
        expect(await p.client.next()).to.match(/^OK /);
        expect(okFields(await p.server.ask(fin)).reauth).to.equal('fast');
        // The same response again, in a new round on the server only: a challenge, not rspauth.
        p.server.send('R');
        const second = await p.server.ask(reauth);
        expect(unb64(second)).to.include('nonce=');
        expect(unb64(second)).to.not.include('rspauth');
      } finally {
        p.close();
      }
    });
  });

  describe('refusals on our side', () => {
    it('a wrong password from the Cyrus client: NO auth-failed', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org --framed`), cyrus('client', '-u alice -p wrong -r example.org'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.server).to.match(/^NO auth-failed/);
    });
    it('our client with a wrong password is refused by Cyrus and never says OK', () => {
      const v = relay(cyrus('server', '-r example.org'), ours('client', '--user alice --password wrong --framed'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.client).to.not.match(/^OK/);
    });
    for (const spec of SPECS.filter((x) => x.qop !== 'auth')) {
      it(`${spec.qop}${spec.cipher ? '/' + spec.cipher : ''}: a tampered and a truncated buffer from Cyrus: E: integrity`, async () => {
        const c = spec.cipher ? ` --cipher ${spec.cipher}` : '';
        for (const damage of ['tamper', 'truncate'] as const) {
          const p = await pair(ours('server', `--users ${USERS} --realm example.org --qop ${spec.qop}${c} --framed`), cyrus('client', `-u alice -p secret -r example.org -m ${spec.ssf} -M ${spec.ssf}`), INTEROP);
          try {
            await transfer(p.client, p.server, randomBytes(50));
            const w = Buffer.from((await p.client.ask(`P: ${b64(randomBytes(50))}`)).slice(3), 'base64');
            const bad = Buffer.from(damage === 'tamper' ? w : w.subarray(0, w.length - 3));
            if (damage === 'tamper') bad[bad.length - 8]! ^= 1;
            expect(await p.server.ask(`D: ${b64(bad)}`)).to.match(/^E: integrity: /);
          } finally {
            p.close();
          }
        }
      });
    }
  });
});
