// Precalculated-hash credentials, the Microsoft Advanced Digest way: per user, the
// H(name:realm:password) of RFC 2831 §2.1.2.1 for each name form a deployment accepts.
//
// No password is kept: a record holds, for each form, the name and realm the client
// will send and the hash it will compute from them. Lookup is by exactly what the
// client sent, so it finds the form that client used. The hashes are password
// equivalents for DIGEST-MD5 and must be protected like passwords.

import { constantTimeEqual, fromHex, toHex, utf8, wipe } from '../bytes.js';
import type { Credential, CredentialQuery, CredentialStore } from '../credentials.js';
import { hashUserRealmPassword, hashUserRealmPasswordBytes } from '../digest.js';
import { DigestMD5Error, malformed } from '../errors.js';

/**
 * The name forms a record may hold:
 * - `realm`: the user name and the realm as given;
 * - `lower`: the user name lower-cased, the realm as given (users who type their name in lower case);
 * - `lower-realm`: the user name and the realm both lower-cased;
 * - `upn`: `user@domain` (a user principal name) with an empty realm;
 * - `upn-lower`: the same, lower-cased;
 * - `netbios`: `DOMAIN\user` with an empty realm, the backslash taken literally;
 * - `netbios-lower`: the same, lower-cased.
 */
export type HashForm = 'realm' | 'lower' | 'lower-realm' | 'upn' | 'upn-lower' | 'netbios' | 'netbios-lower';

export const HASH_FORMS: readonly HashForm[] = ['realm', 'lower', 'lower-realm', 'upn', 'upn-lower', 'netbios', 'netbios-lower'];

/** The forms stored when none are named: the name as given and lower-cased. */
export const DEFAULT_HASH_FORMS: readonly HashForm[] = ['realm', 'lower'];

/** Names, realms and domains longer than this (UTF-8 bytes) are refused; a whole digest-response is at most 4096. */
export const MAX_NAME_BYTES = 1024;

export function isHashForm(s: string): s is HashForm {
  return (HASH_FORMS as readonly string[]).includes(s);
}

/** One stored hash: the name and realm a client sends, and what it computes from them. */
export interface HashEntry {
  readonly form: HashForm;
  /** The username-value as the client sends it (e.g. `chris`, `chris@example.org`, `EXAMPLE\chris`). */
  readonly username: string;
  /** The realm-value as the client sends it ("" for the upn and netbios forms). */
  readonly realm: string;
  /** H(username:realm:password), each text ISO-8859-1 when it fits, else UTF-8 (RFC 2831, as `hashUserRealmPassword`). */
  readonly hash: Uint8Array;
  /** H(username:realm:password) with every text as UTF-8; only when it differs from `hash` (the Cyrus client hashes so). */
  readonly hashUtf8?: Uint8Array | undefined;
}

/** A user's record: the account name and realm it was made for, and one entry per form. */
export interface HashedCredentialRecord {
  /** The account name, the key of the record. */
  readonly user: string;
  /** The realm of the realm forms ("" when the server offers none). */
  readonly realm: string;
  readonly entries: readonly HashEntry[];
}

export interface HashCredentialsOptions {
  /** The realm of the realm forms. Default "". */
  realm?: string;
  /** The forms to store. Default `DEFAULT_HASH_FORMS`. */
  forms?: readonly HashForm[];
  /** The domain of `user@domain` (forms upn, upn-lower). Default: the realm. */
  upnDomain?: string;
  /** The DOMAIN of `DOMAIN\user` (forms netbios, netbios-lower). Default: the realm's first label, upper-cased. */
  netbiosDomain?: string;
}

/** Checks a name, realm or domain at the boundary. */
function checkName(text: unknown, what: string, allowEmpty: boolean): string {
  if (typeof text !== 'string') throw new DigestMD5Error('bad-option', `${what} must be a string`);
  if (!allowEmpty && text.length === 0) throw new DigestMD5Error('bad-option', `${what} must not be empty`);
  if (utf8(text).length > MAX_NAME_BYTES) throw new DigestMD5Error('too-large', `${what} is longer than ${MAX_NAME_BYTES} bytes`);
  // Control characters cannot travel in a quoted-string of RFC 2831; refusing them keeps lookups unambiguous.
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new DigestMD5Error('bad-option', `${what} contains a control character`);
  return text;
}

/** The username and realm a client sends in a form. */
function formName(form: HashForm, user: string, realm: string, upnDomain: string, netbiosDomain: string): { username: string; realm: string } {
  switch (form) {
    case 'realm':
      return { username: user, realm };
    case 'lower':
      return { username: user.toLowerCase(), realm };
    case 'lower-realm':
      return { username: user.toLowerCase(), realm: realm.toLowerCase() };
    case 'upn':
      return { username: `${user}@${upnDomain}`, realm: '' };
    case 'upn-lower':
      return { username: `${user}@${upnDomain}`.toLowerCase(), realm: '' };
    case 'netbios':
      return { username: `${netbiosDomain}\\${user}`, realm: '' };
    case 'netbios-lower':
      return { username: `${netbiosDomain}\\${user}`.toLowerCase(), realm: '' };
  }
}

/**
 * Computes a user's record from the password: for each form, H(name:realm:password)
 * with ISO-8859-1 conversion as the core does, and the all-UTF-8 hash when it differs.
 * Forms that give the same name and realm are stored once (the first named wins).
 */
export function hashCredentials(user: string, password: string, options: HashCredentialsOptions = {}): HashedCredentialRecord {
  checkName(user, 'the user name', false);
  if (typeof password !== 'string' || password.length === 0) throw new DigestMD5Error('bad-option', 'the password must be a non-empty string');
  if (utf8(password).length > MAX_NAME_BYTES) throw new DigestMD5Error('too-large', `the password is longer than ${MAX_NAME_BYTES} bytes`);
  const realm = checkName(options.realm ?? '', 'the realm', true);
  const forms = options.forms ?? DEFAULT_HASH_FORMS;
  if (!Array.isArray(forms) || forms.length === 0) throw new DigestMD5Error('bad-option', 'at least one form is needed');
  for (const f of forms) if (!isHashForm(f)) throw new DigestMD5Error('bad-option', `unknown form "${String(f)}" (one of ${HASH_FORMS.join(', ')})`);
  const needsDomain = (prefix: string): boolean => forms.some((f) => f.startsWith(prefix));
  const upnDomain = checkName(options.upnDomain ?? realm, 'the UPN domain', !needsDomain('upn'));
  const netbiosDomain = checkName(options.netbiosDomain ?? (realm.split('.')[0] ?? '').toUpperCase(), 'the NetBIOS domain', !needsDomain('netbios'));
  if (netbiosDomain.includes('\\')) throw new DigestMD5Error('bad-option', 'the NetBIOS domain may not contain "\\"');
  if (needsDomain('upn') && user.includes('@')) throw new DigestMD5Error('bad-option', 'the user name already contains "@": store it with the realm form');

  const entries: HashEntry[] = [];
  const seen = new Set<string>();
  const utf8Password = utf8(password);
  for (const form of forms) {
    const n = formName(form, user, realm, upnDomain, netbiosDomain);
    checkName(n.username, `the ${form} name`, false);
    const key = lookupKey(n.username, n.realm);
    if (seen.has(key)) continue;
    seen.add(key);
    const hash = hashUserRealmPassword(n.username, n.realm, password);
    const hashUtf8 = hashUserRealmPasswordBytes(utf8(n.username), utf8(n.realm), utf8Password);
    const same = constantTimeEqual(hash, hashUtf8);
    if (same) wipe(hashUtf8);
    entries.push({ form, username: n.username, realm: n.realm, hash, ...(same ? {} : { hashUtf8 }) });
  }
  wipe(utf8Password);
  return { user, realm, entries };
}

function lookupKey(username: string, realm: string): string {
  // JSON keeps the two apart whatever characters they hold.
  return JSON.stringify([username, realm]);
}

export interface HashedCredentialStoreOptions {
  /** Most records held. Default 1,000,000. */
  maxUsers?: number;
}

/**
 * The in-memory store of precalculated hashes, a CredentialStore. Lookup is by the
 * username and realm exactly as the client sent them; it returns a copy of the hash
 * (and of the all-UTF-8 hash, when there is one) for the form that matches.
 */
export class HashedCredentialStore implements CredentialStore {
  private readonly users = new Map<string, HashedCredentialRecord>();
  private readonly index = new Map<string, { user: string; entry: HashEntry }>();
  readonly maxUsers: number;

  constructor(records: Iterable<HashedCredentialRecord> = [], options: HashedCredentialStoreOptions = {}) {
    this.maxUsers = options.maxUsers ?? 1_000_000;
    if (!Number.isInteger(this.maxUsers) || this.maxUsers < 1) throw new DigestMD5Error('bad-option', 'maxUsers must be a positive integer');
    for (const r of records) this.set(r);
  }

  get size(): number {
    return this.users.size;
  }

  lookup(query: CredentialQuery): Credential | undefined {
    const found = this.index.get(lookupKey(query.username, query.realm));
    if (found === undefined) return undefined;
    const e = found.entry;
    return { hashedSecret: e.hash.slice(), ...(e.hashUtf8 ? { hashedSecretUtf8: e.hashUtf8.slice() } : {}) };
  }

  /** The account whose record holds this name and realm, if any. */
  userFor(username: string, realm: string): string | undefined {
    return this.index.get(lookupKey(username, realm))?.user;
  }

  get(user: string): HashedCredentialRecord | undefined {
    return this.users.get(user);
  }

  has(user: string): boolean {
    return this.users.has(user);
  }

  /** Every record, in the order they were first added. */
  records(): HashedCredentialRecord[] {
    return [...this.users.values()];
  }

  /**
   * Adds or replaces the record of `record.user`. Refuses a record whose name and realm
   * for some form is already another user's: one name may not mean two accounts.
   */
  set(record: HashedCredentialRecord): void {
    checkRecord(record);
    for (const e of record.entries) {
      const other = this.index.get(lookupKey(e.username, e.realm));
      if (other !== undefined && other.user !== record.user) {
        throw new DigestMD5Error(
          'bad-option',
          `the name "${e.username}" in realm "${e.realm}" (form ${e.form}) already belongs to user "${other.user}"`,
        );
      }
    }
    if (!this.users.has(record.user) && this.users.size >= this.maxUsers) {
      throw new DigestMD5Error('too-large', `the store holds its maximum of ${this.maxUsers} users`);
    }
    this.removeIndex(record.user);
    this.users.set(record.user, record);
    for (const e of record.entries) this.index.set(lookupKey(e.username, e.realm), { user: record.user, entry: e });
  }

  /** Removes a user's record; false when there was none. */
  delete(user: string): boolean {
    if (!this.users.has(user)) return false;
    this.removeIndex(user);
    this.users.delete(user);
    return true;
  }

  private removeIndex(user: string): void {
    const old = this.users.get(user);
    if (old) for (const e of old.entries) this.index.delete(lookupKey(e.username, e.realm));
  }
}

/** Checks a record's shape (records may come from a file or an application). */
export function checkRecord(r: HashedCredentialRecord): HashedCredentialRecord {
  const bad = (why: string): never => malformed(`credential record: ${why}`);
  if (typeof r !== 'object' || r === null) bad('not an object');
  if (typeof r.user !== 'string' || r.user.length === 0) bad('"user" must be a non-empty string');
  if (typeof r.realm !== 'string') bad('"realm" must be a string');
  if (!Array.isArray(r.entries) || r.entries.length === 0 || r.entries.length > HASH_FORMS.length) {
    bad(`"entries" must hold 1..${HASH_FORMS.length} hashes`);
  }
  const seen = new Set<string>();
  for (const e of r.entries) {
    if (typeof e !== 'object' || e === null) bad('an entry is not an object');
    if (!isHashForm(e.form)) bad(`unknown form "${String(e.form).slice(0, 40)}"`);
    if (typeof e.username !== 'string' || e.username.length === 0) bad(`form ${e.form}: "username" must be a non-empty string`);
    if (typeof e.realm !== 'string') bad(`form ${e.form}: "realm" must be a string`);
    try {
      checkName(e.username, 'username', false);
      checkName(e.realm, 'realm', true);
    } catch (x) {
      bad(`form ${e.form}: ${(x as Error).message}`);
    }
    if (!(e.hash instanceof Uint8Array) || e.hash.length !== 16) bad(`form ${e.form}: the hash must be 16 bytes`);
    if (e.hashUtf8 !== undefined && (!(e.hashUtf8 instanceof Uint8Array) || e.hashUtf8.length !== 16)) {
      bad(`form ${e.form}: the UTF-8 hash must be 16 bytes`);
    }
    const key = lookupKey(e.username, e.realm);
    if (seen.has(key)) bad(`the name "${e.username}" in realm "${e.realm}" appears twice`);
    seen.add(key);
  }
  return r;
}

/**
 * One record as one line of JSON (no newline), the file format of docs/authd.md:
 * `{"v":1,"user":…,"realm":…,"entries":[{"form":…,"username":…,"realm":…,"hash":hex,"hashUtf8":hex?}]}`.
 */
export function formatRecord(r: HashedCredentialRecord): string {
  checkRecord(r);
  return JSON.stringify({
    v: 1,
    user: r.user,
    realm: r.realm,
    entries: r.entries.map((e) => ({
      form: e.form,
      username: e.username,
      realm: e.realm,
      hash: toHex(e.hash),
      ...(e.hashUtf8 ? { hashUtf8: toHex(e.hashUtf8) } : {}),
    })),
  });
}

/** Parses one line of the file format; throws DigestMD5Error('malformed') saying what is wrong. */
export function parseRecord(line: string): HashedCredentialRecord {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    malformed('not a JSON object');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) malformed('not a JSON object');
  const o = v as Record<string, unknown>;
  if (o.v !== 1) malformed(`unknown record version ${JSON.stringify(o.v)?.slice(0, 20)} (expected "v":1)`);
  if (!Array.isArray(o.entries)) malformed('"entries" must be an array');
  const hex = (x: unknown, what: string): Uint8Array => {
    const b = typeof x === 'string' && x.length === 32 ? fromHex(x) : undefined;
    return b ?? malformed(`${what} must be 32 hex digits`);
  };
  const entries = (o.entries as unknown[]).slice(0, HASH_FORMS.length + 1).map((x, i): HashEntry => {
    if (typeof x !== 'object' || x === null) malformed(`entry ${i + 1} is not an object`);
    const e = x as Record<string, unknown>;
    return {
      form: e.form as HashForm,
      username: e.username as string,
      realm: e.realm as string,
      hash: hex(e.hash, `entry ${i + 1}: "hash"`),
      ...(e.hashUtf8 !== undefined ? { hashUtf8: hex(e.hashUtf8, `entry ${i + 1}: "hashUtf8"`) } : {}),
    };
  });
  return checkRecord({ user: o.user as string, realm: o.realm as string, entries });
}
