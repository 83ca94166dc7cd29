// The client's cache of authenticated contexts for subsequent authentication
// (RFC 2831 §2.2): after a full exchange, the next connection to the same service,
// host and user sends an initial response with the same nonce and the next nc.

import { LruTtlCache, type Clock } from './stores/memory.js';

export interface ClientContext {
  readonly nonce: Uint8Array;
  readonly cnonce: Uint8Array;
  /** The last nc used with this nonce. */
  nc: number;
  readonly realm: string;
  readonly ha1: Uint8Array;
  readonly digestUri: string;
  readonly authzid: string | undefined;
  readonly utf8: boolean;
  readonly peerMaxbuf: number;
}

export interface ClientContextCacheOptions {
  /** Default 100 (Cyrus keeps 10). */
  maxEntries?: number;
  /** Default 300 s, the server side's default context lifetime. */
  ttlMs?: number;
  now?: Clock;
}

export class ClientContextCache {
  private readonly cache: LruTtlCache<string, ClientContext>;
  private readonly ttlMs: number;

  constructor(o: ClientContextCacheOptions = {}) {
    this.ttlMs = o.ttlMs ?? 300_000;
    this.cache = new LruTtlCache(o.maxEntries ?? 100, o.now ?? Date.now);
  }

  get size(): number {
    return this.cache.size;
  }

  static key(service: string, host: string, username: string, authzid: string | undefined): string {
    // JSON keeps the parts apart whatever characters they hold.
    return JSON.stringify([service.toLowerCase(), host.toLowerCase(), username, authzid ?? null]);
  }

  /** Takes the context for the next subsequent authentication, its nc already advanced. */
  next(key: string): ClientContext | undefined {
    const ctx = this.cache.get(key);
    if (!ctx || ctx.nc >= 0xffffffff) return undefined;
    ctx.nc += 1; // never reuse an nc, even if this attempt fails
    return ctx;
  }

  save(key: string, ctx: ClientContext): void {
    this.cache.set(key, ctx, this.ttlMs);
  }

  delete(key: string): void {
    this.cache.delete(key);
  }
}
