import { expect } from 'chai';
import { rng } from './helpers/util.js';
import { PartialContexts } from '../dist/stores/partial-contexts.js';

describe('PartialContexts (challenges awaiting their response)', () => {
  it('gives back the issue time once per ticket, and nothing after the TTL', () => {
    let now = 1000;
    const p = new PartialContexts(10, 30_000, () => now);
    const a = p.issue(now);
    now += 10;
    const b = p.issue(now);
    expect(p.size).to.equal(2);
    expect(p.take(a)).to.equal(1000);
    expect(p.take(a)).to.equal(undefined);
    expect(p.size).to.equal(1);
    now = 1010 + 30_000;
    expect(p.take(b)).to.equal(undefined); // expired
    expect(p.size).to.equal(0);
    for (const bogus of [-1, 0.5, 99, Number.NaN, 2 ** 60]) expect(p.take(bogus)).to.equal(undefined);
  });

  it('lets the oldest give way past the bound, growing its ring on the way', () => {
    const p = new PartialContexts(1000, 30_000, () => 0);
    const tickets = Array.from({ length: 5000 }, () => p.issue(0));
    expect(p.size).to.equal(1000);
    expect(p.take(tickets[3999]!)).to.equal(undefined);
    expect(p.take(tickets[4000]!)).to.equal(0);
    expect(p.take(tickets[4999]!)).to.equal(0);
    expect(p.size).to.equal(998);
  });

  it('matches a plain model over random issues, takes and clock steps', () => {
    for (const [seed, max] of [
      [1, 1],
      [2, 5],
      [3, 64],
      [4, 65],
      [5, 1000],
    ] as const) {
      const random = rng(seed);
      let now = 0;
      const ttl = 200;
      const p = new PartialContexts(max, ttl, () => now);
      const model = new Map<number, number>(); // ticket -> issued at
      let next = 0;
      for (let i = 0; i < 30_000; i++) {
        if (random() < 0.55) {
          expect(p.issue(now)).to.equal(next);
          model.set(next, now);
          next++;
        } else {
          const ticket = Math.floor(next - 1 - random() * Math.min(next, 3 * max + 5));
          const at = model.get(ticket);
          const expected = at !== undefined && ticket >= next - max && at + ttl > now ? at : undefined;
          model.delete(ticket);
          expect(p.take(ticket), `take ${ticket} at op ${i}, seed ${seed}`).to.equal(expected);
        }
        if (random() < 0.2) now += Math.floor(random() * 20);
        if (i % 101 === 0) {
          const live = [...model].filter(([t, at]) => t >= next - max && at + ttl > now).length;
          expect(p.size, `size at op ${i}, seed ${seed}`).to.equal(live);
        }
      }
    }
  });
});
