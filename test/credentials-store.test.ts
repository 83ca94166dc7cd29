// The precalculated-hash credential store: forms, lower-casing, charsets, the in-memory
// and file-backed stores (atomic rewrite, permissions, malformed files) and `passwd`.
import { expect } from 'chai';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import {
  computeHA1,
  computeResponse,
  computeRspauth,
  DigestMD5Client,
  DigestMD5Server,
  formatRecord,
  hashCredentials,
  HashedCredentialStore,
  hashUserRealmPassword,
  LocalVerifier,
  parseRecord,
  type Credential,
  type DigestMD5ClientOptions,
  type HashedCredentialRecord,
} from '../dist/index.js';
import { CredentialFile, CredentialFileError } from '../dist/node.js';
import { hashUserRealmPasswordBytes } from '../dist/digest.js';
import { parseChallenge } from '../dist/messages.js';
import { runPasswd } from '../dist/node/cli-passwd.js';
import { tempDir } from './helpers/certs.js';
import { dec, enc, expectCode, expectCodeAsync } from './helpers/util.js';

const latin1 = (t: string): Uint8Array => Uint8Array.from(t, (c) => c.charCodeAt(0));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function hashed(c: Credential | undefined): Uint8Array {
  expect(c).to.not.equal(undefined);
  expect(c).to.have.property('hashedSecret');
  return (c as { hashedSecret: Uint8Array }).hashedSecret;
}

describe('precalculated-hash records', () => {
  it('hold H(name:realm:password) for every form, computed as the core does, and no password', () => {
    const r = hashCredentials('Chris', 'secret', { realm: 'Example.org', forms: ['realm', 'lower', 'lower-realm', 'upn', 'upn-lower', 'netbios', 'netbios-lower'] });
    expect(r.entries.map((e) => [e.form, e.username, e.realm])).to.deep.equal([
      ['realm', 'Chris', 'Example.org'],
      ['lower', 'chris', 'Example.org'],
      ['lower-realm', 'chris', 'example.org'],
      ['upn', 'Chris@Example.org', ''],
      ['upn-lower', 'chris@example.org', ''],
      ['netbios', 'EXAMPLE\\Chris', ''],
      ['netbios-lower', 'example\\chris', ''],
    ]);
    for (const e of r.entries) {
      expect(hex(e.hash)).to.equal(hex(hashUserRealmPassword(e.username, e.realm, 'secret')));
      expect(e.hashUtf8).to.equal(undefined); // ASCII: every charset gives the same hash
    }
    const line = formatRecord(r);
    expect(line).to.not.include('secret');
    expect(line).to.not.include('\n');
    expect(parseRecord(line)).to.deep.equal(r);
  });

  it('take the UPN and NetBIOS domains when given, the backslash literally', () => {
    const r = hashCredentials('chris', 'secret', { realm: 'example.org', forms: ['upn', 'netbios'], upnDomain: 'corp.example.org', netbiosDomain: 'CORP' });
    expect(r.entries.map((e) => e.username)).to.deep.equal(['chris@corp.example.org', 'CORP\\chris']);
    // H over the bytes "CORP\chris::secret": one backslash, no escaping.
    expect(hex(r.entries[1]!.hash)).to.equal(hex(hashUserRealmPasswordBytes(enc('CORP\\chris'), enc(''), enc('secret'))));
  });

  it('store a name once when two forms coincide (an already lower-case name)', () => {
    const r = hashCredentials('chris', 'secret', { realm: 'example.org', forms: ['realm', 'lower', 'lower-realm'] });
    expect(r.entries.map((e) => e.form)).to.deep.equal(['realm']);
  });

  it('hash Latin-1 text as ISO-8859-1, and keep the all-UTF-8 hash beside it', () => {
    const r = hashCredentials('müller', 'pässwörd', { realm: 'example.org', forms: ['realm'] });
    const e = r.entries[0]!;
    expect(hex(e.hash)).to.equal(hex(hashUserRealmPasswordBytes(latin1('müller'), enc('example.org'), latin1('pässwörd'))));
    expect(hex(e.hashUtf8!)).to.equal(hex(hashUserRealmPasswordBytes(enc('müller'), enc('example.org'), enc('pässwörd'))));
    expect(hex(e.hash)).to.not.equal(hex(e.hashUtf8!));
  });

  it('hash text beyond Latin-1 as UTF-8; the UTF-8 hash only when another text fits Latin-1', () => {
    const a = hashCredentials('ωuser', 'Ωmega', { realm: 'example.org', forms: ['realm'] }).entries[0]!;
    expect(hex(a.hash)).to.equal(hex(hashUserRealmPasswordBytes(enc('ωuser'), enc('example.org'), enc('Ωmega'))));
    expect(a.hashUtf8).to.equal(undefined);
    const b = hashCredentials('ωuser', 'pässwörd', { realm: 'example.org', forms: ['realm'] }).entries[0]!;
    expect(hex(b.hash)).to.equal(hex(hashUserRealmPasswordBytes(enc('ωuser'), enc('example.org'), latin1('pässwörd'))));
    expect(hex(b.hashUtf8!)).to.equal(hex(hashUserRealmPasswordBytes(enc('ωuser'), enc('example.org'), enc('pässwörd'))));
  });

  it('lower-case non-ASCII names too', () => {
    const r = hashCredentials('MÜLLER', 'pw', { realm: 'example.org', forms: ['realm', 'lower'] });
    expect(r.entries.map((e) => e.username)).to.deep.equal(['MÜLLER', 'müller']);
    expect(hex(r.entries[1]!.hash)).to.equal(hex(hashUserRealmPasswordBytes(latin1('müller'), enc('example.org'), enc('pw'))));
  });

  it('refuse bad input with typed errors', () => {
    expectCode(() => hashCredentials('chris', '', { realm: 'r' }), 'bad-option', /password/);
    expectCode(() => hashCredentials('', 'pw', { realm: 'r' }), 'bad-option', /user name/);
    expectCode(() => hashCredentials('chris', 'pw', { realm: 'r', forms: ['nope' as never] }), 'bad-option', /unknown form "nope"/);
    expectCode(() => hashCredentials('chris', 'pw', { realm: 'r', forms: [] }), 'bad-option', /at least one form/);
    expectCode(() => hashCredentials('a@b', 'pw', { realm: 'r', forms: ['upn'] }), 'bad-option', /already contains "@"/);
    expectCode(() => hashCredentials('chris', 'pw', { forms: ['netbios'] }), 'bad-option', /NetBIOS domain must not be empty/);
    expectCode(() => hashCredentials('chris', 'pw', { realm: 'r', forms: ['netbios'], netbiosDomain: 'A\\B' }), 'bad-option', /"\\"/);
    expectCode(() => hashCredentials('ch\nris', 'pw', { realm: 'r' }), 'bad-option', /control character/);
    expectCode(() => hashCredentials('x'.repeat(1025), 'pw', { realm: 'r' }), 'too-large', /1024/);
  });

  it('parse strictly: version, hex, forms, duplicates', () => {
    const good = JSON.parse(formatRecord(hashCredentials('chris', 'pw', { realm: 'r' })));
    const variants: [unknown, RegExp][] = [
      ['not json', /JSON/],
      [[], /JSON object/],
      [{ ...good, v: 2 }, /version/],
      [{ ...good, user: '' }, /"user"/],
      [{ ...good, entries: [] }, /entries/],
      [{ ...good, entries: [{ ...good.entries[0], hash: 'zz' }] }, /32 hex digits/],
      [{ ...good, entries: [{ ...good.entries[0], form: 'other' }] }, /unknown form/],
      [{ ...good, entries: [good.entries[0], good.entries[0]] }, /appears twice/],
    ];
    for (const [v, re] of variants) expectCode(() => parseRecord(typeof v === 'string' ? v : JSON.stringify(v)), 'malformed', re);
  });
});

describe('HashedCredentialStore', () => {
  const chris = hashCredentials('Chris', 'secret', { realm: 'example.org', forms: ['realm', 'lower', 'upn', 'netbios'] });

  it('looks up the form the client used, exactly as sent', () => {
    const s = new HashedCredentialStore([chris]);
    for (const [username, realm] of [['Chris', 'example.org'], ['chris', 'example.org'], ['Chris@example.org', ''], ['EXAMPLE\\Chris', '']] as const) {
      expect(hex(hashed(s.lookup({ username, realm })))).to.equal(hex(hashUserRealmPassword(username, realm, 'secret')));
      expect(s.userFor(username, realm)).to.equal('Chris');
    }
    for (const [username, realm] of [['CHRIS', 'example.org'], ['chris', ''], ['chris', 'other.org'], ['chris@example.org', 'example.org']] as const) {
      expect(s.lookup({ username, realm })).to.equal(undefined);
    }
  });

  it('returns copies: a caller that wipes its credential does not wipe the store', () => {
    const s = new HashedCredentialStore([chris]);
    hashed(s.lookup({ username: 'Chris', realm: 'example.org' })).fill(0);
    expect(hex(hashed(s.lookup({ username: 'Chris', realm: 'example.org' })))).to.equal(hex(hashUserRealmPassword('Chris', 'example.org', 'secret')));
  });

  it('replaces a user, deletes one, and refuses a name that is already another user\'s', () => {
    const s = new HashedCredentialStore([chris]);
    s.set(hashCredentials('Chris', 'new', { realm: 'example.org', forms: ['realm'] }));
    expect(s.lookup({ username: 'chris', realm: 'example.org' })).to.equal(undefined); // the old lower form is gone
    expect(hex(hashed(s.lookup({ username: 'Chris', realm: 'example.org' })))).to.equal(hex(hashUserRealmPassword('Chris', 'example.org', 'new')));
    s.set(chris);
    expectCode(() => s.set(hashCredentials('chris', 'other', { realm: 'example.org' })), 'bad-option', /already belongs to user "Chris"/);
    expect(s.delete('Chris')).to.equal(true);
    expect(s.delete('Chris')).to.equal(false);
    expect(s.size).to.equal(0);
    s.set(hashCredentials('chris', 'other', { realm: 'example.org' }));
  });

  it('is bounded in users', () => {
    const s = new HashedCredentialStore([], { maxUsers: 2 });
    s.set(hashCredentials('a', 'pw', { realm: 'r' }));
    s.set(hashCredentials('b', 'pw', { realm: 'r' }));
    expectCode(() => s.set(hashCredentials('c', 'pw', { realm: 'r' })), 'too-large', /2 users/);
    s.set(hashCredentials('b', 'pw2', { realm: 'r' })); // replacing is fine
  });

  describe('behind a DigestMD5Server (LocalVerifier)', () => {
    const users = [
      hashCredentials('Chris', 'secret', { realm: 'example.org', forms: ['realm', 'lower', 'upn', 'netbios'] }),
      hashCredentials('müller', 'pässwörd', { realm: 'example.org', forms: ['realm'] }),
      hashCredentials('ωuser', 'pässwörd', { realm: 'example.org', forms: ['realm'] }),
    ];
    const store = new HashedCredentialStore(users);

    async function login(user: string, password: string, realms: string[], x: Partial<DigestMD5ClientOptions> = {}) {
      const s = new DigestMD5Server({ service: 'imap', hosts: 'mail.example.org', realms, credentials: store });
      const c = new DigestMD5Client({ username: user, password, service: 'imap', host: 'mail.example.org', ...x });
      const rspauth = await s.step(c.step(await s.step()));
      c.step(rspauth);
      expect(c.complete).to.equal(true);
      return s;
    }

    it('authenticates each form: the name as given, lower-cased, UPN and NetBIOS without realm', async () => {
      expect((await login('Chris', 'secret', ['example.org'])).username).to.equal('Chris');
      expect((await login('chris', 'secret', ['example.org'])).username).to.equal('chris');
      expect((await login('Chris@example.org', 'secret', [])).username).to.equal('Chris@example.org');
      expect((await login('EXAMPLE\\Chris', 'secret', [])).username).to.equal('EXAMPLE\\Chris');
      await expectCodeAsync(() => login('CHRIS', 'secret', ['example.org']), 'auth-failed');
      await expectCodeAsync(() => login('Chris', 'wrong', ['example.org']), 'auth-failed');
    });

    it('authenticates Latin-1 and other names from an RFC client (charset=utf-8, converted)', async () => {
      expect((await login('müller', 'pässwörd', ['example.org'])).username).to.equal('müller');
      expect((await login('ωuser', 'pässwörd', ['example.org'])).username).to.equal('ωuser');
    });

    // The Cyrus client sends no charset and hashes UTF-8: only the stored all-UTF-8 hash matches it.
    async function cyrusStyle(credentials: { lookup: typeof store.lookup }, user: string, pw: string) {
      const s = new DigestMD5Server({ service: 'imap', hosts: 'mail.example.org', realms: ['example.org'], credentials });
      const nonce = parseChallenge(await s.step()).nonce;
      const cnonce = enc('Y3lydXMtY25vbmNl');
      const urp = hashUserRealmPasswordBytes(enc(user), enc('example.org'), enc(pw));
      const inputs = { ha1: computeHA1({ urp, nonce, cnonce }), nonce, nc: 1, cnonce, qop: 'auth' as const, digestUri: 'imap/mail.example.org' };
      const response = enc(`username="${user}",realm="example.org",nonce="${dec(nonce)}",cnonce="${dec(cnonce)}",nc=00000001,qop=auth,digest-uri="imap/mail.example.org",response=${computeResponse(inputs)}`);
      expect(dec(await s.step(response))).to.equal(`rspauth=${computeRspauth(inputs)}`);
    }

    it('authenticates a client that hashes everything as UTF-8 without charset (the Cyrus client)', async () => {
      await cyrusStyle(store, 'müller', 'pässwörd');
      await cyrusStyle(store, 'ωuser', 'pässwörd');
    });

    it('would refuse that client with the converted hash alone: why the UTF-8 hash is stored', async () => {
      const only = { lookup: (q: { username: string; realm: string }) => ({ hashedSecret: hashed(store.lookup(q)) }) };
      await expectCodeAsync(() => cyrusStyle(only, 'müller', 'pässwörd'), 'auth-failed');
    });

    it('a LocalVerifier refuses a malformed UTF-8 hash from a store', async () => {
      const bad = new LocalVerifier({ lookup: () => ({ hashedSecret: new Uint8Array(16), hashedSecretUtf8: new Uint8Array(3) }) });
      const s = new DigestMD5Server({ service: 'imap', hosts: 'mail.example.org', realms: ['example.org'], verifier: bad });
      const c = new DigestMD5Client({ username: 'chris', password: 'x', service: 'imap', host: 'mail.example.org' });
      await expectCodeAsync(async () => s.step(c.step(await s.step())), 'bad-option', /hashedSecretUtf8/);
    });
  });
});

describe('CredentialFile', () => {
  let tmp: { dir: string; remove: () => void };
  let n = 0;
  const fresh = (): string => join(tmp.dir, `users-${++n}.jsonl`);
  const rec = (user: string, pw = 'secret'): HashedCredentialRecord => hashCredentials(user, pw, { realm: 'example.org' });
  before(() => (tmp = tempDir('digest-md5-store-')));
  after(() => tmp.remove());

  it('creates the file 0600 on the first write, one JSON record a line, and reads it back', async () => {
    const path = fresh();
    const f = await CredentialFile.open(path, { create: true });
    expect(f.size).to.equal(0);
    expect(existsSync(path)).to.equal(false);
    expect(await f.put(rec('Chris'))).to.equal('added');
    expect(await f.put(rec('anna', 'pw2'))).to.equal('added');
    expect(await f.put(rec('Chris', 'changed'))).to.equal('replaced');
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.length).to.equal(3);
    expect(lines[2]).to.equal('');
    expect(parseRecord(lines[0]!).user).to.equal('Chris');
    expect(readFileSync(path, 'utf8')).to.not.match(/secret|changed|pw2/);
    const g = await CredentialFile.open(path);
    expect(g.size).to.equal(2);
    expect(hex(hashed(await g.lookup({ username: 'chris', realm: 'example.org' })))).to.equal(hex(hashUserRealmPassword('chris', 'example.org', 'changed')));
    expect(await g.delete('anna')).to.equal(true);
    expect(await g.delete('anna')).to.equal(false);
    expect((await CredentialFile.open(path)).records().map((r) => r.user)).to.deep.equal(['Chris']);
  });

  it('rewrites atomically: a new file renamed over the old, no temporary left, readers always see a whole file', async () => {
    const path = fresh();
    const f = await CredentialFile.open(path, { create: true });
    await f.put(rec('u0'));
    const inodes = new Set<number>([statSync(path).ino]);
    let reads = 0;
    let stop = false;
    // A reader in a tight loop: every read must parse in full (bounded by the writes below).
    const reader = (async () => {
      while (!stop && reads < 100_000) {
        const text = readFileSync(path, 'utf8');
        expect(text.endsWith('\n')).to.equal(true);
        for (const l of text.split('\n').filter((x) => x.length > 0)) parseRecord(l);
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 1; i <= 25; i++) {
      await f.put(rec(`u${i}`));
      inodes.add(statSync(path).ino);
    }
    stop = true;
    await reader;
    expect(reads).to.be.greaterThan(0);
    expect(inodes.size).to.be.greaterThan(1); // each write is a new file
    expect(readdirSync(tmp.dir).filter((x) => x.endsWith('.tmp') || x.endsWith('.lock'))).to.deep.equal([]);
    expect((await CredentialFile.open(path)).size).to.equal(26);
  });

  it('leaves the file untouched when a write is refused', async () => {
    const path = fresh();
    const f = await CredentialFile.open(path, { create: true });
    await f.put(rec('chris'));
    const before = readFileSync(path);
    const small = await CredentialFile.open(path, { maxUsers: 1 });
    await expectCodeAsync(() => small.put(rec('anna')), 'too-large', /maximum of 1 users/);
    await expectCodeAsync(() => f.put(hashCredentials('Chris', 'x', { realm: 'example.org', forms: ['lower'] })), 'bad-option', /already belongs to user "chris"/);
    const narrow = await CredentialFile.open(path, { maxLineBytes: 300 });
    const wide = hashCredentials('anna', 'x', { realm: 'example.org', forms: ['realm', 'upn', 'upn-lower', 'netbios', 'netbios-lower'] });
    await expectCodeAsync(() => narrow.put(wide), 'too-large', /over the line limit of 300/);
    expect(readFileSync(path).equals(before)).to.equal(true);
    expect(readdirSync(tmp.dir).filter((x) => x.endsWith('.tmp') || x.endsWith('.lock'))).to.deep.equal([]);
  });

  it('merges concurrent writers through the lock (none loses the other\'s users)', async () => {
    const path = fresh();
    const a = await CredentialFile.open(path, { create: true });
    const b = await CredentialFile.open(path, { create: true });
    await Promise.all(Array.from({ length: 10 }, (_, i) => [a.put(rec(`a${i}`)), b.put(rec(`b${i}`))]).flat());
    expect((await CredentialFile.open(path)).size).to.equal(20);
  });

  it('waits a bounded time for another writer\'s lock', async () => {
    const path = fresh();
    const f = await CredentialFile.open(path, { create: true, lockTimeoutMs: 100 });
    writeFileSync(`${path}.lock`, '1\n');
    const t0 = Date.now();
    await expectCodeAsync(() => f.put(rec('chris')), 'backend-failed', /locked by another writer.*remove .*\.lock/);
    expect(Date.now() - t0).to.be.lessThan(2000);
  });

  it('notices a rewrite by another process and reloads', async () => {
    const path = fresh();
    const reader = await CredentialFile.open(path, { create: true, checkIntervalMs: 1 });
    const writer = await CredentialFile.open(path, { create: true });
    await writer.put(rec('chris'));
    await new Promise((r) => setTimeout(r, 5));
    expect(await reader.lookup({ username: 'chris', realm: 'example.org' })).to.not.equal(undefined);
    await writer.delete('chris');
    await new Promise((r) => setTimeout(r, 5));
    expect(await reader.lookup({ username: 'chris', realm: 'example.org' })).to.equal(undefined);
  });

  it('refuses a file every user may read or write, with a clear message; group access is fine', async () => {
    const path = fresh();
    await (await CredentialFile.open(path, { create: true })).put(rec('chris'));
    for (const mode of [0o644, 0o604, 0o602]) {
      chmodSync(path, mode);
      const e = await expectCodeAsync(() => CredentialFile.open(path), 'bad-option', /refusing a credential file that every user may (read|write) \(mode 06\d\d\): it holds password equivalents; run "chmod o-rwx/);
      expect(e).to.be.instanceOf(CredentialFileError);
    }
    chmodSync(path, 0o640);
    const f = await CredentialFile.open(path, { checkIntervalMs: 1 });
    await f.put(rec('anna'));
    expect(statSync(path).mode & 0o777).to.equal(0o640); // the mode survives the rewrite
    // Made world-readable while in use: lookups fail closed until it is fixed.
    chmodSync(path, 0o644);
    await new Promise((r) => setTimeout(r, 5));
    await expectCodeAsync(() => f.lookup({ username: 'chris', realm: 'example.org' }), 'bad-option', /every user may read/);
    chmodSync(path, 0o600);
    await new Promise((r) => setTimeout(r, 5));
    expect(await f.lookup({ username: 'chris', realm: 'example.org' })).to.not.equal(undefined);
  });

  it('names the line of a malformed file', async () => {
    const good = formatRecord(rec('chris'));
    const cases: [string, string, RegExp, number | undefined][] = [
      [`${good}\n{"v":1,\n`, 'malformed', /:2: not a JSON object/, 2],
      [`\n${good}\n\n${formatRecord(rec('anna')).replace('"v":1', '"v":7')}\n`, 'malformed', /:4: unknown record version 7/, 4],
      [`${good}\n${formatRecord(rec('anna'))}\n${good}\n`, 'malformed', /:3: user "chris" appears on an earlier line too/, 3],
      [`${good}\n${formatRecord(hashCredentials('Chris', 'x', { realm: 'example.org', forms: ['lower'] }))}\n`, 'malformed', /:2: .*already belongs to user "chris"/, 2],
      [`${good}\n${'x'.repeat(70_000)}\n`, 'too-large', /:2: the line is 70000 bytes/, 2],
    ];
    for (const [text, code, re, line] of cases) {
      const path = fresh();
      writeFileSync(path, text, { mode: 0o600 });
      const e = (await expectCodeAsync(() => CredentialFile.open(path), code, re)) as CredentialFileError;
      expect(e.line).to.equal(line);
      expect(e.path).to.equal(path);
    }
    const bin = fresh();
    writeFileSync(bin, Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), { mode: 0o600 });
    await expectCodeAsync(() => CredentialFile.open(bin), 'malformed', /:1: not valid UTF-8/);
  });

  it('bounds the file size, and says when the file is missing', async () => {
    const path = fresh();
    writeFileSync(path, `${formatRecord(rec('chris'))}\n`, { mode: 0o600 });
    await expectCodeAsync(() => CredentialFile.open(path, { maxFileBytes: 50 }), 'too-large', /over the limit of 50/);
    await expectCodeAsync(() => CredentialFile.open(join(tmp.dir, 'none')), 'backend-failed', /cannot open: no such file/);
    await expectCodeAsync(() => CredentialFile.open(tmp.dir), 'bad-option', /not a regular file/);
  });
});

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

describe('digest-md5 passwd', () => {
  let tmp: { dir: string; remove: () => void };
  before(() => (tmp = tempDir('digest-md5-passwd-')));
  after(() => tmp.remove());

  async function passwd(argv: string[], stdinText?: string, stdin: PassThrough = new PassThrough()) {
    const stdout = new Sink();
    const stderr = new Sink();
    if (stdinText !== undefined) stdin.end(stdinText);
    const code = await runPasswd(argv, { stdin, stdout, stderr });
    return { code, out: stdout.text, err: stderr.text };
  }

  it('prints help, and usage errors exit 2 with one line', async () => {
    const h = await passwd(['--help']);
    expect(h.code).to.equal(0);
    expect(h.out).to.include('usage: digest-md5 passwd FILE USER');
    for (const argv of [[], ['f'], ['f', 'u'], ['f', 'u', '--realm', 'r', '--form', 'bogus'], ['--delete', 'f', 'u', '--realm', 'r'], ['f', 'u', '--nope']]) {
      const r = await passwd(argv);
      expect(r.code, argv.join(' ')).to.equal(2);
      expect(r.err.trim().split('\n')).to.have.length(1);
      expect(r.err).to.match(/^digest-md5 passwd: .*\(see digest-md5 passwd --help\)\n$/);
    }
    expect((await passwd(['f', 'u'])).err).to.include('--realm is required');
  });

  it('adds and replaces a user from --password-stdin, storing only hashes', async () => {
    const path = join(tmp.dir, 'a.jsonl');
    const a = await passwd([path, 'chris', '--realm', 'example.org', '--password-stdin'], 'sécret\n');
    expect(a.code, a.err).to.equal(0);
    expect(a.out).to.match(/^added chris in .*: chris \(realm example.org\)\n$/);
    const b = await passwd([path, 'Anna', '--realm', 'example.org', '--form', 'realm,lower,upn,netbios', '--password-stdin'], 'pw\r\n');
    expect(b.code, b.err).to.equal(0);
    expect(b.out).to.include('Anna (realm example.org), anna (realm example.org), Anna@example.org, EXAMPLE\\Anna');
    const c = await passwd([path, 'chris', '--realm', 'example.org', '--password-stdin'], 'new');
    expect(c.out).to.match(/^replaced chris/);
    expect(readFileSync(path, 'utf8')).to.not.match(/sécret|"pw"|new/);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    const f = await CredentialFile.open(path);
    expect(hex(hashed(await f.lookup({ username: 'EXAMPLE\\Anna', realm: '' })))).to.equal(hex(hashUserRealmPassword('EXAMPLE\\Anna', '', 'pw')));
    expect(hex(hashed(await f.lookup({ username: 'chris', realm: 'example.org' })))).to.equal(hex(hashUserRealmPassword('chris', 'example.org', 'new')));
  });

  it('reads the password twice from a terminal without echo', async () => {
    const path = join(tmp.dir, 'tty.jsonl');
    const fakeTty = (): PassThrough => {
      const t = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode: (b: boolean) => void; raw: boolean[] };
      t.isTTY = true;
      t.raw = [];
      t.setRawMode = (b: boolean) => void t.raw.push(b);
      return t;
    };
    const tty = fakeTty();
    const run = passwd([path, 'chris', '--realm', ''], undefined, tty);
    tty.write('s3cr');
    tty.write('x\x7fet\r');
    await new Promise((r) => setTimeout(r, 10));
    tty.write('s3cret\r');
    const r = await run;
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.equal('Password: \nAgain: \n'); // the prompts only: nothing echoed
    expect(r.out).to.not.include('s3cret');
    expect((tty as unknown as { raw: boolean[] }).raw).to.deep.equal([true, false, true, false]);
    const f = await CredentialFile.open(path);
    expect(hex(hashed(await f.lookup({ username: 'chris', realm: '' })))).to.equal(hex(hashUserRealmPassword('chris', '', 's3cret')));

    const tty2 = fakeTty();
    const run2 = passwd([path, 'chris', '--realm', ''], undefined, tty2);
    tty2.write('one\r');
    await new Promise((r) => setTimeout(r, 10));
    tty2.write('two\r');
    const r2 = await run2;
    expect(r2.code).to.equal(1);
    expect(r2.err).to.include('the two passwords differ; nothing changed');
  });

  it('needs a terminal or --password-stdin, and a non-empty password', async () => {
    const path = join(tmp.dir, 'b.jsonl');
    const r = await passwd([path, 'chris', '--realm', 'r'], 'pw\n');
    expect(r.code).to.equal(2);
    expect(r.err).to.include('stdin is not a terminal');
    expect((await passwd([path, 'chris', '--realm', 'r', '--password-stdin'], '\n')).err).to.include('the password is empty');
    expect((await passwd([path, 'chris', '--realm', 'r', '--password-stdin'], '')).code).to.equal(1);
    expect((await passwd([path, 'chris', '--realm', 'r', '--password-stdin'], 'x'.repeat(5000))).err).to.include('longer than 1024 bytes');
  });

  it('deletes a user; a missing user or file is a failure', async () => {
    const path = join(tmp.dir, 'c.jsonl');
    await passwd([path, 'chris', '--realm', 'r', '--password-stdin'], 'pw\n');
    const d = await passwd(['--delete', path, 'chris']);
    expect(d.code, d.err).to.equal(0);
    expect(d.out).to.equal(`deleted chris from ${path}\n`);
    const again = await passwd(['--delete', path, 'chris']);
    expect(again.code).to.equal(1);
    expect(again.err).to.equal(`digest-md5 passwd: no user "chris" in ${path}\n`);
    const none = await passwd(['--delete', join(tmp.dir, 'none.jsonl'), 'chris']);
    expect(none.code).to.equal(1);
    expect(none.err).to.include('no such file');
  });

  it('refuses a world-readable file before asking for the password', async () => {
    const path = join(tmp.dir, 'd.jsonl');
    await passwd([path, 'chris', '--realm', 'r', '--password-stdin'], 'pw\n');
    chmodSync(path, 0o644);
    const r = await passwd([path, 'anna', '--realm', 'r', '--password-stdin'], 'pw\n');
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^digest-md5 passwd: .*refusing a credential file that every user may read \(mode 0644\)/);
  });
});
