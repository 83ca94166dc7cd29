// Tests of outputBytes(): the slab allocator for messages and tokens (src/alloc.ts).
import { expect } from 'chai';
import { outputBytes, stateBlock, stateBytes, stateWords } from '../dist/alloc.js';

describe('outputBytes', () => {
  it('gives zero-filled arrays of the asked length, small, pooled and large', () => {
    for (const n of [0, 1, 64, 65, 200, 1040, 2048, 2049, 70000]) {
      const a = outputBytes(n);
      expect(a.length, `length ${n}`).to.equal(n);
      expect(a.every((b) => b === 0), `zeros ${n}`).to.equal(true);
    }
  });

  it('never hands out overlapping memory, and pooled views start on 8-byte boundaries', () => {
    const views: Uint8Array[] = [];
    // Enough to fill several slabs.
    for (let i = 0; i < 200; i++) {
      const a = outputBytes(65 + ((i * 37) % 1900));
      expect(a.byteOffset % 8).to.equal(0);
      a.fill(i + 1);
      views.push(a);
    }
    views.forEach((a, i) => expect(a.every((b) => b === ((i + 1) & 0xff)), `view ${i} intact`).to.equal(true));
    const shared = views.filter((a) => a.buffer === views[0]!.buffer);
    expect(shared.length, 'small arrays share a slab').to.be.greaterThan(1);
  });

  it('keeps arrays of up to 64 bytes and above 2048 in memory of their own', () => {
    for (const n of [16, 64, 2049]) {
      const a = outputBytes(n);
      expect(a.byteOffset).to.equal(0);
      expect(a.buffer.byteLength).to.equal(n);
    }
  });

  it('recovers when a caller transfers (detaches) the slab', () => {
    const a = outputBytes(100);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    expect(a.buffer.byteLength).to.equal(0);
    const b = outputBytes(100);
    expect(b.length).to.equal(100);
    b.fill(7);
    expect(b[99]).to.equal(7);
  });
});

describe('state pool (stateBytes, stateWords, stateBlock)', () => {
  it('gives zero-filled, non-overlapping arrays, the large ones of their own', () => {
    const arrays: (Uint8Array | Int32Array)[] = [];
    for (let i = 0; i < 300; i++) {
      const a = i % 3 === 0 ? stateBytes(1 + ((i * 53) % 1024)) : i % 3 === 1 ? stateWords(1 + (i % 96)) : stateBlock().words;
      expect(a.every((x) => x === 0), `array ${i} zeroed`).to.equal(true);
      expect(a.byteOffset % 8).to.equal(0);
      a.fill((i % 250) + 1);
      arrays.push(a);
    }
    arrays.forEach((a, i) => expect(a.every((x) => x === (i % 250) + 1), `array ${i} intact`).to.equal(true));
    expect(stateBytes(4096).buffer.byteLength).to.equal(4096);
  });

  it('a block is the same memory as bytes and as words', () => {
    const b = stateBlock();
    b.words[0] = -1;
    expect(Array.from(b.bytes.subarray(0, 4))).to.deep.equal([255, 255, 255, 255]);
    expect(b.bytes.length).to.equal(64);
    expect(b.words.length).to.equal(16);
  });
});
