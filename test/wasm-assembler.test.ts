// Tests of the WebAssembly module writer (src/wasm-assembler.ts): LEB128 against the
// specification's own examples, and a module it writes running in the engine.
import { expect } from 'chai';
import { assemble, i32, mem, op, sleb, uleb } from '../dist/wasm-assembler.js';

describe('wasm-assembler', () => {
  it('writes unsigned LEB128', () => {
    expect(uleb(0)).to.deep.equal([0]);
    expect(uleb(127)).to.deep.equal([0x7f]);
    expect(uleb(128)).to.deep.equal([0x80, 0x01]);
    expect(uleb(624485)).to.deep.equal([0xe5, 0x8e, 0x26]);
    expect(uleb(0xffffffff)).to.deep.equal([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => uleb(-1)).to.throw(RangeError);
    expect(() => uleb(2 ** 32)).to.throw(RangeError);
  });

  it('writes signed LEB128', () => {
    expect(sleb(0)).to.deep.equal([0]);
    expect(sleb(63)).to.deep.equal([0x3f]);
    expect(sleb(64)).to.deep.equal([0xc0, 0x00]);
    expect(sleb(-1)).to.deep.equal([0x7f]);
    expect(sleb(-64)).to.deep.equal([0x40]);
    expect(sleb(-65)).to.deep.equal([0xbf, 0x7f]);
    expect(sleb(-123456)).to.deep.equal([0xc0, 0xbb, 0x78]);
    expect(sleb(1020)).to.deep.equal([0xfc, 0x07]);
    expect(() => sleb(2 ** 31)).to.throw(RangeError);
  });

  it('writes a module the engine validates and runs', () => {
    // sum(n) = 0 + 1 + ... + (n - 1), and poke(a, v) storing v at a, read back through the memory.
    const bytes = assemble(1, [
      {
        name: 'sum',
        params: 1,
        locals: 2,
        returns: true,
        body: [
          op.block, op.void,
          op.local_get, 0, op.i32_eqz, op.br_if, 0,
          op.loop, op.void,
          op.local_get, 2, op.local_get, 1, op.i32_add, op.local_set, 2,
          op.local_get, 1, ...i32(1), op.i32_add, op.local_tee, 1,
          op.local_get, 0, op.i32_lt_u, op.br_if, 0,
          op.end,
          op.end,
          op.local_get, 2,
        ],
      },
      { name: 'poke', params: 2, locals: 0, returns: false, body: [op.local_get, 0, op.local_get, 1, ...mem(op.i32_store, 2, 4)] },
    ]);
    expect(WebAssembly.validate(bytes)).to.equal(true);
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const e = exports as { sum: (n: number) => number; poke: (a: number, v: number) => void; memory: WebAssembly.Memory };
    expect(e.sum(0)).to.equal(0);
    expect(e.sum(10)).to.equal(45);
    expect(e.sum(100000)).to.equal(((100000 * 99999) / 2) | 0);
    e.poke(8, -2);
    expect(new Int32Array(e.memory.buffer)[3]).to.equal(-2); // offset 4 added to address 8
    expect(e.memory.buffer.byteLength).to.equal(65536);
  });
});
