// Shared test helpers: text/bytes conversion and asserting typed errors.
import { expect } from 'chai';
import { DigestMD5Error } from '../../dist/index.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Asserts that `caught` is a DigestMD5Error with `code` (and a message matching `re`, when given). */
function checkCaught(caught: unknown, code: string, re?: RegExp): DigestMD5Error {
  expect(caught, 'expected a DigestMD5Error').to.be.instanceOf(DigestMD5Error);
  const err = caught as DigestMD5Error;
  expect(err.code, err.message).to.equal(code);
  if (re) expect(err.message).to.match(re);
  return err;
}

/** Asserts that `f` throws a DigestMD5Error with `code` (and a message matching `re`, when given). */
export function expectCode(f: () => unknown, code: string, re?: RegExp): DigestMD5Error {
  try {
    f();
  } catch (e) {
    return checkCaught(e, code, re);
  }
  return checkCaught(undefined, code, re);
}

/** The same for a function whose promise should reject. */
export async function expectCodeAsync(f: () => Promise<unknown>, code: string, re?: RegExp): Promise<DigestMD5Error> {
  try {
    await f();
  } catch (e) {
    return checkCaught(e, code, re);
  }
  return checkCaught(undefined, code, re);
}

/** The crypto backend this mocha run is expected to use (set by `--node-option conditions=portable`). */
export function expectedBackend(): 'node' | 'portable' {
  return process.execArgv.some((a) => a.includes('conditions=portable')) ? 'portable' : 'node';
}

/** A deterministic generator of numbers in [0, 1), so that a randomised test replays on failure. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One run of random operations on a bounded table and its model (see randomTableRuns). */
export interface TableRun {
  /** Does operation `i` on `key` (both sides), drawing what else it needs from `random`. */
  op(i: number, key: string, random: () => number): void;
  /** The sizes of the table and of the model, which must agree. */
  sizes(): [number, number];
}

/**
 * Drives a table and its model through `ops` random operations for each bound: one entry,
 * a few, and enough to grow through several capacities, each with more keys than room. The
 * clock (`now`) moves on as the operations go; the sizes are compared along the way.
 */
export function randomTableRuns(ops: number, make: (max: number, now: () => number) => TableRun): void {
  for (const [seed, max, keys] of [
    [1, 1, 3],
    [2, 7, 20],
    [3, 300, 500],
    [4, 3000, 2500],
  ] as const) {
    const random = rng(seed);
    let now = 0;
    const run = make(max, () => now);
    for (let i = 0; i < ops; i++) {
      run.op(i, `nonce-${Math.floor(random() * keys)}`, random);
      if (random() < 0.3) now++;
      if (i % 997 === 0) expect(run.sizes()[0], `size at op ${i} of seed ${seed}`).to.equal(run.sizes()[1]);
    }
    expect(run.sizes()[0], `final size, seed ${seed}`).to.equal(run.sizes()[1]);
  }
}
