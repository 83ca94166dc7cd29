// qop=auth against the JDK's DIGEST-MD5 (com.sun.security.sasl.digest), both directions.
import { expect } from 'chai';
import { java, okFields, ours, relay, requireInterop, shellQuote, BACKEND } from './relay.js';

const NAMES: [string, string][] = [
  ['chris', 'secret'],
  ['müller', 'pässwörd'],
  ['ωuser', 'Ωmega'],
];
const USERS = shellQuote(NAMES.map(([u, p]) => `${u}:${p}`).join(','));
const q = shellQuote;

describe(`interop with the JDK: qop=auth (our crypto backend: ${BACKEND})`, function () {
  before(requireInterop);

  describe('our client -> JDK server', () => {
    for (const [user, pw] of NAMES) {
      it(`authenticates ${user}`, () => {
        const v = relay(java('server', `--users ${USERS} --realm example.org`), ours('client', `--user ${q(user)} --password ${q(pw)} --send-last`), ['--no-data']);
        expect(v.pass, v.stderr).to.equal(true);
        const s = okFields(v.rounds[0]!.server);
        expect(s.authid).to.equal(user);
        expect(s.qop).to.equal('auth');
        expect(okFields(v.rounds[0]!.client).qop).to.equal('auth');
      });
    }
    it('answers with the realm it is told among several offered', () => {
      const v = relay(java('server', `--users ${USERS} --realm 'one.org two.org'`), ours('client', '--user chris --password secret --realm two.org --send-last'), ['--no-data']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(okFields(v.rounds[0]!.server).realm).to.equal('two.org');
    });
    it('takes the first of several realms by default', () => {
      const v = relay(java('server', `--users ${USERS} --realm 'one.org two.org'`), ours('client', '--user chris --password secret --no-send-last'), ['--no-data']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(okFields(v.rounds[0]!.server).realm).to.equal('one.org');
    });
    it('sends an authzid the server allows', () => {
      const v = relay(java('server', `--users ${USERS} --realm example.org --allow-any-authzid`), ours('client', "--user chris --password secret --authzid 'ωadmin' --send-last"), ['--no-data']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(okFields(v.rounds[0]!.server).authzid).to.equal('ωadmin');
    });
    it('is refused by the server for an authzid it does not allow', () => {
      const v = relay(java('server', `--users ${USERS} --realm example.org`), ours('client', '--user chris --password secret --authzid admin --send-last'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.server).to.match(/^NO /);
    });
    it('is refused by the server with a wrong password', () => {
      const v = relay(java('server', `--users ${USERS} --realm example.org`), ours('client', '--user chris --password wrong --send-last'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.server).to.match(/^NO /);
      expect(v.rounds[0]!.client).to.not.match(/^OK/);
    });
  });

  describe('JDK client -> our server', () => {
    for (const [user, pw] of NAMES) {
      it(`authenticates ${user}`, () => {
        const v = relay(ours('server', `--users ${USERS} --realm example.org`), java('client', `--user ${q(user)} --password ${q(pw)} --no-send-last`), ['--no-data']);
        expect(v.pass, v.stderr).to.equal(true);
        const s = okFields(v.rounds[0]!.server);
        expect(s.authid).to.equal(user);
        expect(s.authzid).to.equal(user);
        expect(s.qop).to.equal('auth');
      });
    }
    it('works in the send-last flow on both sides', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org --send-last`), java('client', '--user chris --password secret --send-last'), ['--no-data']);
      expect(v.pass, v.stderr).to.equal(true);
    });
    it('offers several realms; the JDK picks the one it is told', () => {
      const v = relay(ours('server', `--users ${USERS} --realm one.org,two.org`), java('client', '--user chris --password secret --realm two.org --no-send-last'), ['--no-data']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(okFields(v.rounds[0]!.server).realm).to.equal('two.org');
    });
    it('allows an authzid with --allow-any-authzid', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org --allow-any-authzid`), java('client', "--user 'müller' --password 'pässwörd' --authzid admin --no-send-last"), ['--no-data']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(okFields(v.rounds[0]!.server).authzid).to.equal('admin');
    });
    it('refuses an authzid other than the user by default', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org`), java('client', '--user chris --password secret --authzid admin --no-send-last'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.server).to.match(/^NO authz-failed/);
    });
    it('refuses a wrong password', () => {
      const v = relay(ours('server', `--users ${USERS} --realm example.org`), java('client', '--user ωuser --password wrong --no-send-last'), ['--no-data', '--expect-fail', '--timeout', '5']);
      expect(v.pass, v.stderr).to.equal(true);
      expect(v.rounds[0]!.server).to.match(/^NO auth-failed/);
    });
  });
});
