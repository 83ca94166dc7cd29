// What both sides of the sample protocol (docs/protocol.md) share: its constants, its
// error type, strict base64, and writing a line with backpressure.

import type { Writable } from 'node:stream';

/** The serv-type of the digest-uri unless the application names another. */
export const SAMPLE_SERVICE = 'sample';
/** Long enough for a base64 digest-response of the RFC's 4096-byte maximum (5464 characters). */
export const MIN_LINE_BYTES = 5464;
export const DEFAULT_MAX_LINE_BYTES = 8192;
/** The most bytes a line may hold in any configuration. */
export const MAX_LINE_BYTES = 1024 * 1024;

export type ProtocolErrorCode =
  /** The peer sent something the protocol does not allow here. */
  | 'bad-reply'
  /** The server answered NO to AUTHENTICATE (the reason is in the message). */
  | 'refused'
  /** The connection ended or was closed while a reply was due. */
  | 'closed'
  /** No reply within the time allowed. */
  | 'timeout'
  /** A line over the bound, to send or received. */
  | 'too-large'
  /** An option or argument is invalid. */
  | 'bad-option';

/** A failure of the sample protocol itself (the mechanism's own failures are DigestMD5Errors). */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard padded base64, nothing else (no whitespace, no URL alphabet); undefined if not. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Text safe to put in a reply line: no CR, LF or other controls, at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const t = text.replace(/[\x00-\x1f\x7f]+/g, ' ');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

/** Writes `text` and CRLF; resolves at once, or after 'drain' when the stream is full. */
export function writeLine(out: Writable, text: string): Promise<void> {
  if (out.destroyed || out.writableEnded) return Promise.reject(new ProtocolError('closed', 'the connection is closed'));
  if (out.write(text + '\r\n')) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      out.removeListener('drain', onDrain);
      out.removeListener('close', onClose);
      out.removeListener('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new ProtocolError('closed', 'the connection closed while a line was being sent'));
    const onError = (e: Error): void => done(e);
    out.once('drain', onDrain);
    out.once('close', onClose);
    out.once('error', onError);
  });
}

/** Parses `key=value` words, as in `OK qop=auth-conf cipher=aes`. */
export function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const w of text.split(' ')) {
    const eq = w.indexOf('=');
    if (eq > 0) out.set(w.slice(0, eq), w.slice(eq + 1));
  }
  return out;
}

/** Resolves when `socket` closes, or after `ms` at the latest (the timer does not hold the process). */
export function closedWithin(socket: { destroyed: boolean; once(event: 'close', f: () => void): unknown }, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.destroyed) return resolve();
    const t = setTimeout(resolve, ms);
    t.unref();
    socket.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
