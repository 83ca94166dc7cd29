// Reading a password for the CLI: the first line of stdin, or the terminal in raw mode
// with nothing echoed. Both bounded in length and time-independent of the input's size.

import type { Readable, Writable } from 'node:stream';
import type { ReadStream } from 'node:tty';
import { DigestMD5Error } from '../errors.js';

/** Passwords longer than this (UTF-8 bytes) are refused. */
export const MAX_PASSWORD_BYTES = 1024;

/** Reads the first line of `input` (without "\n" or "\r\n"), then stops reading. */
export function readFirstLine(input: Readable, maxBytes = MAX_PASSWORD_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (err: Error | undefined, text?: string): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.pause();
      if (err) reject(err);
      else resolve(text!);
    };
    const line = (): string => {
      const t = Buffer.concat(chunks).toString('utf8');
      return t.endsWith('\r') ? t.slice(0, -1) : t;
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const nl = b.indexOf(0x0a);
      const piece = nl < 0 ? b : b.subarray(0, nl);
      length += piece.length;
      if (length > maxBytes + 1) return finish(new DigestMD5Error('too-large', `the password is longer than ${maxBytes} bytes`));
      chunks.push(piece);
      if (nl >= 0) finish(undefined, line());
    };
    const onEnd = (): void => {
      if (length === 0) finish(new DigestMD5Error('bad-option', 'stdin ended before a password'));
      else finish(undefined, line());
    };
    const onError = (e: Error): void => finish(new DigestMD5Error('backend-failed', `cannot read stdin: ${e.message}`));
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    input.resume();
  });
}

/** Whether `input` is a terminal that can be put in raw mode. */
export function isTerminal(input: Readable): input is ReadStream {
  const t = input as ReadStream;
  return t.isTTY === true && typeof t.setRawMode === 'function';
}

/** Prompts on `out` and reads a line from the terminal in raw mode, echoing nothing. */
export function promptHidden(tty: ReadStream, out: Writable, prompt: string, maxBytes = MAX_PASSWORD_BYTES): Promise<string> {
  out.write(prompt);
  tty.setRawMode(true);
  return new Promise((resolve, reject) => {
    let pw = '';
    const finish = (err?: Error): void => {
      tty.removeListener('data', onData);
      tty.removeListener('end', onEnd);
      tty.setRawMode(false);
      tty.pause();
      out.write('\n');
      if (err) reject(err);
      else resolve(pw);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new DigestMD5Error('bad-option', 'interrupted'));
        if (ch === '\u0004' && pw.length === 0) return finish(new DigestMD5Error('bad-option', 'no password given'));
        if (ch === '\u007f' || ch === '\b') pw = [...pw].slice(0, -1).join('');
        else if (ch >= ' ') pw += ch;
        if (Buffer.byteLength(pw) > maxBytes) return finish(new DigestMD5Error('too-large', `the password is longer than ${maxBytes} bytes`));
      }
    };
    const onEnd = (): void => finish(new DigestMD5Error('bad-option', 'the terminal closed before a password'));
    tty.on('data', onData);
    tty.once('end', onEnd);
    tty.resume();
  });
}
