// Shared helpers of the cipher tests (ciphers.test.ts, aes.test.ts): hex conversion, a seeded
// generator for repeatable "random" cases, and feeding a cipher its input in pieces.

export function hex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A seeded generator (mulberry32), so that every "random" case is the same on every run. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number): number => Math.floor(next() * n),
    bytes: (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
  };
}
export type Prng = ReturnType<typeof prng>;

/** Cuts `length` into random pieces (zero-length ones included), each a multiple of `unit`. */
export function splits(rand: Prng, length: number, unit: number): number[] {
  const cuts: number[] = [];
  let at = 0;
  while (at < length) {
    const n = Math.min(length - at, unit * rand.int(Math.max(1, (length - at) / unit) + 1));
    cuts.push(n);
    at += n;
  }
  return cuts;
}

/** Feeds `data` through `process` in the given pieces, into one output array. */
export function inPieces(c: { process(i: Uint8Array, o?: Uint8Array): Uint8Array }, data: Uint8Array, pieces: number[]) {
  const out = new Uint8Array(data.length);
  let at = 0;
  for (const n of pieces) {
    c.process(data.subarray(at, at + n), out.subarray(at, at + n));
    at += n;
  }
  return out;
}
