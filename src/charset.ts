// The charset rules of RFC 2831 §2.1.2.1: which bytes a name or password is
// sent and hashed as, with and without `charset=utf-8`.

import { decodeLatin1, decodeUtf8, latin1, utf8 } from './bytes.js';
import { malformed } from './errors.js';
import { wireText } from './wire-text.js';

/**
 * The bytes a username, realm or password is hashed as.
 *
 * With `charset=utf-8` the RFC converts to ISO-8859-1 whenever every character
 * fits, else hashes UTF-8; Cyrus and the JDK do the same. Without it the RFC
 * allows only ISO-8859-1; a text that does not fit is hashed as UTF-8, which is
 * what the Cyrus client does (it never sends `charset` and uses UTF-8 bytes).
 */
export function hashBytes(text: string): Uint8Array {
  return latin1(text) ?? utf8(text);
}

/**
 * Decodes a directive value (bytes[from..to)). With `charset=utf-8` the value must be UTF-8.
 * Without it the RFC says ISO-8859-1, but the Cyrus client sends UTF-8 without
 * the directive; valid UTF-8 is taken as UTF-8 (ASCII reads the same either way,
 * and Latin-1 text with high bytes is almost never valid UTF-8), the rest as Latin-1.
 */
export function decodeText(bytes: Uint8Array, utf8Charset: boolean, what: string, from = 0, to = bytes.length): string {
  let i = from;
  while (i < to && bytes[i]! <= 0x7f) i++;
  if (i === to) return wireText(bytes, from, to, false); // ASCII, as nearly every value is
  const value = bytes.subarray(from, to);
  const text = decodeUtf8(value);
  if (text !== undefined) return text;
  if (utf8Charset) malformed(`${what} is not valid UTF-8 although charset=utf-8`);
  return decodeLatin1(value);
}
