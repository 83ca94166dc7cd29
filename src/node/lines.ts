// Reads "\n"-terminated lines from a Node stream, one at a time, with a bound on
// a line's length so that no input can grow memory without limit.

import type { Readable } from 'node:stream';

export type Line = { kind: 'line'; text: string } | { kind: 'too-long'; length: number } | { kind: 'end' };

export class LineReader {
  private buffered: Buffer[] = [];
  private bufferedLength = 0;
  private skipping = 0; // > 0 while discarding an over-long line; counts its bytes
  private readonly lines: Line[] = [];
  private waiter: ((l: Line) => void) | undefined;
  private ended = false;

  constructor(
    input: Readable,
    private readonly maxLineBytes: number,
  ) {
    input.on('data', (chunk: Buffer) => this.onData(chunk));
    input.on('end', () => this.onEnd());
    input.on('error', () => this.onEnd());
  }

  /** The next line (a trailing "\r" removed), a too-long marker, or the end of input. */
  next(): Promise<Line> {
    const l = this.lines.shift();
    if (l) return Promise.resolve(l);
    if (this.ended) return Promise.resolve({ kind: 'end' });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  private emit(l: Line): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(l);
    } else this.lines.push(l);
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.skipping > 0 || this.bufferedLength + piece.length > this.maxLineBytes) {
        this.skipping += this.bufferedLength + piece.length;
        this.buffered = [];
        this.bufferedLength = 0;
      } else {
        this.buffered.push(piece);
        this.bufferedLength += piece.length;
      }
      if (nl < 0) break;
      if (this.skipping > 0) {
        this.emit({ kind: 'too-long', length: this.skipping });
        this.skipping = 0;
      } else {
        let text = Buffer.concat(this.buffered).toString('utf8');
        if (text.endsWith('\r')) text = text.slice(0, -1);
        this.emit({ kind: 'line', text });
      }
      this.buffered = [];
      this.bufferedLength = 0;
      start = nl + 1;
    }
  }

  private onEnd(): void {
    if (this.ended) return;
    if (this.bufferedLength > 0) {
      let text = Buffer.concat(this.buffered).toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      this.lines.push({ kind: 'line', text });
      this.buffered = [];
      this.bufferedLength = 0;
    }
    this.ended = true;
    if (this.lines.length === 0 && this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ kind: 'end' });
    } else if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(this.lines.shift()!);
    }
  }
}
