// Two Duplex ends joined back to back, with real backpressure (Node 20 has no
// stream.duplexPair): what one end writes the other reads, and a write's callback
// waits while the other end's reader is full. Each write arrives as one chunk.
import { Duplex } from 'node:stream';

class End extends Duplex {
  other!: End;
  /** A write held until our reader asks for more. */
  private held: (() => void) | undefined;

  constructor(highWaterMark: number) {
    super({ highWaterMark, allowHalfOpen: true });
  }

  override _read(): void {
    const h = this.held;
    this.held = undefined;
    h?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.other.destroyed) return cb(new Error('the other end is destroyed'));
    if (this.other.push(chunk)) cb();
    else this.other.held = () => cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.other.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    const h = this.held;
    this.held = undefined;
    h?.();
    if (!this.other.destroyed) this.other.destroy();
    cb(err);
  }
}

/** Returns [a, b]: bytes written to a are read from b and the reverse. */
export function duplexPair(highWaterMark = 16 * 1024): [Duplex, Duplex] {
  const a = new End(highWaterMark);
  const b = new End(highWaterMark);
  a.other = b;
  b.other = a;
  return [a, b];
}
