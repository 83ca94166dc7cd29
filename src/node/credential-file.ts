// The file-backed store of precalculated hashes (docs/authd.md): one JSON record per
// line, rewritten atomically (a temporary file, fsync, rename) under a lock file.
//
// The hashes are password equivalents, so a file that every user may read or write is
// refused. Readers notice a rewrite (a new inode after the rename) and reload; a file
// that cannot be read or parsed makes lookups fail (fail closed), never a stale answer.

import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Credential, CredentialQuery, CredentialStore } from '../credentials.js';
import { DigestMD5Error, type DigestMD5ErrorCode } from '../errors.js';
import { formatRecord, HashedCredentialStore, parseRecord, type HashedCredentialRecord } from '../stores/hashed-credentials.js';

export interface CredentialFileOptions {
  /** Create the file on the first write when it does not exist (the passwd command). Default false. */
  create?: boolean;
  /** Larger files are refused. Default 64 MiB. */
  maxFileBytes?: number;
  /** Longer lines are refused. Default 64 KiB (a record of every form with 1024-byte names fits). */
  maxLineBytes?: number;
  /** Most records. Default 1,000,000. */
  maxUsers?: number;
  /** How often a lookup checks whether the file was rewritten. Default 1000 ms. */
  checkIntervalMs?: number;
  /** How long a write waits for another writer's lock. Default 5000 ms. */
  lockTimeoutMs?: number;
  now?: () => number;
}

/** A DigestMD5Error about the credential file; `line` is set for a malformed or over-long line. */
export class CredentialFileError extends DigestMD5Error {
  readonly path: string;
  readonly line: number | undefined;

  constructor(code: DigestMD5ErrorCode, path: string, message: string, options?: { line?: number; cause?: unknown }) {
    super(code, `${path}${options?.line !== undefined ? `:${options.line}` : ''}: ${message}`, options);
    this.name = 'CredentialFileError';
    this.path = path;
    this.line = options?.line;
  }
}

const LOCK_POLL_MS = 25;
/** Permission bits for "other": a file with any of them is refused. */
const OTHER_RW = 0o006;

interface Signature {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

function signatureOf(st: Stats): Signature {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

function sameSignature(a: Signature | undefined, b: Signature | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

function errnoOf(e: unknown): string | undefined {
  const c = (e as NodeJS.ErrnoException)?.code;
  return typeof c === 'string' ? c : undefined;
}

export class CredentialFile implements CredentialStore {
  readonly path: string;
  private readonly o: Required<Omit<CredentialFileOptions, 'create'>> & { create: boolean };
  private store: HashedCredentialStore;
  private signature: Signature | undefined;
  private lastCheck = 0;
  private checking: Promise<void> | undefined;
  private failure: CredentialFileError | undefined;
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(path: string, options: CredentialFileOptions) {
    const pos = (v: number | undefined, dflt: number, name: string, min = 1): number => {
      const x = v ?? dflt;
      if (!Number.isInteger(x) || x < min) throw new DigestMD5Error('bad-option', `${name} must be an integer of at least ${min}`);
      return x;
    };
    this.path = path;
    this.o = {
      create: options.create ?? false,
      maxFileBytes: pos(options.maxFileBytes, 64 * 1024 * 1024, 'maxFileBytes'),
      maxLineBytes: pos(options.maxLineBytes, 64 * 1024, 'maxLineBytes'),
      maxUsers: pos(options.maxUsers, 1_000_000, 'maxUsers'),
      checkIntervalMs: pos(options.checkIntervalMs, 1000, 'checkIntervalMs', 0),
      lockTimeoutMs: pos(options.lockTimeoutMs, 5000, 'lockTimeoutMs', 0),
      now: options.now ?? Date.now,
    };
    this.store = new HashedCredentialStore([], { maxUsers: this.o.maxUsers });
  }

  /** Opens and reads the file; rejects with a CredentialFileError when it is missing (unless `create`), unsafe or malformed. */
  static async open(path: string, options: CredentialFileOptions = {}): Promise<CredentialFile> {
    if (typeof path !== 'string' || path.length === 0) throw new DigestMD5Error('bad-option', 'the credential file path must be a non-empty string');
    const f = new CredentialFile(path, options);
    const loaded = await f.read();
    f.store = loaded.store;
    f.signature = loaded.signature;
    f.lastCheck = f.o.now();
    return f;
  }

  /** Users held (as of the last read). */
  get size(): number {
    return this.store.size;
  }

  get(user: string): HashedCredentialRecord | undefined {
    return this.store.get(user);
  }

  records(): HashedCredentialRecord[] {
    return this.store.records();
  }

  /** CredentialStore: the hash of the form the client used; reloads first when the file was rewritten. */
  async lookup(query: CredentialQuery): Promise<Credential | undefined> {
    await this.refresh();
    if (this.failure) throw this.failure;
    return this.store.lookup(query);
  }

  /** Reads the file again now. On failure the error is kept and lookups fail until a read succeeds. */
  async reload(): Promise<void> {
    try {
      const loaded = await this.read();
      this.store = loaded.store;
      this.signature = loaded.signature;
      this.failure = undefined;
    } catch (e) {
      this.failure = e instanceof CredentialFileError ? e : new CredentialFileError('backend-failed', this.path, String((e as Error)?.message ?? e), { cause: e });
      throw this.failure;
    } finally {
      this.lastCheck = this.o.now();
    }
  }

  /** Checks (at most every checkIntervalMs, one check at a time) whether the file changed, and reloads. */
  private refresh(): Promise<void> {
    if (this.checking) return this.checking;
    if (this.o.now() - this.lastCheck < this.o.checkIntervalMs) return Promise.resolve();
    this.checking = (async () => {
      let current: Signature | undefined;
      try {
        current = signatureOf(await stat(this.path));
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT' || !this.o.create) {
          this.failure = this.ioError(e, 'cannot stat');
          this.lastCheck = this.o.now();
          return;
        }
      }
      if (sameSignature(current, this.signature) && !this.failure) {
        this.lastCheck = this.o.now();
        return;
      }
      await this.reload().catch(() => undefined); // kept in this.failure
    })().finally(() => (this.checking = undefined));
    return this.checking;
  }

  /**
   * Adds or replaces a user's record. Under the lock, the file is read afresh (so
   * concurrent writers do not lose each other's changes), changed and rewritten atomically.
   */
  put(record: HashedCredentialRecord): Promise<'added' | 'replaced'> {
    return this.serialised(() =>
      this.rewrite((store) => {
        const existed = store.has(record.user);
        store.set(record);
        return existed ? 'replaced' : 'added';
      }),
    );
  }

  /** Removes a user's record; false when there was none (the file is then left untouched). */
  delete(user: string): Promise<boolean> {
    return this.serialised(() => this.rewrite((store) => store.delete(user)));
  }

  private serialised<T>(f: () => Promise<T>): Promise<T> {
    const run = this.writing.then(f, f);
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async rewrite<T>(change: (store: HashedCredentialStore) => T): Promise<T> {
    const unlock = await this.lock();
    try {
      const current = await this.read();
      const result = change(current.store);
      if (result === false) return result;
      const lines = current.store.records().map((r) => formatRecord(r));
      let total = 0;
      for (const l of lines) {
        const n = Buffer.byteLength(l) + 1;
        if (n - 1 > this.o.maxLineBytes) throw new CredentialFileError('too-large', this.path, `a record is ${n - 1} bytes, over the line limit of ${this.o.maxLineBytes}`);
        total += n;
      }
      if (total > this.o.maxFileBytes) throw new CredentialFileError('too-large', this.path, `the file would be ${total} bytes, over the limit of ${this.o.maxFileBytes}`);
      await this.writeAtomically(lines.map((l) => l + '\n').join(''), current.stats);
      const after = await stat(this.path);
      this.store = current.store;
      this.signature = signatureOf(after);
      this.failure = undefined;
      this.lastCheck = this.o.now();
      return result;
    } finally {
      await unlock();
    }
  }

  /** Writes a temporary file in the same directory, fsyncs it, and renames it over the file. */
  private async writeAtomically(text: string, previous: Stats | undefined): Promise<void> {
    const dir = dirname(this.path);
    const tmp = join(dir, `.${basename(this.path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    let fh: FileHandle | undefined;
    try {
      fh = await open(tmp, 'wx', 0o600);
      if (previous) {
        // Keep the owner and group (e.g. an authd account) when allowed, and the mode, never with bits for others.
        await fh.chown(previous.uid, previous.gid).catch(() => undefined);
        await fh.chmod(previous.mode & 0o770);
      }
      await fh.writeFile(text, 'utf8');
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, this.path);
    } catch (e) {
      await fh?.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      if (e instanceof DigestMD5Error) throw e;
      throw this.ioError(e, 'cannot rewrite');
    }
    // The rename is durable once the directory is synced (best effort: not every platform allows it).
    const d = await open(dir, 'r').catch(() => undefined);
    await d?.sync().catch(() => undefined);
    await d?.close().catch(() => undefined);
  }

  /** Takes FILE.lock (created exclusively), waiting at most lockTimeoutMs; returns its release. */
  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = this.o.now() + this.o.lockTimeoutMs;
    for (;;) {
      try {
        const fh = await open(lockPath, 'wx', 0o600);
        await fh.writeFile(`${process.pid}\n`).finally(() => fh.close());
        return () => unlink(lockPath).catch(() => undefined);
      } catch (e) {
        if (errnoOf(e) !== 'EEXIST') throw this.ioError(e, `cannot create the lock file ${lockPath}`);
        if (this.o.now() >= deadline) {
          throw new CredentialFileError(
            'backend-failed',
            this.path,
            `locked by another writer for over ${this.o.lockTimeoutMs} ms (if no digest-md5 passwd is running, remove ${lockPath})`,
          );
        }
        await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
      }
    }
  }

  /** Reads and parses the whole file, checking its permissions and sizes on the open descriptor. */
  private async read(): Promise<{ store: HashedCredentialStore; signature: Signature | undefined; stats: Stats | undefined }> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (e) {
      if (errnoOf(e) === 'ENOENT' && this.o.create) {
        return { store: new HashedCredentialStore([], { maxUsers: this.o.maxUsers }), signature: undefined, stats: undefined };
      }
      throw this.ioError(e, 'cannot open');
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new CredentialFileError('bad-option', this.path, 'not a regular file');
      if (process.platform !== 'win32' && (st.mode & OTHER_RW) !== 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
        throw new CredentialFileError(
          'bad-option',
          this.path,
          `refusing a credential file that every user may ${st.mode & 0o004 ? 'read' : 'write'} (mode ${mode}): it holds password equivalents; run "chmod o-rwx ${this.path}"`,
        );
      }
      if (st.size > this.o.maxFileBytes) throw new CredentialFileError('too-large', this.path, `${st.size} bytes, over the limit of ${this.o.maxFileBytes}`);
      // Read at most one byte past the limit: the file may have grown since fstat.
      const buf = Buffer.alloc(Math.min(st.size, this.o.maxFileBytes) + 1);
      let got = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
        if (got === buf.length) break;
      }
      if (got > this.o.maxFileBytes) throw new CredentialFileError('too-large', this.path, `over the limit of ${this.o.maxFileBytes} bytes`);
      return { store: this.parse(buf.subarray(0, got)), signature: signatureOf(st), stats: st };
    } catch (e) {
      if (e instanceof DigestMD5Error) throw e;
      throw this.ioError(e, 'cannot read');
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  private parse(bytes: Buffer): HashedCredentialStore {
    const store = new HashedCredentialStore([], { maxUsers: this.o.maxUsers });
    let at = 0;
    let lineNo = 0;
    while (at < bytes.length) {
      lineNo++;
      let end = bytes.indexOf(0x0a, at);
      if (end < 0) end = bytes.length;
      const raw = bytes.subarray(at, end);
      at = end + 1;
      if (raw.length > this.o.maxLineBytes) {
        throw new CredentialFileError('too-large', this.path, `the line is ${raw.length} bytes, over the limit of ${this.o.maxLineBytes}`, { line: lineNo });
      }
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
      } catch {
        throw new CredentialFileError('malformed', this.path, 'not valid UTF-8', { line: lineNo });
      }
      if (text.trim().length === 0) continue;
      try {
        const record = parseRecord(text);
        if (store.has(record.user)) throw new DigestMD5Error('malformed', `user "${record.user}" appears on an earlier line too`);
        store.set(record);
      } catch (e) {
        const err = e as DigestMD5Error;
        const code = err.code === 'too-large' ? 'too-large' : 'malformed';
        throw new CredentialFileError(code, this.path, err.message, { line: lineNo, cause: e });
      }
    }
    return store;
  }

  private ioError(e: unknown, what: string): CredentialFileError {
    if (e instanceof CredentialFileError) return e;
    const code = errnoOf(e);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? String((e as Error)?.message ?? e));
    return new CredentialFileError('backend-failed', this.path, `${what}: ${why}`, { cause: e });
  }
}
