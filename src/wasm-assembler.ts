// A minimal writer of WebAssembly binary modules (WebAssembly Core Specification 1.0, §5):
// functions over i32 and one memory, enough for the few hot loops written in WebAssembly.
//
// The programs are listed as opcodes in TypeScript, next to the code that calls them, rather
// than shipped as an opaque binary: a reader sees every instruction, and no assembler has to be
// installed to build the package.

/** The opcodes the programs (and the tests) use (§5.4). Memory accesses take an alignment and an offset: see `mem`. */
export const op = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br_if: 0x0d,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  i32_load: 0x28,
  i32_load8_u: 0x2d,
  i32_store: 0x36,
  i32_store8: 0x3a,
  i32_const: 0x41,
  i32_eqz: 0x45,
  i32_ne: 0x47,
  i32_lt_u: 0x49,
  i32_ge_u: 0x4f,
  i32_add: 0x6a,
  i32_and: 0x71,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_u: 0x76,
  /** The block type of a block or loop that leaves nothing on the stack. */
  void: 0x40,
} as const;

const I32 = 0x7f;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a u32: ${n}`);
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`not an i32: ${n}`);
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** `i32.const n`. */
export function i32(n: number): number[] {
  return [op.i32_const, ...sleb(n)];
}

/** A memory access with its memarg: alignment as a power of two (0: bytes, 2: words), and a constant offset added to the address. */
export function mem(opcode: number, alignLog2: number, offset = 0): number[] {
  return [opcode, alignLog2, ...uleb(offset)];
}

/** A function: its parameter count, extra locals (all i32), whether it returns an i32, and its body (without the final `end`). */
export interface WasmFunction {
  readonly name: string;
  readonly params: number;
  readonly locals: number;
  readonly returns: boolean;
  readonly body: readonly number[];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = Array.from(s, (c) => c.charCodeAt(0));
  return [...uleb(bytes.length), ...bytes];
}

/**
 * A module with one memory of `pages` 64 KiB pages, exported as "memory", and `functions`,
 * each exported under its name, with a type of its own.
 */
export function assemble(pages: number, functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(Array.from({ length: f.params }, () => [I32])), ...(f.returns ? [1, I32] : [0])]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, k) => uleb(k)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], ...functions.map((f, k) => [...name(f.name), 0x00, ...uleb(k)])])),
    ...section(
      10,
      vec(
        functions.map((f) => {
          const code = [...vec(f.locals > 0 ? [[...uleb(f.locals), I32]] : []), ...f.body, op.end];
          return [...uleb(code.length), ...code];
        }),
      ),
    ),
  ];
  return Uint8Array.from(bytes);
}
