// RFC 2104's key pads for our HMAC-SHA-256 (HMAC-MD5 writes its pad blocks as words, see
// md5.ts): each keyed state keeps the hash state after its inner and outer pad blocks, so a
// message costs no pad block.

/** A 64-byte-block hash that can report its state on a block boundary. */
export interface BlockHash {
  start(): this;
  update(data: Uint8Array): this;
  saveState(out: Int32Array): Int32Array;
}

/** The pad block being absorbed, wiped after each use (a new array per key was a third of keying). */
const pad = new Uint8Array(64);

/**
 * Writes into `inner` and `outer` the states after key ⊕ ipad and key ⊕ opad; `key` is
 * at most 64 bytes (longer keys are hashed first).
 */
export function hmacPadStates(h: BlockHash, key: Uint8Array, inner: Int32Array, outer: Int32Array): void {
  pad.set(key);
  for (let i = 0; i < 64; i++) pad[i]! ^= 0x36;
  h.start().update(pad).saveState(inner);
  for (let i = 0; i < 64; i++) pad[i]! ^= 0x36 ^ 0x5c;
  h.start().update(pad).saveState(outer);
  pad.fill(0);
}
