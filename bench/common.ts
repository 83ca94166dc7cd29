// Shared by the benchmark's parent (bench.ts) and its per-backend child (measure.ts):
// the result shapes passed between them and the timing harness.

/** Median, min and max of the timed runs (the runs themselves kept for the record). */
export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

/** One measured row of one backend. */
export interface Measured {
  name: string;
  unit: string;
  ours: Stat;
  /** The primitives-only reference of this row, measured in the same run (see BENCHMARKS.md). */
  limit?: Stat;
  /** Anything else worth printing beside the row (e.g. RSS for memory rows). */
  note?: string;
}

/** What a child process reports for its backend. */
export interface BackendResult {
  backend: 'node' | 'portable';
  node: string;
  v8: string;
  openssl: string;
  rows: Measured[];
  /** Raw primitive throughputs, for the record (MB/s of the plaintext bytes). */
  primitives: Measured[];
  notes: string[];
  seconds: number;
}

/** Durations of the warm-up and of each timed run, in seconds, and how many runs. */
export interface Timing {
  warmup: number;
  run: number;
  runs: number;
}

export function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: xs };
}

/** Something that can be timed: runs for about `seconds` and returns operations per second. */
export interface Timed {
  timed(seconds: number): Promise<number>;
}

/** Target length of one batch between two clock reads, so reading the clock costs nothing measurable. */
const BATCH_SECONDS = 0.0002;

function nextBatch(rate: number): number {
  return Math.max(1, Math.min(1024, Math.round(rate * BATCH_SECONDS)));
}

/** A synchronous operation, run in batches; the batch size adapts after each call (the warm-up sets it). */
export function syncTimed(op: () => void): Timed {
  let batch = 1;
  return {
    async timed(seconds: number): Promise<number> {
      const start = performance.now();
      const until = start + seconds * 1000;
      let n = 0;
      let t: number;
      do {
        for (let i = 0; i < batch; i++) op();
        n += batch;
        t = performance.now();
      } while (t < until);
      const rate = n / ((t - start) / 1000);
      batch = nextBatch(rate);
      return rate;
    },
  };
}

/** An asynchronous operation (awaited one after the other), run in batches like syncTimed. */
export function asyncTimed(op: () => Promise<void>): Timed {
  let batch = 1;
  return {
    async timed(seconds: number): Promise<number> {
      const start = performance.now();
      const until = start + seconds * 1000;
      let n = 0;
      let t: number;
      do {
        for (let i = 0; i < batch; i++) await op();
        n += batch;
        t = performance.now();
      } while (t < until);
      const rate = n / ((t - start) / 1000);
      batch = nextBatch(rate);
      return rate;
    },
  };
}

/**
 * Warm-up of each item, then `runs` timed runs of each, interleaved (run 1 of every item,
 * then run 2, ...), so that a slow phase of a shared machine hits all items alike.
 * Returns one Stat (operations per second) per item.
 */
export async function measure(items: { t: Timed; timing: Timing }[], runs: number): Promise<Stat[]> {
  for (const { t, timing } of items) await t.timed(timing.warmup);
  const rates: number[][] = items.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < items.length; k++) rates[k]!.push(await items[k]!.t.timed(items[k]!.timing.run));
  }
  return rates.map(stat);
}
