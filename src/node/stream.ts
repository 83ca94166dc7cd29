// The security layer on a Node stream (RFC 2831 §2.3-2.4 tokens in RFC 4422 §3.7 buffers):
// a Duplex of plaintext over any Duplex of wire bytes (TCP, TLS, a test pair).
//
// Two halves, one job each, as in ws: the sender splits writes at the peer's maxPlaintext,
// wraps and frames them, and holds the write callback while the socket is full; the receiver
// pulls wire bytes only while its reader wants plaintext, reassembles buffers from any split
// (FrameDecoder checks each declared length against our maxbuf before allocating) and pushes
// only what unwrap() has verified.

import { Duplex } from 'node:stream';
import { DigestMD5Error } from '../errors.js';
import { FrameDecoder, frame } from '../layer/framing.js';
import { SecurityLayer } from '../layer/security-layer.js';

export interface SecureStreamOptions {
  /**
   * Bytes already read from the socket past the point where the layer starts (for example
   * past the CRLF of a protocol's success line); they are decoded before anything else.
   */
  head?: Uint8Array;
  /**
   * Whether the writable side stays open after the readable side ends. Default: the
   * socket's own `allowHalfOpen` (a `net.Socket` has one), else true.
   */
  allowHalfOpen?: boolean;
  /** Plaintext bytes buffered on the readable side before the socket is left unread. Default 64 KiB. */
  readableHighWaterMark?: number;
  /** Plaintext bytes buffered on the writable side before write() returns false. Default 64 KiB. */
  writableHighWaterMark?: number;
}

/** Byte and buffer counts, for tests and transcripts. */
export interface SecureStreamStats {
  /** Plaintext written to this stream and sent. */
  plainOut: number;
  /** Bytes put on the socket: 4-byte lengths and tokens. */
  wireOut: number;
  framesOut: number;
  /** Plaintext verified and pushed to the reader. */
  plainIn: number;
  /** Bytes taken from the socket (and `head`). */
  wireIn: number;
  framesIn: number;
}

/**
 * Wire bytes fed to the decoder at a time. Bounds the plaintext one pull can push past the
 * reader's high-water mark to this much plus one token (a slice of n bytes holds at most n
 * bytes of plaintext).
 */
const FEED_SLICE = 64 * 1024;
const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

function typed(e: unknown): Error {
  if (e instanceof Error) return e;
  return new DigestMD5Error('integrity', `security layer failure: ${String(e)}`);
}

export class SecureStream extends Duplex {
  /** The stream of wire bytes underneath. */
  readonly socket: Duplex;
  /** The security layer; this stream owns it and destroys it when destroyed. */
  readonly layer: SecurityLayer;
  private readonly decoder: FrameDecoder;
  /** Wire bytes taken from the socket but not yet fed to the decoder. */
  private current: Uint8Array | undefined;
  /** True between _read() and a push() that returned false. */
  private wanting = false;
  private socketEnded = false;
  private eofPushed = false;
  /** While the socket is full: the write loop to resume on 'drain', and its callback. */
  private held: { resume: () => void; callback: (error?: Error | null) => void } | undefined;
  private readonly counts: SecureStreamStats = { plainOut: 0, wireOut: 0, framesOut: 0, plainIn: 0, wireIn: 0, framesIn: 0 };
  private readonly onReadable = (): void => this.pull();
  private readonly onEnd = (): void => {
    this.socketEnded = true;
    this.pull();
  };
  private readonly onError = (err: Error): void => {
    this.destroy(err);
  };
  private readonly onClose = (): void => this.socketClosed();

  constructor(socket: Duplex, layer: SecurityLayer, options: SecureStreamOptions = {}) {
    if (!(socket instanceof Duplex)) throw new DigestMD5Error('bad-option', 'secureStream() needs a Duplex stream (a socket)');
    if (!(layer instanceof SecurityLayer)) throw new DigestMD5Error('bad-option', 'secureStream() needs the SecurityLayer of a completed exchange');
    if (layer.failed) throw new DigestMD5Error('bad-state', 'the security layer has already failed');
    if (layer.maxPlaintext <= 0) throw new DigestMD5Error('too-large', `the peer's maxbuf ${layer.peerMaxbuf} leaves no room for data`);
    if (socket.readableObjectMode || socket.writableObjectMode) throw new DigestMD5Error('bad-option', 'the socket must carry bytes, not objects');
    if (socket.readableEncoding !== null) throw new DigestMD5Error('bad-option', 'the socket has a text encoding set (setEncoding); it must deliver bytes');
    if (socket.listenerCount('data') > 0) {
      throw new DigestMD5Error('bad-option', "the socket still has 'data' listeners: remove them before handing it to the security layer");
    }
    const head = options.head;
    if (head !== undefined && !(head instanceof Uint8Array)) throw new DigestMD5Error('bad-option', 'head must be a Uint8Array');
    const halfOpen = options.allowHalfOpen ?? (socket as { allowHalfOpen?: unknown }).allowHalfOpen;
    super({
      allowHalfOpen: typeof halfOpen === 'boolean' ? halfOpen : true,
      readableHighWaterMark: options.readableHighWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      writableHighWaterMark: options.writableHighWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    });
    this.socket = socket;
    this.layer = layer;
    this.decoder = new FrameDecoder(layer.maxbuf);
    if (head !== undefined && head.length > 0) {
      this.current = head;
      this.counts.wireIn += head.length;
    }
    socket.on('readable', this.onReadable);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    if (socket.destroyed) process.nextTick(() => this.socketClosed());
    else if (socket.readableEnded) this.socketEnded = true;
  }

  /** A snapshot of the byte and buffer counts. */
  get stats(): SecureStreamStats {
    return { ...this.counts };
  }

  // ---- receiver ----

  override _read(): void {
    this.wanting = true;
    this.pull();
  }

  /** Feeds wire bytes to the decoder while the reader wants plaintext. */
  private pull(): void {
    if (this.destroyed) return;
    try {
      while (this.wanting) {
        if (this.current === undefined) {
          if (this.socketEnded) break;
          const chunk: unknown = this.socket.read();
          if (chunk === null) break;
          if (!(chunk instanceof Uint8Array)) throw new DigestMD5Error('bad-option', 'the socket delivered text, not bytes');
          this.counts.wireIn += chunk.length;
          this.current = chunk;
        }
        let slice = this.current;
        if (slice.length > FEED_SLICE) {
          this.current = slice.subarray(FEED_SLICE);
          slice = slice.subarray(0, FEED_SLICE);
        } else this.current = undefined;
        for (const token of this.decoder.push(slice)) {
          const plain = this.layer.unwrap(token);
          this.counts.framesIn++;
          this.counts.plainIn += plain.length;
          // An empty message (a peer may wrap one) carries nothing to push.
          if (plain.length > 0 && !this.push(plain)) this.wanting = false;
        }
      }
      if (this.socketEnded && this.current === undefined && !this.eofPushed) {
        const pending = this.decoder.pending;
        if (pending > 0) {
          throw new DigestMD5Error('integrity', `the connection ended inside a buffer (${pending} bytes of it received)`);
        }
        this.eofPushed = true;
        this.push(null);
      }
    } catch (e) {
      this.destroy(typed(e));
    }
  }

  private socketClosed(): void {
    if (this.destroyed) return;
    if (!this.socketEnded) {
      // Closed under us without an end of input: like a socket, close without 'end'.
      this.destroy();
    } else if (this.readableEnded) {
      this.destroy();
    } else {
      // Plaintext still waits for the reader: close once it has been read.
      this.once('end', () => this.destroy());
    }
  }

  // ---- sender ----

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.send(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  /**
   * Wraps `chunks` as messages of at most maxPlaintext bytes (small chunks written together
   * share a message), writing each framed token; waits for 'drain' whenever the socket is full.
   */
  private send(chunks: Uint8Array[], callback: (error?: Error | null) => void): void {
    const max = this.layer.maxPlaintext;
    let index = 0;
    let offset = 0;
    const nextMessage = (): Uint8Array | undefined => {
      while (index < chunks.length && offset >= chunks[index]!.length) {
        index++;
        offset = 0;
      }
      if (index >= chunks.length) return undefined;
      const first = chunks[index]!;
      if (first.length - offset >= max || index === chunks.length - 1) {
        const end = Math.min(first.length, offset + max);
        const piece = first.subarray(offset, end);
        offset = end;
        return piece;
      }
      // Several chunks go into one message: copy them together, up to max bytes.
      const parts: Uint8Array[] = [];
      let size = 0;
      while (index < chunks.length && size < max) {
        const c = chunks[index]!;
        const take = Math.min(c.length - offset, max - size);
        parts.push(c.subarray(offset, offset + take));
        size += take;
        offset += take;
        if (offset >= c.length) {
          index++;
          offset = 0;
        }
      }
      return Buffer.concat(parts, size);
    };
    const loop = (): void => {
      this.held = undefined;
      if (this.destroyed) return;
      try {
        for (;;) {
          const plain = nextMessage();
          if (plain === undefined) {
            callback();
            return;
          }
          const wire = frame(this.layer.wrap(plain));
          this.counts.plainOut += plain.length;
          this.counts.wireOut += wire.length;
          this.counts.framesOut++;
          if (!this.socket.write(wire)) {
            this.held = { resume: loop, callback };
            this.socket.once('drain', loop);
            return;
          }
        }
      } catch (e) {
        callback(typed(e));
      }
    };
    loop();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const s = this.socket;
    if (s.writableFinished) {
      callback();
    } else if (s.destroyed) {
      callback(new DigestMD5Error('bad-state', 'the socket was closed before the stream was ended'));
    } else if (s.writableEnded) {
      s.once('finish', () => callback());
    } else {
      s.end((err?: Error | null) => callback(err ?? null));
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const s = this.socket;
    s.removeListener('readable', this.onReadable);
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onError);
    s.removeListener('close', this.onClose);
    const held = this.held;
    this.held = undefined;
    if (held) s.removeListener('drain', held.resume);
    // Errors after we let go (a reset during teardown) have nobody else to go to.
    s.on('error', () => {});
    s.destroy();
    this.layer.destroy();
    this.current = undefined;
    callback(error);
    // A write waiting for 'drain' will never finish: release its callback.
    held?.callback(error ?? new DigestMD5Error('bad-state', 'the stream was destroyed before the write was sent'));
  }
}

/**
 * Puts `socket` behind `layer`: returns a Duplex whose writes go out wrapped and framed and
 * whose reads are the verified plaintext from the peer. The stream owns the socket and the
 * layer from then on; remove your own 'data' listeners first, and pass bytes you have
 * already read past the switch point as `options.head`.
 */
export function secureStream(socket: Duplex, layer: SecurityLayer, options?: SecureStreamOptions): SecureStream {
  return new SecureStream(socket, layer, options);
}
