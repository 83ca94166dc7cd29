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

// Internal state that outlives a call (MD5 block buffers, RC4 state, DES round keys) comes
// from a second pool, private: its arrays are never handed to callers, so the output slab's
// caveats do not apply, and they may hold secrets (destroy() wipes them in place). A state
// array of its own over 64 bytes cost ~0.7 µs to allocate, four of them per layer pair; a
// small one viewed as words is moved out of V8's heap at the same cost.

const STATE_POOL_SIZE = 16 * 1024;
const STATE_POOLED_MAX = 1024;
let statePool = new ArrayBuffer(STATE_POOL_SIZE);
let stateUsed = 0;

/** Offset of `n` fresh zero bytes (8-byte aligned) in `statePool`, or -1 when n is too large to pool. */
function takeState(n: number): number {
  if (n > STATE_POOLED_MAX) return -1;
  if (stateUsed + n > STATE_POOL_SIZE) {
    statePool = new ArrayBuffer(STATE_POOL_SIZE);
    stateUsed = 0;
  }
  const at = stateUsed;
  stateUsed = (stateUsed + n + 7) & ~7;
  return at;
}

/** Zero-filled internal state of `n` bytes; never give it to a caller. */
export function stateBytes(n: number): Uint8Array {
  const at = takeState(n);
  return at < 0 ? new Uint8Array(n) : new Uint8Array(statePool, at, n);
}

/** Zero-filled internal state of `n` 32-bit words; never give it to a caller. */
export function stateWords(n: number): Int32Array {
  const at = takeState(4 * n);
  return at < 0 ? new Int32Array(n) : new Int32Array(statePool, at, n);
}

/** The same 64 bytes as bytes and as words (an MD5 block buffer). */
export function stateBlock(): { bytes: Uint8Array; words: Int32Array } {
  const at = takeState(64);
  return { bytes: new Uint8Array(statePool, at, 64), words: new Int32Array(statePool, at, 16) };
}
