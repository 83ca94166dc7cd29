// CSPRNG bytes through the Web Crypto API, which every supported runtime has
// (browsers, Deno, Node >= 19 as globalThis.crypto).

const MAX_CHUNK = 65536; // getRandomValues refuses more than 64 KiB per call

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += MAX_CHUNK) {
    globalThis.crypto.getRandomValues(out.subarray(o, Math.min(n, o + MAX_CHUNK)));
  }
  return out;
}
