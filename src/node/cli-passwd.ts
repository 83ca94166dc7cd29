// `digest-md5 passwd`: adds, replaces or deletes a user's precalculated hashes in a
// credential file (docs/authd.md), like htdigest or saslpasswd2 but never storing the password.

import type { Readable, Writable } from 'node:stream';
import { DigestMD5Error } from '../errors.js';
import { DEFAULT_HASH_FORMS, HASH_FORMS, hashCredentials, type HashForm } from '../stores/hashed-credentials.js';
import { listFlag, parseArgs, stringFlag, UsageError, type FlagSpec, commandFailure } from './args.js';
import { CredentialFile } from './credential-file.js';
import { isTerminal, MAX_PASSWORD_BYTES, promptHidden, readFirstLine } from './password-input.js';

export const PASSWD_USAGE = `usage: digest-md5 passwd FILE USER --realm R [options]
       digest-md5 passwd --delete FILE USER

Adds or replaces USER's precalculated hashes H(name:realm:password) in FILE, one JSON
record a line (docs/authd.md), creating FILE with mode 0600 when it does not exist.
The password is read twice from the terminal without echo, or with --password-stdin
from the first line of stdin. It is never stored; the hashes are password equivalents,
so FILE must not be readable by every user (it is refused then).

  --realm R             realm of the forms realm, lower and lower-realm ("" when the server offers none)
  --form LIST           forms to store, comma-separated (default ${DEFAULT_HASH_FORMS.join(',')}):
                          realm          USER with realm R
                          lower          USER lower-cased, with realm R
                          lower-realm    USER and R both lower-cased
                          upn            USER@DOMAIN with no realm; upn-lower the same lower-cased
                          netbios        DOMAIN\\USER with no realm; netbios-lower the same lower-cased
  --upn-domain D        DOMAIN of the upn forms (default: R)
  --netbios-domain D    DOMAIN of the netbios forms (default: R's first label, upper-cased)
  --password-stdin      read the password from the first line of stdin
  --delete              remove USER from FILE
  -h, --help            this text

Exit status: 0 done, 1 failure, 2 usage error.`;

const FLAGS: FlagSpec[] = [
  { name: 'realm', value: true },
  { name: 'form', value: true },
  { name: 'upn-domain', value: true },
  { name: 'netbios-domain', value: true },
  { name: 'password-stdin', value: false },
  { name: 'delete', value: false },
  { name: 'help', short: 'h', value: false },
];

export interface PasswdIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

const REALM_FORMS: readonly HashForm[] = ['realm', 'lower', 'lower-realm'];

/** Runs `passwd`; resolves to the exit status. */
export async function runPasswd(argv: readonly string[], io: PasswdIo): Promise<number> {
  const fail = commandFailure(io.stderr, 'passwd');
  let o;
  try {
    const a = parseArgs(argv, FLAGS);
    if (a.flags.has('help')) {
      io.stdout.write(PASSWD_USAGE + '\n');
      return 0;
    }
    if (a.positional.length !== 2) throw new UsageError(`expected FILE and USER, got ${a.positional.length} argument(s)`);
    const [path, user] = a.positional as [string, string];
    if (path.length === 0 || user.length === 0) throw new UsageError('FILE and USER must not be empty');
    const del = a.flags.has('delete');
    if (del) {
      for (const f of ['realm', 'form', 'upn-domain', 'netbios-domain', 'password-stdin']) {
        if (a.flags.has(f)) throw new UsageError(`--${f} does not go with --delete`);
      }
    }
    const forms = listFlag(a, 'form', HASH_FORMS) ?? [...DEFAULT_HASH_FORMS];
    const realm = stringFlag(a, 'realm');
    if (!del && realm === undefined && forms.some((f) => REALM_FORMS.includes(f))) {
      throw new UsageError(`--realm is required for the form(s) ${forms.filter((f) => REALM_FORMS.includes(f)).join(', ')} (give --realm "" for a server that offers no realm)`);
    }
    o = {
      path,
      user,
      del,
      forms,
      realm,
      upnDomain: stringFlag(a, 'upn-domain'),
      netbiosDomain: stringFlag(a, 'netbios-domain'),
      passwordStdin: a.flags.has('password-stdin'),
    };
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message, 2);
    throw e;
  }

  try {
    if (o.del) {
      const file = await CredentialFile.open(o.path);
      if (!(await file.delete(o.user))) return fail(`no user "${o.user}" in ${o.path}`, 1);
      io.stdout.write(`deleted ${o.user} from ${o.path}\n`);
      return 0;
    }
    // Open (and check) the file before asking for the password.
    const file = await CredentialFile.open(o.path, { create: true });
    const password = await readPassword(o.passwordStdin, io);
    const record = hashCredentials(o.user, password, {
      forms: o.forms,
      ...(o.realm !== undefined ? { realm: o.realm } : {}),
      ...(o.upnDomain !== undefined ? { upnDomain: o.upnDomain } : {}),
      ...(o.netbiosDomain !== undefined ? { netbiosDomain: o.netbiosDomain } : {}),
    });
    const done = await file.put(record);
    const names = record.entries.map((e) => (e.realm.length > 0 ? `${e.username} (realm ${e.realm})` : e.username));
    io.stdout.write(`${done} ${o.user} in ${o.path}: ${names.join(', ')}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message, 2);
    if (e instanceof DigestMD5Error) return fail(e.message, 1);
    return fail(String((e as Error)?.message ?? e), 1);
  }
}

async function readPassword(fromStdin: boolean, io: PasswdIo): Promise<string> {
  let password: string;
  if (fromStdin) {
    password = await readFirstLine(io.stdin);
  } else {
    if (!isTerminal(io.stdin)) throw new UsageError('stdin is not a terminal: give the password with --password-stdin');
    password = await promptHidden(io.stdin, io.stderr, 'Password: ');
    const again = await promptHidden(io.stdin, io.stderr, 'Again: ');
    if (again !== password) throw new DigestMD5Error('bad-option', 'the two passwords differ; nothing changed');
  }
  if (password.length === 0) throw new DigestMD5Error('bad-option', 'the password is empty; nothing changed');
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new DigestMD5Error('too-large', `the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  return password;
}
