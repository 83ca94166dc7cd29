// Tests of outputBytes(): the slab allocator for messages and tokens (src/alloc.ts).
import { expect } from 'chai';
import { outputBytes } from '../dist/alloc.js';

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
