// CSPRNG bytes through the Web Crypto API, which every supported runtime has
// (browsers, Deno, Node >= 19 as globalThis.crypto).

const MAX_CHUNK = 65536; // getRandomValues refuses more than 64 KiB per call

/**
 * Small requests (nonces, cnonces: 16-30 bytes) are served from a 4 KiB pool filled
 * by one getRandomValues call: each call costs about 2 µs in Node 20 whatever its
 * size, which was a tenth of a handshake. Served bytes are zeroed in the pool.
 */
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolUsed = POOL_SIZE;

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (n <= 256) {
    if (poolUsed + n > POOL_SIZE) {
      globalThis.crypto.getRandomValues(pool);
      poolUsed = 0;
    }
    out.set(pool.subarray(poolUsed, poolUsed + n));
    pool.fill(0, poolUsed, poolUsed + n);
    poolUsed += n;
    return out;
  }
  for (let o = 0; o < n; o += MAX_CHUNK) {
    globalThis.crypto.getRandomValues(out.subarray(o, Math.min(n, o + MAX_CHUNK)));
  }
  return out;
}
