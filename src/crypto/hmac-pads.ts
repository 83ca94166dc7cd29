// RFC 2104's key pads, shared by our HMAC-MD5 and HMAC-SHA-256: each keyed state keeps
// the hash state after its inner and outer pad blocks, so a message costs no pad block.

/** A 64-byte-block hash that can report its state on a block boundary. */
export interface BlockHash {
  start(): this;
  update(data: Uint8Array): this;
  saveState(): Int32Array;
}

/** The states after key ⊕ ipad and key ⊕ opad; `key` is at most 64 bytes (longer keys are hashed first). */
export function hmacPadStates(h: BlockHash, key: Uint8Array): { inner: Int32Array; outer: Int32Array } {
  const pad = new Uint8Array(64);
  pad.set(key);
  for (let i = 0; i < 64; i++) pad[i]! ^= 0x36;
  const inner = h.start().update(pad).saveState();
  for (let i = 0; i < 64; i++) pad[i]! ^= 0x36 ^ 0x5c;
  const outer = h.start().update(pad).saveState();
  pad.fill(0);
  return { inner, outer };
}
