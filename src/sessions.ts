// Server-side state shared by every exchange of one server, the Microsoft Digest
// way: the nonce issuer, the partial contexts (challenges awaiting a response,
// IIS DigestPartialContextCacheTTL), the full contexts kept for subsequent
// authentication (DigestContextCacheTTL) and the nonce store for replay detection.

import { randomBytes } from '#crypto';
import { DigestMD5Error } from './errors.js';
import { NonceIssuer, type NonceInfo } from './nonce.js';
import { MemoryNonceStore, type Clock, type NonceStore } from './stores/memory.js';
import { ContextTable, type AuthContext } from './stores/context-table.js';
import { PartialContexts } from './stores/partial-contexts.js';

export type { AuthContext };

export interface ServerSessionsOptions {
  /** This server's identity, written into its nonces. Default: "digest-md5". */
  serverId?: string;
  /** HMAC key for nonces (>= 16 bytes). Default: 32 random bytes, so nonces die when the program exits. */
  nonceKey?: Uint8Array;
  /** How long a nonce may be answered or reused. Default 300 s. */
  nonceLifetimeMs?: number;
  /** How long a challenge waits for its response (partial context). Default 30 s. */
  partialTtlMs?: number;
  /** How long an authenticated context is kept for subsequent authentication. Default 300 s. */
  contextTtlMs?: number;
  /** Bound on outstanding challenges; the oldest are dropped (their responses then get stale=true). Default 10000. */
  maxPartialContexts?: number;
  /** Bound on cached authenticated contexts (LRU). Default 10000. */
  maxContexts?: number;
  /** Replay detection; default an in-memory store bounded at 100000 nonces. */
  nonceStore?: NonceStore;
  now?: Clock;
}


export interface SessionStats {
  partialContexts: number;
  contexts: number;
  nonces: number;
}

/** A challenge's nonce, and the ticket of its partial context. */
export interface IssuedChallenge {
  readonly nonce: string;
  readonly ticket: number;
  /** The test-only fixed nonce (never expires), not one of the issuer's. */
  readonly fixed: boolean;
}

/** The age of a nonce, checked against the lifetimes. */
export type NonceAge = 'fresh' | 'expired';

export class ServerSessions {
  readonly nonceLifetimeMs: number;
  readonly partialTtlMs: number;
  readonly contextTtlMs: number;
  readonly nonceStore: NonceStore;
  private readonly issuer: NonceIssuer;
  private readonly partial: PartialContexts;
  private readonly contexts: ContextTable;
  private readonly fixedNonces = new Set<string>();
  readonly now: Clock;

  constructor(o: ServerSessionsOptions = {}) {
    const ms = (v: number | undefined, dflt: number, name: string): number => {
      const x = v ?? dflt;
      if (!Number.isFinite(x) || x <= 0) throw new DigestMD5Error('bad-option', `${name} must be a positive number of milliseconds`);
      return x;
    };
    const count = (v: number | undefined, dflt: number, name: string): number => {
      const x = v ?? dflt;
      if (!Number.isInteger(x) || x < 1) throw new DigestMD5Error('bad-option', `${name} must be a positive integer`);
      return x;
    };
    this.now = o.now ?? Date.now;
    this.nonceLifetimeMs = ms(o.nonceLifetimeMs, 300_000, 'nonceLifetimeMs');
    this.partialTtlMs = ms(o.partialTtlMs, 30_000, 'partialTtlMs');
    this.contextTtlMs = ms(o.contextTtlMs, 300_000, 'contextTtlMs');
    this.issuer = new NonceIssuer({ serverId: o.serverId ?? 'digest-md5', key: o.nonceKey ?? randomBytes(32), now: this.now });
    this.partial = new PartialContexts(count(o.maxPartialContexts, 10_000, 'maxPartialContexts'), this.partialTtlMs, this.now);
    this.contexts = new ContextTable(count(o.maxContexts, 10_000, 'maxContexts'), this.now);
    this.nonceStore = o.nonceStore ?? new MemoryNonceStore({ now: this.now });
  }

  get serverId(): string {
    return this.issuer.serverId;
  }

  /** Counts for monitoring. */
  get stats(): SessionStats {
    return { partialContexts: this.partial.size, contexts: this.contexts.size, nonces: this.nonceStore.size };
  }

  /**
   * Issues the nonce of a new challenge and records the partial context, which keeps the
   * time written into the nonce. `fixed` is the test-only fixed nonce: it is then taken as
   * issued by this server. The ticket is how the exchange takes the context back.
   */
  issueChallenge(fixed?: string): IssuedChallenge {
    const issuedAt = this.now();
    const nonce = fixed ?? this.issuer.issue(issuedAt);
    if (fixed !== undefined) this.fixedNonces.add(fixed);
    return { nonce, ticket: this.partial.issue(issuedAt), fixed: fixed !== undefined };
  }

  /**
   * Checks that a nonce is this server's (throws 'invalid-response' for a forged,
   * foreign or malformed one) and says whether it is past its lifetime.
   */
  checkNonce(nonce: string, bytes: Uint8Array): NonceAge {
    if (this.fixedNonces.has(nonce)) return 'fresh';
    const info: NonceInfo = this.issuer.inspect(bytes);
    return this.now() - info.issuedAt > this.nonceLifetimeMs ? 'expired' : 'fresh';
  }

  /**
   * Ends the partial context of a challenge this server issued, for the exchange that issued
   * it, and says how old its nonce is from the time the context kept (its MAC needs no
   * check: the caller has compared the nonce with its own). Undefined when the partial
   * context had expired or given way to newer ones.
   */
  takeIssued(issued: IssuedChallenge): NonceAge | undefined {
    const now = this.now(); // one reading for both checks (a clock read is ~40 ns)
    const issuedAt = this.partial.take(issued.ticket, now);
    if (issuedAt === undefined) return undefined;
    if (issued.fixed) return 'fresh'; // known from the challenge: no lookup of the nonce's text
    return now - issuedAt > this.nonceLifetimeMs ? 'expired' : 'fresh';
  }

  /** Keeps an authenticated context for subsequent authentication, from `now` (by default the clock's reading). */
  saveContext(nonce: string, ctx: AuthContext, now: number = this.now()): void {
    this.contexts.set(nonce, ctx, this.contextTtlMs, now);
  }

  context(nonce: string): AuthContext | undefined {
    return this.contexts.get(nonce);
  }

  /** The expiry to give the nonce store for a nonce used at `now` (by default the clock's reading). */
  nonceExpiry(now: number = this.now()): number {
    return now + Math.max(this.nonceLifetimeMs, this.contextTtlMs);
  }
}
