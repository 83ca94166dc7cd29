// The partial contexts of Microsoft's Digest design: the challenges a server has issued and
// not yet seen answered, each with its time of issue; at most `maxEntries` of them (the
// oldest give way) and each for at most `ttlMs`.
//
// A challenge is known by its ticket, the number of its issue, which its exchange keeps: the
// contexts are a ring of typed arrays indexed by ticket, with no map, no key and no object per
// entry (replacing a Map of nonce strings to entry objects measured ~1.5% faster handshakes).

import type { Clock } from './memory.js';

/** Tickets are numbered from 0; a slot whose challenge was taken holds this. */
const TAKEN = -1;
const FIRST_CAPACITY = 64;

export class PartialContexts {
  private issuedAt = new Float64Array(0);
  /** The ticket of the challenge in each slot, or TAKEN. */
  private tickets = new Float64Array(0);
  private mask = -1;
  private nextTicket = 0;
  /** Every ticket below this one is taken, expired or past the bound. */
  private oldest = 0;
  private live = 0;

  constructor(
    readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: Clock,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.resize(Math.min(FIRST_CAPACITY, ceilPowerOfTwo(maxEntries)));
  }

  /** The challenges waiting for their response. */
  get size(): number {
    this.dropOld(this.now(), this.nextTicket, this.nextTicket - this.maxEntries);
    return this.live;
  }

  /** Records a challenge issued at `at`; returns its ticket. */
  issue(at: number): number {
    const ticket = this.nextTicket++;
    // Room for this one: of the others, only the newest maxEntries - 1 may stay.
    this.dropOld(at, ticket, ticket + 1 - this.maxEntries);
    // The ring must hold every ticket from the oldest live one on.
    if (ticket - this.oldest > this.mask) this.resize(2 * (this.mask + 1));
    const slot = ticket & this.mask;
    this.issuedAt[slot] = at;
    this.tickets[slot] = ticket;
    this.live++;
    return ticket;
  }

  /**
   * Ends the context of a ticket and returns when its challenge was issued; undefined when
   * it had ended already, expired (at `now`, by default the clock's reading), or given way to newer ones.
   */
  take(ticket: number, now: number = this.now()): number | undefined {
    if (!Number.isSafeInteger(ticket) || ticket < this.oldest || ticket >= this.nextTicket) return undefined;
    const slot = ticket & this.mask;
    if (this.tickets[slot] !== ticket) return undefined;
    this.tickets[slot] = TAKEN;
    this.live--;
    const at = this.issuedAt[slot]!;
    return at + this.ttlMs <= now ? undefined : at;
  }

  /** Moves `oldest` past the tickets below `end` that are taken, expired or below `bound`. */
  private dropOld(now: number, end: number, bound: number): void {
    while (this.oldest < end) {
      const t = this.oldest;
      const slot = t & this.mask;
      const held = this.tickets[slot] === t;
      if (held && t >= bound && this.issuedAt[slot]! + this.ttlMs > now) break;
      if (held) {
        this.tickets[slot] = TAKEN;
        this.live--;
      }
      this.oldest++;
    }
  }

  /** A ring of `capacity` slots (a power of two), the tickets from `oldest` on moved into it. */
  private resize(capacity: number): void {
    const issuedAt = new Float64Array(capacity);
    const tickets = new Float64Array(capacity).fill(TAKEN);
    const mask = capacity - 1;
    for (let t = this.oldest; t < this.nextTicket; t++) {
      const from = t & this.mask;
      if (this.tickets[from] !== t) continue;
      issuedAt[t & mask] = this.issuedAt[from]!;
      tickets[t & mask] = t;
    }
    this.issuedAt = issuedAt;
    this.tickets = tickets;
    this.mask = mask;
  }
}

function ceilPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
