// Text of the short ASCII values in DIGEST-MD5 messages, made once and then reused: the
// names, hosts, tokens and numbers of one exchange are those of the exchange before.

import { decodeLatin1 } from './bytes.js';

/** Values longer than this are made afresh every time (nonces, cnonces: never repeated). */
const MAX_INTERNED = 64;
const SLOTS = 256;

/** The string last made for each hash slot; a direct-mapped table, so bounded at SLOTS strings. */
const interned: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

/**
 * The text of src[from..to), bytes the caller has checked to be ASCII, lower-cased with
 * `lower`. A string made for the same bytes before is returned instead of a new one:
 * building a string a character at a time leaves a chain of pieces to the collector, and a
 * handshake decoded a dozen of these (about a seventh of the bytes it allocated). Only for
 * values read off the wire, never for secrets: the table keeps the last 256 strings alive.
 */
export function wireText(src: Uint8Array, from: number, to: number, lower: boolean): string {
  const n = to - from;
  if (n > MAX_INTERNED) return make(src, from, to, lower);
  let h = n;
  for (let i = from; i < to; i++) h = Math.imul(h ^ byteAt(src, i, lower), 0x9e3779b1);
  const slot = (h ^ (h >>> 16)) & (SLOTS - 1);
  const known = interned[slot];
  if (known !== undefined && known.length === n) {
    let k = 0;
    while (k < n && known.charCodeAt(k) === byteAt(src, from + k, lower)) k++;
    if (k === n) return known;
  }
  const text = make(src, from, to, lower);
  interned[slot] = text;
  return text;
}

function byteAt(src: Uint8Array, i: number, lower: boolean): number {
  const c = src[i]!;
  return lower && c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

function make(src: Uint8Array, from: number, to: number, lower: boolean): string {
  if (to - from > MAX_INTERNED) {
    const text = decodeLatin1(src.subarray(from, to));
    return lower ? text.toLowerCase() : text;
  }
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(byteAt(src, i, lower));
  return s;
}
