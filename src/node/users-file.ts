// The users file of `digest-md5 serve`: one account per line, `user:realm:hash`, where hash
// is H(user:realm:password) (RFC 2831 §2.1.2.1) in hex, so the file holds no password.

import { readFile, stat } from 'node:fs/promises';
import type { Credential, CredentialStore } from '../credentials.js';

/** Files larger than this are refused (about 200,000 accounts). */
export const MAX_USERS_FILE_BYTES = 16 * 1024 * 1024;

export class UsersFileError extends Error {
  override name = 'UsersFileError';
}

export interface UsersFile {
  /** Realms in the order they first appear. */
  readonly realms: string[];
  readonly count: number;
  readonly store: CredentialStore;
}

/** Parses the text of a users file; `name` is used in error messages. */
export function parseUsersFile(text: string, name: string): UsersFile {
  const secrets = new Map<string, Uint8Array>();
  const realms: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim().length === 0 || line.startsWith('#')) continue;
    const where = `${name}:${i + 1}`;
    const parts = line.split(':');
    if (parts.length !== 3) throw new UsersFileError(`${where}: expected user:realm:hash (names may not contain ":"), got ${parts.length} fields`);
    const [user, realm, hash] = parts as [string, string, string];
    if (user.length === 0) throw new UsersFileError(`${where}: empty user name`);
    if (realm.length === 0) throw new UsersFileError(`${where}: empty realm`);
    if (!/^[0-9a-fA-F]{32}$/.test(hash)) throw new UsersFileError(`${where}: the hash must be 32 hex digits of H(user:realm:password)`);
    const key = `${realm}\u0000${user}`;
    if (secrets.has(key)) throw new UsersFileError(`${where}: user "${user}" appears twice in realm "${realm}"`);
    secrets.set(key, new Uint8Array(Buffer.from(hash, 'hex')));
    if (!realms.includes(realm)) realms.push(realm);
  }
  if (secrets.size === 0) throw new UsersFileError(`${name}: no accounts`);
  return {
    realms,
    count: secrets.size,
    store: {
      lookup: ({ username, realm }): Credential | undefined => {
        const h = secrets.get(`${realm}\u0000${username}`);
        return h === undefined ? undefined : { hashedSecret: h.slice() };
      },
    },
  };
}

/** Reads and parses a users file, refusing one over MAX_USERS_FILE_BYTES. */
export async function readUsersFile(path: string): Promise<UsersFile> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new UsersFileError(`${path}: not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsersFileError) throw e;
    throw new UsersFileError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (size > MAX_USERS_FILE_BYTES) throw new UsersFileError(`${path}: larger than ${MAX_USERS_FILE_BYTES} bytes`);
  const bytes = await readFile(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsersFileError(`${path}: not valid UTF-8`);
  }
  return parseUsersFile(text, path);
}
