// The sample server's key-value store: one small map per authenticated identity,
// in memory, with every size bounded.

export interface StoreLimits {
  /** Identities with at least one key. Default 256. */
  maxUsers: number;
  /** Keys per identity. Default 64. */
  maxKeysPerUser: number;
  /** UTF-8 bytes of a key. Default 64. */
  maxKeyBytes: number;
  /** UTF-8 bytes of a value. Default 1024. */
  maxValueBytes: number;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = { maxUsers: 256, maxKeysPerUser: 64, maxKeyBytes: 64, maxValueBytes: 1024 };

export type PutResult = { ok: true } | { ok: false; reason: string };

export class UserStore {
  private readonly users = new Map<string, Map<string, string>>();

  constructor(readonly limits: StoreLimits) {}

  put(user: string, key: string, value: string): PutResult {
    const l = this.limits;
    if (Buffer.byteLength(key) > l.maxKeyBytes) return { ok: false, reason: `key longer than ${l.maxKeyBytes} bytes` };
    if (Buffer.byteLength(value) > l.maxValueBytes) return { ok: false, reason: `value longer than ${l.maxValueBytes} bytes` };
    let map = this.users.get(user);
    if (!map) {
      if (this.users.size >= l.maxUsers) return { ok: false, reason: `store full (${l.maxUsers} users)` };
      map = new Map();
      this.users.set(user, map);
    }
    if (!map.has(key) && map.size >= l.maxKeysPerUser) return { ok: false, reason: `store full (${l.maxKeysPerUser} keys)` };
    map.set(key, value);
    return { ok: true };
  }

  get(user: string, key: string): string | undefined {
    return this.users.get(user)?.get(key);
  }
}
