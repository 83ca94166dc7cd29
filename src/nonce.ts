// Self-verifying server nonces in the manner of Microsoft's Digest SSP: each nonce
// carries the issuing server's identity and the time of issue, with random bytes
// and an HMAC-SHA-256 over them, so a server checks its own nonces without state.
//
// Layout before base64url: version(1) ‖ issued-at ms (6, big-endian) ‖ random(16) ‖
// id length(1) ‖ server id (UTF-8, 1..64) ‖ HMAC-SHA-256(nonce key, all before)[0..16).

import { randomInto } from '#crypto';
import { base64UrlDecodeInto, constantTimeEqual, decodeUtf8, toBase64Url, utf8 } from './bytes.js';
import { HmacSha256State } from './crypto/sha256.js';
import { DigestMD5Error } from './errors.js';
import type { Clock } from './stores/memory.js';

const VERSION = 1;
const TIME_BYTES = 6;
const RANDOM_BYTES = 16; // 128 bits from the CSPRNG
const MAC_BYTES = 16; // HMAC-SHA-256 truncated to 128 bits
const MAX_ID_BYTES = 64;
/** Version, time, random bytes and the id's length: what precedes the id. */
const FIXED_BYTES = 2 + TIME_BYTES + RANDOM_BYTES;
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
  private readonly mac: HmacSha256State;
  private readonly now: Clock;
  // Reused buffers (nothing here awaits): the nonce being built, and a MAC.
  private readonly bytes: Uint8Array;
  private readonly digest = new Uint8Array(32);

  constructor(o: NonceIssuerOptions) {
    if (typeof o.serverId !== 'string' || o.serverId.length === 0) throw new DigestMD5Error('bad-option', 'serverId must be a non-empty string');
    this.id = utf8(o.serverId);
    if (this.id.length > MAX_ID_BYTES) throw new DigestMD5Error('bad-option', `serverId must be at most ${MAX_ID_BYTES} UTF-8 bytes`);
    if (!(o.key instanceof Uint8Array) || o.key.length < MIN_NONCE_KEY_BYTES) {
      throw new DigestMD5Error('bad-option', `the nonce key must be at least ${MIN_NONCE_KEY_BYTES} bytes`);
    }
    this.serverId = o.serverId;
    this.mac = new HmacSha256State(o.key);
    this.now = o.now ?? Date.now;
    this.bytes = new Uint8Array(FIXED_BYTES + this.id.length + MAC_BYTES);
  }

  /** A fresh nonce (ASCII, base64url), stamped with `now` (default: the clock's reading). */
  issue(now: number = this.now()): string {
    const bodyLen = FIXED_BYTES + this.id.length;
    const out = this.bytes;
    out[0] = VERSION;
    let t = Math.max(0, Math.floor(now));
    for (let i = TIME_BYTES; i >= 1; i--) {
      out[i] = t % 256;
      t = Math.floor(t / 256);
    }
    randomInto(out, 1 + TIME_BYTES, RANDOM_BYTES);
    out[FIXED_BYTES - 1] = this.id.length;
    out.set(this.id, FIXED_BYTES);
    // Ranges by index, not views: each view is an object (two a nonce, measured ~50 ns).
    const digest = this.mac.mac(out, this.digest, bodyLen);
    for (let i = 0; i < MAC_BYTES; i++) out[bodyLen + i] = digest[i]!;
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
    const layout = decodeNonce(nonce);
    if (typeof layout === 'string') return bad(layout);
    const { bytes, idLen } = layout;
    const body = bytes.subarray(0, FIXED_BYTES + idLen);
    const expected = this.mac.mac(body, this.digest).subarray(0, MAC_BYTES);
    if (!constantTimeEqual(expected, bytes.subarray(FIXED_BYTES + idLen))) bad('failed its MAC check: forged, or issued under another key');
    const id = body.subarray(FIXED_BYTES);
    if (!constantTimeEqual(id, this.id)) {
      bad(`was issued by "${decodeUtf8(id) ?? '(not UTF-8)'}", not by this server ("${this.serverId}")`);
    }
    let issuedAt = 0;
    for (let i = 1; i <= TIME_BYTES; i++) issuedAt = issuedAt * 256 + body[i]!;
    return { serverId: this.serverId, issuedAt };
  }
}

/**
 * The server id written in a nonce of this format, read WITHOUT checking its MAC (the
 * issuing server checks that). For an authenticating server that holds no nonce keys
 * and only needs to know which originating server a forwarded response names.
 * Undefined when the text is not a nonce of this format.
 */
export function readNonceServerId(nonce: Uint8Array): string | undefined {
  const layout = decodeNonce(nonce);
  return typeof layout === 'string' ? undefined : decodeUtf8(layout.bytes.subarray(FIXED_BYTES, FIXED_BYTES + layout.idLen));
}

/** A nonce of this format decoded, with its id's length; or why it is not one. */
function decodeNonce(nonce: Uint8Array): { bytes: Uint8Array; idLen: number } | string {
  const bytes = new Uint8Array(Math.floor((nonce.length * 3) / 4));
  if (base64UrlDecodeInto(nonce, bytes) !== bytes.length) return 'is not one of ours (not base64url)';
  if (bytes.length < FIXED_BYTES + 1 + MAC_BYTES || bytes[0] !== VERSION) return 'is not one of ours (bad length or version)';
  const idLen = bytes[FIXED_BYTES - 1]!;
  if (idLen < 1 || bytes.length !== FIXED_BYTES + idLen + MAC_BYTES) return 'is not one of ours (bad length)';
  return { bytes, idLen };
}
