// The authenticated contexts a server keeps for subsequent authentication (RFC 2831 §2.2),
// by nonce: a FingerprintTable, each context's bytes (H(A1), cnonce) in arrays shared by all
// entries and its texts in one array of references. A full cache then holds no object per
// context, so none survives the young generation to be copied out of it; a context that
// leaves (evicted, expired, replaced) has its H(A1) wiped at once, not left to the collector.
//
// Nonces are told apart by their keyed 64-bit fingerprints (see FingerprintTable). Were two
// ever to collide, a subsequent authentication naming the second would be checked against
// the first's context: its response, computed with that context's H(A1), could not match
// without that session's key, so the client would simply authenticate in full.

import type { Clock } from './memory.js';
import { FingerprintTable, NONE, widen } from './fingerprint-table.js';

/** What a server remembers of an authentication, for subsequent authentication (RFC 2831 §2.2). */
export interface AuthContext {
  readonly username: string;
  readonly realm: string;
  /** undefined when the client sent none. */
  readonly authzid: string | undefined;
  /** H(A1), the session key. */
  readonly ha1: Uint8Array;
  readonly cnonce: Uint8Array;
  readonly digestUri: string;
  readonly qop: string;
  readonly cipher: string | undefined;
}

const HA1_BYTES = 16;
/**
 * Contexts whose cnonce is longer are not kept (their client authenticates in full next
 * time): ours are 22 bytes, the JDK's 40, Cyrus's 44.
 */
export const MAX_KEPT_CNONCE = 64;
/** Texts per entry: username, realm, authzid, digest-uri, qop, cipher. */
const TEXTS = 6;

export class ContextTable {
  private ha1 = new Uint8Array(0);
  private cnonce = new Uint8Array(0);
  private cnonceLength = new Int32Array(0);
  private texts: (string | undefined)[] = [];
  private readonly table: FingerprintTable;

  constructor(
    readonly maxEntries: number,
    private readonly now: Clock,
  ) {
    this.table = new FingerprintTable(maxEntries, {
      grow: (capacity) => {
        this.ha1 = widen(this.ha1, capacity * HA1_BYTES, (n) => new Uint8Array(n));
        this.cnonce = widen(this.cnonce, capacity * MAX_KEPT_CNONCE, (n) => new Uint8Array(n));
        this.cnonceLength = widen(this.cnonceLength, capacity, (n) => new Int32Array(n));
        const texts = new Array<string | undefined>(capacity * TEXTS).fill(undefined);
        for (let i = 0; i < this.texts.length; i++) texts[i] = this.texts[i];
        this.texts = texts;
      },
      clear: (e) => {
        this.ha1.fill(0, e * HA1_BYTES, (e + 1) * HA1_BYTES);
        this.cnonce.fill(0, e * MAX_KEPT_CNONCE, e * MAX_KEPT_CNONCE + this.cnonceLength[e]!);
        this.cnonceLength[e] = 0;
        this.texts.fill(undefined, e * TEXTS, (e + 1) * TEXTS);
      },
    });
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * Keeps `ctx` (its bytes copied) for `nonce` until `ttlMs` after `now`, the most recently
   * used; the least recently used goes past the bound. A context with a cnonce over
   * MAX_KEPT_CNONCE bytes is not kept (and one held for the nonce is dropped).
   */
  set(nonce: string, ctx: AuthContext, ttlMs: number, now: number = this.now()): void {
    const t = this.table;
    let e = t.find(nonce, now);
    if (ctx.ha1.length !== HA1_BYTES || ctx.cnonce.length > MAX_KEPT_CNONCE) {
      if (e !== NONE) t.delete(nonce);
      return;
    }
    if (e === NONE) e = t.insert(now, now + ttlMs);
    else {
      t.touch(e);
      t.expire(e, now + ttlMs);
      this.cnonce.fill(0, e * MAX_KEPT_CNONCE, e * MAX_KEPT_CNONCE + this.cnonceLength[e]!);
    }
    const h = this.ha1;
    for (let i = 0; i < HA1_BYTES; i++) h[e * HA1_BYTES + i] = ctx.ha1[i]!;
    const c = this.cnonce;
    const n = ctx.cnonce.length;
    for (let i = 0; i < n; i++) c[e * MAX_KEPT_CNONCE + i] = ctx.cnonce[i]!;
    this.cnonceLength[e] = n;
    const x = this.texts;
    const at = e * TEXTS;
    x[at] = ctx.username;
    x[at + 1] = ctx.realm;
    x[at + 2] = ctx.authzid;
    x[at + 3] = ctx.digestUri;
    x[at + 4] = ctx.qop;
    x[at + 5] = ctx.cipher;
  }

  /** The context kept for `nonce` (its bytes in arrays of their own), made the most recently used; undefined when absent or expired. */
  get(nonce: string, now: number = this.now()): AuthContext | undefined {
    const e = this.table.find(nonce, now);
    if (e === NONE) return undefined;
    this.table.touch(e);
    const x = this.texts;
    const at = e * TEXTS;
    return {
      username: x[at]!,
      realm: x[at + 1]!,
      authzid: x[at + 2],
      ha1: this.ha1.slice(e * HA1_BYTES, (e + 1) * HA1_BYTES),
      cnonce: this.cnonce.slice(e * MAX_KEPT_CNONCE, e * MAX_KEPT_CNONCE + this.cnonceLength[e]!),
      digestUri: x[at + 3]!,
      qop: x[at + 4]!,
      cipher: x[at + 5],
    };
  }

  delete(nonce: string): void {
    this.table.delete(nonce);
  }
}
