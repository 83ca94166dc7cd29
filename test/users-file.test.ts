// The users file of `digest-md5 serve`: user:realm:hex H(user:realm:password).
import { expect } from 'chai';
import { parseUsersFile, UsersFileError } from '../dist/node/users-file.js';
import { hashUserRealmPassword } from '../dist/index.js';

const hex = (u: string, r: string, p: string) => Buffer.from(hashUserRealmPassword(u, r, p)).toString('hex');

describe('users file', () => {
  it('parses accounts, skipping comments and blank lines, with CRLF or LF and hex in either case', async () => {
    const text = `# accounts\r\nalice:example.org:${hex('alice', 'example.org', 'pw')}\r\n\n  \nbob:other.org:${hex('bob', 'other.org', 'pw2').toUpperCase()}\nmüller:example.org:${hex('müller', 'example.org', 'pässwort')}\n`;
    const f = parseUsersFile(text, 'users');
    expect(f.count).to.equal(3);
    expect(f.realms).to.deep.equal(['example.org', 'other.org']);
    const c = await f.store.lookup({ username: 'bob', realm: 'other.org' });
    expect(Buffer.from((c as { hashedSecret: Uint8Array }).hashedSecret).toString('hex')).to.equal(hex('bob', 'other.org', 'pw2'));
    expect(await f.store.lookup({ username: 'bob', realm: 'example.org' })).to.equal(undefined);
    expect(await f.store.lookup({ username: 'müller', realm: 'example.org' })).to.not.equal(undefined);
  });

  it('names the file and line of every mistake', () => {
    const h = '0'.repeat(32);
    const cases: [string, RegExp][] = [
      [`alice:example.org`, /^u:1: expected user:realm:hash .* got 2 fields/],
      [`# c\nal:ice:example.org:${h}`, /^u:2: expected user:realm:hash/],
      [`:example.org:${h}`, /^u:1: empty user name/],
      [`alice::${h}`, /^u:1: empty realm/],
      [`alice:example.org:${h.slice(1)}`, /^u:1: the hash must be 32 hex digits/],
      [`alice:example.org:${'g'.repeat(32)}`, /^u:1: the hash must be 32 hex digits/],
      [`alice:r:${h}\nalice:r:${h}`, /^u:2: user "alice" appears twice in realm "r"/],
      [`# only a comment\n`, /^u: no accounts/],
    ];
    for (const [text, re] of cases) {
      expect(() => parseUsersFile(text, 'u'), text).to.throw(UsersFileError, re);
    }
  });
});
