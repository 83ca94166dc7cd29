// Allocation of the byte arrays this library hands back: handshake messages and
// security-layer tokens, the bytes that go on the wire.
//
// V8 keeps a typed array of up to 64 bytes inside its heap, where allocating it is a
// pointer bump (~25 ns measured in Node 20), but gives a larger one a backing store of
// its own from the system allocator: ~0.7 µs at 65 bytes, ~1 µs at 1 KiB, and more once
// the collector has those stores to sweep. Measured inside wrap(), the new token of a
// 1 KiB message took a third of wrap+unwrap. So arrays of 65..2048 bytes are carved from a
// shared 32 KiB slab instead (~50 ns), as Node carves its small unsafe allocations from a pool.
//
// What that means for callers, stated in the README: such an array is a view with its own
// byteOffset, and its `.buffer` also holds other messages this process produced. It is
// always zero-filled (a slab is never reused: a full one is dropped and a new one made),
// and a view keeps its whole slab alive. Never allocate secrets here: keys, pads and
// decrypted plaintext get arrays of their own.

/** Arrays up to this size live in V8's heap already: cheapest as they are. */
const IN_HEAP_MAX = 64;
/** Arrays above this size pay little for an allocation of their own, relative to their use. */
const POOLED_MAX = 2048;
const SLAB_SIZE = 32 * 1024;

let slab = new Uint8Array(SLAB_SIZE);
let used = 0;

/**
 * A zero-filled array of `n` bytes for data that leaves the library (a message or a
 * token), from the shared slab when 64 < n <= 2048. Views start on 8-byte boundaries,
 * so MD5 can read them as 32-bit words.
 */
export function outputBytes(n: number): Uint8Array {
  if (n <= IN_HEAP_MAX || n > POOLED_MAX) return new Uint8Array(n);
  // byteLength 0: a caller transferred a view's buffer (postMessage) and detached the slab.
  if (used + n > SLAB_SIZE || slab.byteLength === 0) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  used = (used + n + 7) & ~7;
  return out;
}
