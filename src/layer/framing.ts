// The RFC 4422 §3.7 buffer framing of security-layer tokens: a 4-byte big-endian
// length, then that many bytes. Every declared length is checked against our
// maxbuf before anything is allocated for it.

import { outputBytes } from '../alloc.js';
import { readUint32BE, writeUint32BE } from '../bytes.js';
import { DigestMD5Error } from '../errors.js';
import type { SecurityLayer } from './security-layer.js';

const LENGTH_BYTES = 4;

/** Prefixes a token with its 4-byte big-endian length. */
export function frame(token: Uint8Array): Uint8Array {
  const out = outputBytes(LENGTH_BYTES + token.length);
  writeUint32BE(out, 0, token.length);
  out.set(token, LENGTH_BYTES);
  return out;
}

/**
 * Wraps `plain` as one or more framed tokens, split at the largest plaintext the
 * peer's maxbuf allows (as Cyrus's sasl_encode does). An empty message gives no buffers.
 */
export function wrapFramed(layer: SecurityLayer, plain: Uint8Array): Uint8Array {
  const step = layer.maxPlaintext;
  if (step <= 0) throw new DigestMD5Error('too-large', `the peer's maxbuf ${layer.peerMaxbuf} leaves no room for data`);
  const tokens: Uint8Array[] = [];
  for (let at = 0; at < plain.length; at += step) tokens.push(layer.wrap(plain.subarray(at, Math.min(plain.length, at + step))));
  let total = 0;
  for (const t of tokens) total += LENGTH_BYTES + t.length;
  const out = outputBytes(total);
  let o = 0;
  for (const t of tokens) {
    writeUint32BE(out, o, t.length);
    out.set(t, o + LENGTH_BYTES);
    o += LENGTH_BYTES + t.length;
  }
  return out;
}

function checkDeclared(length: number, maxbuf: number, index: number): void {
  if (length === 0) throw new DigestMD5Error('integrity', `buffer ${index}: declared length 0`);
  if (length > maxbuf) throw new DigestMD5Error('too-large', `buffer ${index}: declared length ${length} exceeds our maxbuf ${maxbuf}`);
}

/**
 * Splits a complete run of framed buffers into tokens (views into `bytes`). Every
 * length field is checked first, so a bad one is refused before any token is used.
 */
export function splitFrames(bytes: Uint8Array, maxbuf: number): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const index = tokens.length + 1;
    if (bytes.length - at < LENGTH_BYTES) throw new DigestMD5Error('integrity', `buffer ${index}: truncated length field`);
    const length = readUint32BE(bytes, at);
    checkDeclared(length, maxbuf, index);
    if (bytes.length - at - LENGTH_BYTES < length) {
      throw new DigestMD5Error('integrity', `buffer ${index}: declared ${length} bytes, only ${bytes.length - at - LENGTH_BYTES} present`);
    }
    tokens.push(bytes.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + length));
    at += LENGTH_BYTES + length;
  }
  return tokens;
}

/**
 * Reassembles framed tokens from bytes that arrive in any split (a stream). Holds
 * at most one incomplete buffer, never more than maxbuf + 4 bytes.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private expected = -1; // token length once the length field is read
  private count = 0;

  constructor(private readonly maxbuf: number) {}

  /** Bytes received but not yet returned as a token. */
  get pending(): number {
    return this.buffered;
  }

  /** Feeds bytes; returns the tokens they complete, in order. Throws on a bad length field. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < LENGTH_BYTES) break;
        const len = readUint32BE(this.consume(LENGTH_BYTES), 0);
        checkDeclared(len, this.maxbuf, this.count + 1);
        this.expected = len;
      }
      if (this.buffered < this.expected) break;
      out.push(this.consume(this.expected));
      this.expected = -1;
      this.count++;
    }
    return out;
  }

  /** Takes exactly n buffered bytes, without copying when they sit in one chunk. */
  private consume(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length, n - o);
      out.set(c.subarray(0, take), o);
      o += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    return out;
  }
}
