// Reads CRLF (or LF) terminated lines from a Node stream one at a time, pulling bytes only
// when a line is asked for, with a bound on a line's length; detach() hands back the bytes
// read past the last line, for a protocol that switches to a security layer there.

import type { Readable } from 'node:stream';
import { DigestMD5Error } from '../errors.js';

export type LineResult =
  /** A line, its "\r\n" or "\n" removed, decoded as UTF-8 (bad sequences become U+FFFD). */
  | { kind: 'line'; text: string }
  /** A line longer than the bound; the channel skips the rest of it before the next line. */
  | { kind: 'too-long' }
  /** The end of input (or the stream closed). */
  | { kind: 'end' };

const LF = 0x0a;

export class LineChannel {
  /** Bytes read but not yet returned, never more than the line bound plus one read. */
  private pending: Buffer = Buffer.alloc(0);
  /** While discarding the rest of an over-long line. */
  private skipping = false;
  private ended = false;
  private failure: Error | undefined;
  private detached = false;
  private busy = false;
  private wake: (() => void) | undefined;
  private readonly onSignal = (): void => {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.onSignal();
  };
  private readonly onError = (e: Error): void => {
    this.failure ??= e;
    this.onSignal();
  };

  constructor(
    private readonly input: Readable,
    /** The longest line accepted, in bytes, without its terminator. */
    readonly maxLineBytes: number,
  ) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new DigestMD5Error('bad-option', 'maxLineBytes must be a positive integer');
    input.on('readable', this.onSignal);
    input.on('end', this.onEnd);
    input.on('close', this.onEnd);
    input.on('error', this.onError);
    if (input.readableEnded || input.destroyed) this.ended = true;
  }

  /** The next line. One call at a time. Rejects with the stream's error if it fails. */
  async next(): Promise<LineResult> {
    if (this.detached) throw new DigestMD5Error('bad-state', 'the line channel was detached');
    if (this.busy) throw new DigestMD5Error('bad-state', 'next() called while another next() is pending');
    this.busy = true;
    try {
      for (;;) {
        const found = this.scan();
        if (found) return found;
        if (this.failure) throw this.failure;
        const chunk: unknown = this.input.read();
        if (chunk !== null) {
          if (!(chunk instanceof Uint8Array)) throw new DigestMD5Error('bad-option', 'the stream delivered text, not bytes');
          this.pending = this.pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.pending, chunk]);
          continue;
        }
        if (this.ended) {
          if (this.failure) throw this.failure;
          // A last line without a terminator still counts.
          if (this.pending.length > 0 && !this.skipping) {
            const text = this.pending.toString('utf8');
            this.pending = Buffer.alloc(0);
            return { kind: 'line', text };
          }
          this.pending = Buffer.alloc(0);
          return { kind: 'end' };
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.busy = false;
    }
  }

  /** A complete line from `pending`, or a too-long marker; undefined when more bytes are needed. */
  private scan(): LineResult | undefined {
    for (;;) {
      const nl = this.pending.indexOf(LF);
      if (this.skipping) {
        if (nl < 0) {
          this.pending = Buffer.alloc(0);
          return undefined;
        }
        this.pending = this.pending.subarray(nl + 1);
        this.skipping = false;
        continue;
      }
      if (nl < 0) {
        if (this.pending.length > this.maxLineBytes + 1) {
          // +1: a line of exactly the bound may be waiting for the LF after its CR.
          this.skipping = true;
          this.pending = Buffer.alloc(0);
          return { kind: 'too-long' };
        }
        return undefined;
      }
      let end = nl;
      if (end > 0 && this.pending[end - 1] === 0x0d) end--;
      if (end > this.maxLineBytes) {
        this.pending = this.pending.subarray(nl + 1);
        return { kind: 'too-long' };
      }
      const text = this.pending.toString('utf8', 0, end);
      this.pending = this.pending.subarray(nl + 1);
      return { kind: 'line', text };
    }
  }

  /**
   * Stops reading: removes the channel's listeners and returns the bytes read past the last
   * line returned (a copy), which now belong to whoever reads the stream next.
   */
  detach(): Uint8Array {
    if (this.busy) throw new DigestMD5Error('bad-state', 'detach() called while next() is pending');
    this.detached = true;
    this.input.removeListener('readable', this.onSignal);
    this.input.removeListener('end', this.onEnd);
    this.input.removeListener('close', this.onEnd);
    this.input.removeListener('error', this.onError);
    const rest = new Uint8Array(this.skipping ? 0 : this.pending.length);
    if (!this.skipping) rest.set(this.pending);
    this.pending = Buffer.alloc(0);
    return rest;
  }
}
