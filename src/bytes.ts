// Byte helpers shared by every layer: text encodings, hex, concatenation and
// constant-time comparison. Browser-safe: plain Uint8Array, nothing from Node.

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  // ASCII (tokens, digest-uri, most names) without TextEncoder: several times faster for
  // the short strings of a handshake. Never from the output slab: passwords pass here.
  const n = text.length;
  if (n <= 1024) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return utf8Encoder.encode(text);
      out[i] = c;
    }
    return out;
  }
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8; returns undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  // ASCII, as short values almost always are, without TextDecoder (~0.4 µs a call).
  if (bytes.length <= 64) {
    let s = '';
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (c > 0x7f) return decodeUtf8Strict(bytes);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decodeUtf8Strict(bytes);
}

function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** ISO-8859-1 bytes of `text`, or undefined when a character does not fit. */
export function latin1(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) return undefined;
    out[i] = c;
  }
  return out;
}

export function decodeLatin1(bytes: Uint8Array): string {
  if (bytes.length <= 64) {
    let t = '';
    for (let i = 0; i < bytes.length; i++) t += String.fromCharCode(bytes[i]!);
    return t;
  }
  let s = '';
  // String.fromCharCode over chunks: one call per byte is ~10x slower for long inputs.
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return s;
}

/** ASCII bytes of a string known to be ASCII (tokens, hex, numbers). */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const HEX = '0123456789abcdef';
/** The two hex digits of every byte: sixteen concatenations for a digest instead of 32. */
const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, b) => HEX[b >> 4]! + HEX[b & 15]!);

/** Lower-case hex, as RFC 2831 HEX() requires. */
export function toHex(bytes: Uint8Array): string {
  if (bytes.length === 16) {
    writeHex(text32, 0, bytes);
    return asText32(text32);
  }
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX_PAIRS[bytes[i]!]!;
  return s;
}

/** The ASCII codes of the lower-case hex digits, by value. */
export const HEX_CODES = Uint8Array.from(HEX, (c) => c.charCodeAt(0));

/** Writes the lower-case hex of `bytes` into `out` at `at`. */
export function writeHex(out: Uint8Array, at: number, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    out[at + 2 * i] = HEX_CODES[bytes[i]! >> 4]!;
    out[at + 2 * i + 1] = HEX_CODES[bytes[i]! & 15]!;
  }
}

/** Scratch for the 32 characters of a digest in hex, read by asText32. */
export const text32 = new Uint8Array(32);

/**
 * The 32 characters in `t` as one flat string: a single call with 32 arguments, 65 ns
 * against 165 for sixteen concatenations, whose chain of pieces the collector then
 * meets too (hex digests are made four times a handshake).
 */
export function asText32(t: Uint8Array): string {
  return String.fromCharCode(
    t[0]!, t[1]!, t[2]!, t[3]!, t[4]!, t[5]!, t[6]!, t[7]!, t[8]!, t[9]!, t[10]!, t[11]!, t[12]!, t[13]!, t[14]!, t[15]!,
    t[16]!, t[17]!, t[18]!, t[19]!, t[20]!, t[21]!, t[22]!, t[23]!, t[24]!, t[25]!, t[26]!, t[27]!, t[28]!, t[29]!, t[30]!, t[31]!,
  );
}

/**
 * Text from bytes known to be ASCII. Short ones by concatenation; from 24 bytes on through
 * TextDecoder, which makes one flat string where concatenation leaves a chain of pieces
 * (an 80-character nonce: 0.19 µs against 0.46, and less for the collector).
 */
function asciiString(bytes: Uint8Array, n: number): string {
  const text = bytes.subarray(0, n);
  return n < 24 ? decodeLatin1(text) : utf8Decoder.decode(text);
}

/** Parses hex (either case); undefined when the text is not an even run of hex digits. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Compares two byte strings in time that depends only on their lengths,
 * never on where they differ. Use for every secret-derived value.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** constantTimeEqual for text (hex digests): compares UTF-16 code units, no encoding. */
export function constantTimeEqualText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Overwrites a secret buffer with zeros once it is no longer needed. */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

const B64_CODES = ascii7('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const B64URL_CODES = ascii7('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');

function ascii7(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Base64 of `bytes` with the alphabet `codes` into `out`; returns the characters written. */
function base64Into(bytes: Uint8Array, codes: Uint8Array, pad: boolean, out: Uint8Array): number {
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = codes[n >> 18]!;
    out[o++] = codes[(n >> 12) & 63]!;
    out[o++] = codes[(n >> 6) & 63]!;
    out[o++] = codes[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = codes[n >> 18]!;
    out[o++] = codes[(n >> 12) & 63]!;
    if (rest === 2) out[o++] = codes[(n >> 6) & 63]!;
    if (pad) {
      if (rest === 1) out[o++] = 0x3d;
      out[o++] = 0x3d;
    }
  }
  return o;
}

function base64Length(n: number, pad: boolean): number {
  return pad ? Math.ceil(n / 3) * 4 : Math.ceil((n * 4) / 3);
}

/** Reused for base64 text; grows to the longest input seen. */
let base64Scratch = new Uint8Array(128);

function base64Text(bytes: Uint8Array, codes: Uint8Array, pad: boolean): string {
  const len = base64Length(bytes.length, pad);
  if (base64Scratch.length < len) base64Scratch = new Uint8Array(len);
  return asciiString(base64Scratch, base64Into(bytes, codes, pad, base64Scratch));
}

/** Standard padded base64 (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  return base64Text(bytes, B64_CODES, true);
}

/** Standard base64 (RFC 4648 §4) as ASCII bytes, without its "=" padding. */
export function base64BytesUnpadded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(base64Length(bytes.length, false));
  base64Into(bytes, B64_CODES, false, out);
  return out;
}

/** Writes n (0 .. 2^32 - 1) big-endian at `at`. */
export function writeUint32BE(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
}

export function readUint32BE(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

const B64URL_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64URL_INDEX[B64URL_CODES[i]!] = i;

/** base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  return base64Text(bytes, B64URL_CODES, false);
}

/**
 * Decodes unpadded base64url (RFC 4648 §5) from ASCII bytes into `out` (which must hold
 * floor(3 * length / 4) bytes); returns the number of bytes written, or -1 on any
 * character or length outside the alphabet.
 */
export function base64UrlDecodeInto(text: Uint8Array, out: Uint8Array): number {
  if (text.length % 4 === 1) return -1;
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const v = c < 128 ? B64URL_INDEX[c]! : -1;
    if (v < 0) return -1;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero, so every byte string has exactly one encoding.
  if ((acc & ((1 << bits) - 1)) !== 0) return -1;
  return o;
}
