// The digest arithmetic of RFC 2831 §2.1.2.1 and §2.1.3 as pure functions:
// H(username:realm:password), H(A1), A2, the response-value and rspauth.

import { ascii, concatBytes, HEX_CODES, toHex, utf8, writeHex } from './bytes.js';
import { Md5 } from './crypto/md5.js';
import type { Qop } from './messages.js';

const COLON = Uint8Array.of(0x3a);

// The digest arithmetic hashes a few hundred bytes at most (messages are bounded at 4 KiB),
// where the JavaScript MD5 beats node:crypto on every backend (crypto/node.ts), so it is used
// directly: one instance, reused call after call (nothing here awaits, so calls never
// interleave), with its digests written into arrays kept for the purpose.
const hasher = new Md5();

/**
 * H({ username-value, ":", realm-value, ":", passwd }), 16 binary bytes (into `out` when
 * given): the "precalculated secret" a server may store instead of the password. Each
 * text is converted to ISO-8859-1 when it fits, else UTF-8 (see charset.ts).
 */
export function hashUserRealmPassword(username: string, realm: string, password: string, out?: Uint8Array): Uint8Array {
  hasher.start();
  absorbText(username, 0xff).update(COLON);
  absorbText(realm, 0xff).update(COLON);
  return absorbText(password, 0xff).finish(out);
}

/**
 * Absorbs `text` as ISO-8859-1 when every character is at most `max` (0xff: the bytes
 * hashBytes gives; 0x7f: the bytes of UTF-8), else as UTF-8; in the first case without
 * making the bytes, since a password must not be copied more than it has to be and names
 * are hashed on every handshake.
 */
function absorbText(text: string, max: number): Md5 {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > max) return hasher.update(utf8(text));
  return hasher.updateLatin1(text);
}

/** The same from the exact bytes a response carried (charset absent: hashed as sent). */
export function hashUserRealmPasswordBytes(username: Uint8Array, realm: Uint8Array, password: Uint8Array): Uint8Array {
  return hasher.start().update(username).update(COLON).update(realm).update(COLON).update(password).finish();
}

export interface A1Inputs {
  /** H(username:realm:password), 16 bytes. */
  readonly urp: Uint8Array;
  readonly nonce: Uint8Array;
  readonly cnonce: Uint8Array;
  /** Present only when the response carries one (hashed as UTF-8). */
  readonly authzid?: string | undefined;
}

/** H(A1), 16 binary bytes: the session key from which Kic, Kis, Kcc and Kcs derive. */
export function computeHA1(a: A1Inputs): Uint8Array {
  if (a.urp.length !== 16) throw new RangeError('H(username:realm:password) must be 16 bytes');
  const h = hasher.start().update(a.urp).update(COLON).update(a.nonce).update(COLON).update(a.cnonce);
  if (a.authzid !== undefined && a.authzid.length > 0) {
    h.update(COLON);
    absorbText(a.authzid, 0x7f);
  }
  return h.finish();
}

const A2_AUTHENTICATE = ascii('AUTHENTICATE:');
const A2_SUFFIX_LAYER = ascii(':00000000000000000000000000000000');

/**
 * A2: `AUTHENTICATE:digest-uri` for the response, `:digest-uri` for rspauth, each
 * followed by `:00000000000000000000000000000000` when qop is auth-int or auth-conf.
 */
export function computeA2(qop: Qop, digestUri: string, forRspauth: boolean): Uint8Array {
  const parts: Uint8Array[] = [forRspauth ? COLON : A2_AUTHENTICATE, utf8(digestUri)];
  if (qop !== 'auth') parts.push(A2_SUFFIX_LAYER);
  return concatBytes(...parts);
}

export interface ResponseInputs {
  readonly ha1: Uint8Array;
  readonly nonce: Uint8Array;
  readonly nc: number;
  readonly cnonce: Uint8Array;
  readonly qop: Qop;
  readonly digestUri: string;
}

// KD's input and digests, reused: a new array of over 64 bytes costs V8 ~1 µs (alloc.ts).
// The input grows to the largest seen, which the 4 KiB message bound limits.
let kdInput = new Uint8Array(256);
const ha2 = new Uint8Array(16);
const kdDigest = new Uint8Array(16);
/** The MD5 state after the blocks the response and rspauth share (wiped after use). */
const kdState = new Int32Array(4);

/**
 * HEX(H(A2)) of the response (index 0) and of rspauth (1), for the last digest-uri and kind
 * of qop seen: A2 holds nothing secret, and a server or client meets the same digest-uri on
 * every handshake, so each is hashed once, not twice a handshake on each side.
 */
const a2Memo = [0, 1].map(() => ({ uri: undefined as string | undefined, layer: false, hex: new Uint8Array(32) }));

/** Writes HEX(H(A2)) into `out` at `at`, hashed from its pieces unless the memo has it. */
function writeHexA2(r: ResponseInputs, forRspauth: boolean, out: Uint8Array, at: number): void {
  const memo = a2Memo[forRspauth ? 1 : 0]!;
  const layer = r.qop !== 'auth';
  if (memo.uri !== r.digestUri || memo.layer !== layer) {
    hasher.start().update(forRspauth ? COLON : A2_AUTHENTICATE);
    absorbText(r.digestUri, 0x7f);
    if (layer) hasher.update(A2_SUFFIX_LAYER);
    hasher.finish(ha2);
    writeHex(memo.hex, 0, ha2);
    memo.uri = r.digestUri;
    memo.layer = layer;
  }
  const hex = memo.hex;
  for (let i = 0; i < 32; i++) out[at + i] = hex[i]!;
}

/**
 * Lays out `HEX(H(A1)):nonce:nc:cnonce:qop:` in the reused KD input, room left for
 * HEX(H(A2)); returns the prefix's length. One array hashed in one call: eleven small
 * updates and their strings measured as a sixth of a client step.
 */
function layOutKd(r: ResponseInputs): number {
  const qop = r.qop;
  const len = 32 + 1 + r.nonce.length + 1 + 8 + 1 + r.cnonce.length + 1 + qop.length + 1 + 32;
  if (kdInput.length < len) kdInput = new Uint8Array(len);
  const buf = kdInput;
  let o = 0;
  writeHex(buf, o, r.ha1);
  o += 32;
  buf[o++] = 0x3a;
  buf.set(r.nonce, o);
  o += r.nonce.length;
  buf[o++] = 0x3a;
  for (let shift = 28; shift >= 0; shift -= 4) buf[o++] = HEX_CODES[(r.nc >>> shift) & 15]!;
  buf[o++] = 0x3a;
  buf.set(r.cnonce, o);
  o += r.cnonce.length;
  buf[o++] = 0x3a;
  for (let i = 0; i < qop.length; i++) buf[o++] = qop.charCodeAt(i);
  buf[o++] = 0x3a;
  return o;
}

/**
 * KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2))) as 32 lower-case hex digits, from the
 * input layOutKd() made (`prefix` bytes long): HEX(H(A2)) is written after it, and the
 * hash resumes from `state`, the MD5 state after the input's first `from` bytes
 * (undefined and 0: from the start).
 */
function kd(r: ResponseInputs, prefix: number, forRspauth: boolean, state: Int32Array | undefined, from: number): string {
  writeHexA2(r, forRspauth, kdInput, prefix);
  hasher.start(state, from).update(kdInput, from, prefix + 32).finish(kdDigest);
  return toHex(kdDigest);
}

/** HEX(H(A1)) is the session key in hex: it leaves the reused input once a value is made. */
function wipeKdInput(): void {
  kdInput.fill(0, 0, 32);
}

/** The response-value the client sends (RFC 2831 §2.1.2.1). */
export function computeResponse(r: ResponseInputs): string {
  const value = kd(r, layOutKd(r), false, undefined, 0);
  wipeKdInput();
  return value;
}

/** The rspauth value the server returns (RFC 2831 §2.1.3). */
export function computeRspauth(r: ResponseInputs): string {
  const value = kd(r, layOutKd(r), true, undefined, 0);
  wipeKdInput();
  return value;
}

/**
 * Both values at once. Their KD inputs differ only in the last 32 bytes, so the whole
 * 64-byte blocks before those are hashed once and the MD5 state is resumed for the
 * second: two of the four blocks of each KD with this library's nonces.
 */
export function computeResponseAndRspauth(r: ResponseInputs): { response: string; rspauth: string } {
  const prefix = layOutKd(r);
  const shared = prefix & ~63;
  const state = hasher.start().update(kdInput, 0, shared).saveState(kdState);
  const response = kd(r, prefix, false, state, shared);
  const rspauth = kd(r, prefix, true, state, shared);
  wipeKdInput();
  state.fill(0);
  return { response, rspauth };
}
