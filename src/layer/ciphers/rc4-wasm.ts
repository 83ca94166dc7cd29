// RC4's keystream loop in WebAssembly, for long inputs: the same algorithm as rc4.ts, whose
// state (the 256-byte permutation and i, j) it takes and gives back on every call.
//
// Why: Node 20 runs the TypeScript loop at 420-575 MB/s from one process to the next (the
// code V8 generates for it varies), this loop at 560-585 MB/s every time, and at 64 KiB RC4 is
// most of a wrap+unwrap of the rc4 layers. The loop keeps the permutation as 32-bit words
// holding 4 x each byte: a value is then its own word's byte address, with no shift to turn
// an index into an address (the byte-table version of this loop ran at 455 MB/s).
//
// Memory (one module instance for the process; a call runs start to finish, never yields).
// Nothing of a stream stays in it between calls: the permutation, i, j and the bytes are wiped
// before rc4WasmProcess() returns (the bytes' wipe measured within noise at 64 KiB).
//   [0, 1024)      the permutation as words, 4 x S[n] at address 4n
//   [1024, 1280)   the permutation as bytes, in and out
//   1280, 1284     i and j, out
//   [4096, 4096 + CHUNK)  the bytes to encrypt or decrypt, in place

import { assemble, i32, mem, op, type WasmFunction } from '../../wasm-assembler.js';

const STATE = 1024;
const I_AT = 1280;
const J_AT = 1284;
const DATA = 4096;
/** The longest input one call takes; process() cuts longer ones. */
export const CHUNK = 65536;
const PAGES = 2; // 128 KiB: DATA + CHUNK fits

// Locals of crypt(len, i, j): parameters first.
const LEN = 0, I = 1, J = 2, SI = 3, SJ = 4, P = 5, END = 6, N = 7;
const get = (x: number) => [op.local_get, x];
const set = (x: number) => [op.local_set, x];

/** for N in 0..255 step 1: `body` (N is the byte index; N << 2 the word's address). */
function overPermutation(body: number[]): number[] {
  return [
    ...i32(0), ...set(N),
    op.loop, op.void,
    ...body,
    ...get(N), ...i32(1), op.i32_add, op.local_tee, N, ...i32(256), op.i32_ne, op.br_if, 0,
    op.end,
  ];
}

/**
 * crypt(len, i, j): XORs DATA[0, len) with the keystream of the permutation at STATE and
 * the indices i, j; writes the permutation back to STATE and i, j to I_AT, J_AT.
 */
const crypt: WasmFunction = {
  name: 'crypt',
  params: 3,
  locals: 5,
  returns: false,
  body: [
    // word n = 4 * STATE[n]
    ...overPermutation([
      ...get(N), ...i32(2), op.i32_shl,
      ...get(N), ...mem(op.i32_load8_u, 0, STATE),
      ...i32(2), op.i32_shl,
      ...mem(op.i32_store, 2),
    ]),
    // i and j as word addresses too
    ...get(I), ...i32(2), op.i32_shl, ...set(I),
    ...get(J), ...i32(2), op.i32_shl, ...set(J),
    ...i32(DATA), ...set(P),
    ...i32(DATA), ...get(LEN), op.i32_add, ...set(END),
    op.block, op.void,
    ...get(P), ...get(END), op.i32_ge_u, op.br_if, 0,
    op.loop, op.void,
    // i = (i + 1) mod 256; si = S[i]; j = (j + si) mod 256; sj = S[j]; swap
    ...get(I), ...i32(4), op.i32_add, ...i32(1020), op.i32_and, op.local_tee, I,
    ...mem(op.i32_load, 2), op.local_tee, SI,
    ...get(J), op.i32_add, ...i32(1020), op.i32_and, op.local_tee, J,
    ...mem(op.i32_load, 2), ...set(SJ),
    ...get(I), ...get(SJ), ...mem(op.i32_store, 2),
    ...get(J), ...get(SI), ...mem(op.i32_store, 2),
    // DATA[p] ^= S[(si + sj) mod 256]
    ...get(P),
    ...get(P), ...mem(op.i32_load8_u, 0),
    ...get(SI), ...get(SJ), op.i32_add, ...i32(1020), op.i32_and, ...mem(op.i32_load, 2), ...i32(2), op.i32_shr_u,
    op.i32_xor,
    ...mem(op.i32_store8, 0),
    ...get(P), ...i32(1), op.i32_add, op.local_tee, P,
    ...get(END), op.i32_lt_u, op.br_if, 0,
    op.end,
    op.end,
    // STATE[n] = word n / 4; word n = 0
    ...overPermutation([
      ...get(N),
      ...get(N), ...i32(2), op.i32_shl, ...mem(op.i32_load, 2), ...i32(2), op.i32_shr_u,
      ...mem(op.i32_store8, 0, STATE),
      ...get(N), ...i32(2), op.i32_shl, ...i32(0), ...mem(op.i32_store, 2),
    ]),
    ...i32(I_AT), ...get(I), ...i32(2), op.i32_shr_u, ...mem(op.i32_store, 2),
    ...i32(J_AT), ...get(J), ...i32(2), op.i32_shr_u, ...mem(op.i32_store, 2),
  ],
};

interface Rc4Module {
  readonly crypt: (len: number, i: number, j: number) => void;
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
}

let instance: Rc4Module | undefined | null;

/** The module, instantiated at first use; null where WebAssembly is missing or refused (e.g. a CSP without wasm-unsafe-eval). */
export function rc4Wasm(): Rc4Module | null {
  if (instance !== undefined) return instance;
  try {
    const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    if (!wasm) return (instance = null);
    const exports = new wasm.Instance(new wasm.Module(assemble(PAGES, [crypt]))).exports as {
      crypt: Rc4Module['crypt'];
      memory: WebAssembly.Memory;
    };
    instance = { crypt: exports.crypt, bytes: new Uint8Array(exports.memory.buffer), words: new Int32Array(exports.memory.buffer) };
  } catch {
    instance = null;
  }
  return instance;
}

/**
 * XORs `input` with the keystream of the permutation `s` and indices i, j into `output`
 * (as long as `input`, or `input` itself), CHUNK bytes a call; updates `s` in place and
 * returns the new i | j << 8.
 */
export function rc4WasmProcess(m: Rc4Module, s: Uint8Array, i: number, j: number, input: Uint8Array, output: Uint8Array): number {
  const bytes = m.bytes;
  const n = input.length;
  for (let from = 0; from < n; from += CHUNK) {
    const len = Math.min(CHUNK, n - from);
    bytes.set(s, STATE);
    bytes.set(from === 0 && len === n ? input : input.subarray(from, from + len), DATA);
    m.crypt(len, i, j);
    output.set(bytes.subarray(DATA, DATA + len), from);
    bytes.fill(0, DATA, DATA + len);
    s.set(bytes.subarray(STATE, STATE + 256));
    i = m.words[I_AT >> 2]!;
    j = m.words[J_AT >> 2]!;
  }
  bytes.fill(0, STATE, J_AT + 4);
  return i | (j << 8);
}
