// Self-verifying server nonces in the manner of Microsoft's Digest SSP: each nonce
// carries the issuing server's identity and the time of issue, with random bytes
// and an HMAC-SHA-256 over them, so a server checks its own nonces without state.
//
// Layout before base64url: version(1) ‖ issued-at ms (6, big-endian) ‖ random(16) ‖
// id length(1) ‖ server id (UTF-8, 1..64) ‖ HMAC-SHA-256(nonce key, all before)[0..16).

import { hmacSha256, randomBytes } from '#crypto';
import { constantTimeEqual, decodeUtf8, fromBase64Url, toBase64Url, utf8 } from './bytes.js';
import { DigestMD5Error } from './errors.js';
import type { Clock } from './stores/memory.js';

const VERSION = 1;
const TIME_BYTES = 6;
const RANDOM_BYTES = 16; // 128 bits from the CSPRNG
const MAC_BYTES = 16; // HMAC-SHA-256 truncated to 128 bits
const MAX_ID_BYTES = 64;
/** Nonce keys shorter than this are refused (HMAC-SHA-256 wants 256 bits; 128 is the floor). */
export const MIN_NONCE_KEY_BYTES = 16;

export interface NonceInfo {
  readonly serverId: string;
  /** Milliseconds since the epoch. */
  readonly issuedAt: number;
}

export interface NonceIssuerOptions {
  /** This server's identity, written into every nonce (1..64 UTF-8 bytes). */
  serverId: string;
  /** The HMAC key; at least 16 bytes, random, kept secret, shared by the servers that check each other's nonces. */
  key: Uint8Array;
  now?: Clock;
}

export class NonceIssuer {
  readonly serverId: string;
  private readonly id: Uint8Array;
  private readonly key: Uint8Array;
  private readonly now: Clock;

  constructor(o: NonceIssuerOptions) {
    if (typeof o.serverId !== 'string' || o.serverId.length === 0) throw new DigestMD5Error('bad-option', 'serverId must be a non-empty string');
    this.id = utf8(o.serverId);
    if (this.id.length > MAX_ID_BYTES) throw new DigestMD5Error('bad-option', `serverId must be at most ${MAX_ID_BYTES} UTF-8 bytes`);
    if (!(o.key instanceof Uint8Array) || o.key.length < MIN_NONCE_KEY_BYTES) {
      throw new DigestMD5Error('bad-option', `the nonce key must be at least ${MIN_NONCE_KEY_BYTES} bytes`);
    }
    this.serverId = o.serverId;
    this.key = o.key.slice();
    this.now = o.now ?? Date.now;
  }

  /** A fresh nonce (ASCII, base64url). */
  issue(): string {
    const body = new Uint8Array(1 + TIME_BYTES + RANDOM_BYTES + 1 + this.id.length);
    body[0] = VERSION;
    let t = Math.max(0, Math.floor(this.now()));
    for (let i = TIME_BYTES; i >= 1; i--) {
      body[i] = t % 256;
      t = Math.floor(t / 256);
    }
    body.set(randomBytes(RANDOM_BYTES), 1 + TIME_BYTES);
    body[1 + TIME_BYTES + RANDOM_BYTES] = this.id.length;
    body.set(this.id, 2 + TIME_BYTES + RANDOM_BYTES);
    const mac = hmacSha256(this.key, body).subarray(0, MAC_BYTES);
    const out = new Uint8Array(body.length + MAC_BYTES);
    out.set(body);
    out.set(mac, body.length);
    return toBase64Url(out);
  }

  /**
   * Checks a nonce's MAC and that this server issued it; returns its issue time.
   * Throws DigestMD5Error('invalid-response') for a malformed, forged or foreign nonce.
   * Expiry is the caller's decision (stale, or fall back).
   */
  inspect(nonce: Uint8Array): NonceInfo {
    const bad = (why: string): never => {
      throw new DigestMD5Error('invalid-response', `nonce ${why}`);
    };
    let text = '';
    for (const c of nonce) text += String.fromCharCode(c);
    const bytes = fromBase64Url(text) ?? bad('is not one of ours (not base64url)');
    const fixed = 2 + TIME_BYTES + RANDOM_BYTES;
    if (bytes.length < fixed + 1 + MAC_BYTES || bytes[0] !== VERSION) bad('is not one of ours (bad length or version)');
    const idLen = bytes[fixed - 1]!;
    if (idLen < 1 || bytes.length !== fixed + idLen + MAC_BYTES) bad('is not one of ours (bad length)');
    const body = bytes.subarray(0, fixed + idLen);
    const expected = hmacSha256(this.key, body).subarray(0, MAC_BYTES);
    if (!constantTimeEqual(expected, bytes.subarray(fixed + idLen))) bad('failed its MAC check: forged, or issued under another key');
    const serverId = decodeUtf8(body.subarray(fixed)) ?? bad('names a server id that is not UTF-8');
    if (!constantTimeEqual(body.subarray(fixed), this.id)) bad(`was issued by "${serverId}", not by this server ("${this.serverId}")`);
    let issuedAt = 0;
    for (let i = 1; i <= TIME_BYTES; i++) issuedAt = issuedAt * 256 + body[i]!;
    return { serverId, issuedAt };
  }
}

/**
 * The server id written in a nonce of this format, read WITHOUT checking its MAC (the
 * issuing server checks that). For an authenticating server that holds no nonce keys
 * and only needs to know which originating server a forwarded response names.
 * Undefined when the text is not a nonce of this format.
 */
export function readNonceServerId(nonce: Uint8Array): string | undefined {
  let text = '';
  for (const c of nonce) text += String.fromCharCode(c);
  const bytes = fromBase64Url(text);
  const fixed = 2 + TIME_BYTES + RANDOM_BYTES;
  if (!bytes || bytes.length < fixed + 1 + MAC_BYTES || bytes[0] !== VERSION) return undefined;
  const idLen = bytes[fixed - 1]!;
  if (idLen < 1 || bytes.length !== fixed + idLen + MAC_BYTES) return undefined;
  return decodeUtf8(bytes.subarray(fixed, fixed + idLen));
}
