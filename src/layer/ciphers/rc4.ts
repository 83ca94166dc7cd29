// RC4 (ARCFOUR), the keystream cipher of RFC 2831 §2.4's "rc4", "rc4-56" and "rc4-40" layers,
// checked against the RFC 6229 vectors. Ours, since Node 20's OpenSSL 3 no longer offers rc4:
// TypeScript, with long inputs handed to a WebAssembly loop (rc4-wasm.ts) where there is one.
import { stateBytes } from '../../alloc.js';
import { DigestMD5Error } from '../../errors.js';
import { isBytes, outputFor } from './checks.js';
import { rc4Wasm, rc4WasmProcess } from './rc4-wasm.js';

/**
 * Inputs from this length on go through the WebAssembly loop (rc4-wasm.ts), when there is
 * WebAssembly: below it, copying the state and the bytes in and out costs more than it saves.
 */
export const WASM_FROM = 512;

/**
 * An RC4 keystream. The stream carries on from one `process()` call to the next, so a
 * message cut into pieces encrypts exactly as it would in one call; encryption and
 * decryption are the same operation.
 */
export class RC4 {
  private readonly s = stateBytes(256); // private pool (alloc.ts): no allocation of its own
  private i = 0;
  private j = 0;
  private destroyed = false;

  /**
   * `key`: 1 to 256 bytes (RFC 2831 uses 16, 7 or 5). The key is not kept or modified.
   * `useWasm` false keeps every input in the TypeScript loop (tests compare the two).
   */
  constructor(
    key: Uint8Array,
    private readonly useWasm = true,
  ) {
    if (!isBytes(key)) throw new DigestMD5Error('bad-option', 'RC4 key must be a Uint8Array');
    if (key.length < 1 || key.length > 256) {
      throw new DigestMD5Error('bad-option', `RC4 key must be 1 to 256 bytes, got ${key.length}`);
    }
    const s = this.s;
    for (let n = 0; n < 256; n++) s[n] = n;
    const len = key.length;
    let j = 0;
    for (let n = 0; n < 256; n++) {
      const t = s[n]!;
      j = (j + t + key[n % len]!) & 0xff;
      s[n] = s[j]!;
      s[j] = t;
    }
  }

  /**
   * XORs `input` with the next `input.length` keystream bytes into `output` (a new array
   * when omitted; `input` itself to work in place) and returns the bytes written.
   */
  process(input: Uint8Array, output?: Uint8Array): Uint8Array {
    if (this.destroyed) throw new DigestMD5Error('bad-state', 'RC4 used after destroy()');
    const out = outputFor('RC4', input, output, 1);
    const n = input.length;
    if (n >= WASM_FROM && this.useWasm) {
      const m = rc4Wasm();
      if (m) {
        const ij = rc4WasmProcess(m, this.s, this.i, this.j, input, out);
        this.i = ij & 0xff;
        this.j = ij >>> 8;
        return out;
      }
    }
    // State in locals for the loop: this.i and this.j per byte measured ~15% slower in Node 20.
    const s = this.s;
    let i = this.i;
    let j = this.j;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      out[k] = input[k]! ^ s[(si + sj) & 0xff]!;
    }
    this.i = i;
    this.j = j;
    return out;
  }

  /** Wipes the state; any later call throws a `bad-state` error. */
  destroy(): void {
    this.s.fill(0);
    this.i = 0;
    this.j = 0;
    this.destroyed = true;
  }
}
