// The security layers of RFC 2831 §2.3 (integrity, qop=auth-int) and §2.4
// (confidentiality, qop=auth-conf): wrap and unwrap one token at a time, with a
// sequence number per direction. Framing (the 4-byte length) is framing.ts's job.

import { hmacMd5 } from '#crypto';
import { readUint32BE, writeUint32BE } from '../bytes.js';
import type { HmacMd5 } from '../crypto/types.js';
import { outputBytes } from '../alloc.js';
import { DigestMD5Error } from '../errors.js';
import { cipherSpec, type CipherName, type CipherSpec } from './ciphers/index.js';
import type { CipherState } from './ciphers/types.js';
import { deriveConfidentialityKeys, deriveIntegrityKeys } from './keys.js';

export type LayerQop = 'auth-int' | 'auth-conf';

/**
 * Kic and Kis between their derivation and the keying of the two HMACs, which keep them as
 * keyed states (and node:crypto's as a copy): wiped at once. Arrays of their own per layer
 * were two allocations of four.
 */
const KIC = new Uint8Array(16);
const KIS = new Uint8Array(16);

/**
 * A message's sequence number as bytes, and where its HMAC is computed: used at once within
 * one wrap() or unwrap(), which never yield, so every layer shares them (arrays of their own
 * were two allocations of a layer's eight).
 */
const SEQ = new Uint8Array(4);
const MAC_OUT = new Uint8Array(16);

/** MAC bytes kept from HMAC-MD5 (RFC 2831 §2.3: the first 10). */
const MAC_LEN = 10;
/** The 2-byte message type 0x0001 and the 4-byte sequence number that end every token. */
const TRAILER_LEN = 6;
/** Sequence numbers are 32 bits; the last usable one is 2^32 - 1. */
const SEQ_LIMIT = 2 ** 32;

export interface SecurityLayerParams {
  readonly qop: LayerQop;
  /** Required with auth-conf. */
  readonly cipher?: CipherName | undefined;
  /** H(A1), the 16-byte session key. Copied; the caller keeps ownership. */
  readonly ha1: Uint8Array;
  readonly side: 'client' | 'server';
  /** The largest token we accept (our maxbuf). */
  readonly maxbuf: number;
  /** The largest token the peer accepts (its maxbuf). */
  readonly peerMaxbuf: number;
  /** First sequence numbers; only tests set them (to reach the 2^32 limit). */
  readonly initialSeq?: { send: number; receive: number };
}

/** One direction's keys and state. */
interface Direction {
  seq: number;
  readonly mac: HmacMd5;
  readonly cipher: CipherState | undefined;
}

// The 10 MAC bytes are copied and compared by hand: set() and subarray() on so few bytes
// measured about a tenth of a 1 KiB wrap+unwrap.

/** Writes the first MAC_LEN bytes of `mac` into `out` at `at`. */
function copyMac(mac: Uint8Array, out: Uint8Array, at: number): void {
  for (let i = 0; i < MAC_LEN; i++) out[at + i] = mac[i]!;
}

/** Whether `got[at..at+MAC_LEN)` equals the first MAC_LEN bytes of `mac`, in constant time. */
function macMatches(mac: Uint8Array, got: Uint8Array, at: number): boolean {
  let diff = 0;
  for (let i = 0; i < MAC_LEN; i++) diff |= mac[i]! ^ got[at + i]!;
  return diff === 0;
}

export class SecurityLayer {
  readonly qop: LayerQop;
  readonly cipher: CipherName | undefined;
  /** Our maxbuf: the largest token unwrap() accepts. */
  readonly maxbuf: number;
  /** The peer's maxbuf: the largest token wrap() may produce. */
  readonly peerMaxbuf: number;
  /** Security strength factor: 1 for integrity only, else the cipher's key strength. */
  readonly ssf: number;
  private readonly spec: CipherSpec | undefined;
  private readonly send: Direction;
  private readonly receive: Direction;
  private failure: DigestMD5Error | undefined;
  private destroyed = false;

  constructor(p: SecurityLayerParams) {
    if (p.ha1.length !== 16) throw new DigestMD5Error('bad-option', 'H(A1) must be 16 bytes');
    if (p.qop === 'auth-conf' && p.cipher === undefined) throw new DigestMD5Error('bad-option', 'auth-conf needs a cipher');
    this.qop = p.qop;
    this.cipher = p.qop === 'auth-conf' ? p.cipher : undefined;
    this.maxbuf = p.maxbuf;
    this.peerMaxbuf = p.peerMaxbuf;
    this.spec = this.cipher !== undefined ? cipherSpec(this.cipher) : undefined;
    this.ssf = this.spec?.ssf ?? 1;

    const { kic, kis } = deriveIntegrityKeys(p.ha1, KIC, KIS);
    let kcc: Uint8Array | undefined;
    let kcs: Uint8Array | undefined;
    try {
      if (this.spec) ({ kcc, kcs } = deriveConfidentialityKeys(p.ha1, this.spec.n));
      const client = p.side === 'client';
      const sendKi = client ? kic : kis;
      const recvKi = client ? kis : kic;
      const sendKc = client ? kcc : kcs;
      const recvKc = client ? kcs : kcc;
      this.send = {
        seq: p.initialSeq?.send ?? 0,
        mac: hmacMd5(sendKi),
        cipher: this.spec && sendKc ? this.spec.create(sendKc, 'encrypt') : undefined,
      };
      this.receive = {
        seq: p.initialSeq?.receive ?? 0,
        mac: hmacMd5(recvKi),
        cipher: this.spec && recvKc ? this.spec.create(recvKc, 'decrypt') : undefined,
      };
    } finally {
      // The keyed states and ciphers hold what they need: no key stays in these arrays.
      kic.fill(0);
      kis.fill(0);
      kcc?.fill(0);
      kcs?.fill(0);
    }
  }

  /** The largest plaintext whose token fits the peer's maxbuf. */
  get maxPlaintext(): number {
    const room = this.peerMaxbuf - TRAILER_LEN;
    const bs = this.spec?.blockSize ?? 1;
    if (bs === 1) return Math.max(0, room - MAC_LEN);
    // msg ‖ pad(1..bs) ‖ MAC must fill whole blocks within `room`.
    return Math.max(0, Math.floor(room / bs) * bs - MAC_LEN - 1);
  }

  /** Whether a fatal error ended this layer. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Protects one message; the token carries no length prefix (see framing.ts). */
  wrap(plain: Uint8Array): Uint8Array {
    this.checkUsable();
    if (!(plain instanceof Uint8Array)) throw new DigestMD5Error('bad-option', 'wrap() takes a Uint8Array');
    if (plain.length > this.maxPlaintext) {
      throw new DigestMD5Error(
        'too-large',
        `message of ${plain.length} bytes exceeds the ${this.maxPlaintext} the peer's maxbuf ${this.peerMaxbuf} allows; split it`,
      );
    }
    const d = this.send;
    if (d.seq >= SEQ_LIMIT) {
      throw new DigestMD5Error('sequence', 'sequence numbers exhausted (2^32 messages): authenticate again');
    }
    const seq = SEQ;
    writeUint32BE(seq, 0, d.seq);
    const mac = d.mac.mac(seq, plain, MAC_OUT);
    let token: Uint8Array;
    if (this.qop === 'auth-int') {
      // msg ‖ MAC(10) ‖ 0x0001 ‖ seq
      token = outputBytes(plain.length + MAC_LEN + TRAILER_LEN);
      token.set(plain, 0);
      copyMac(mac, token, plain.length);
    } else {
      // CIPHER(msg ‖ pad ‖ MAC(10)) ‖ 0x0001 ‖ seq, encrypted in place in the token buffer.
      const bs = this.spec!.blockSize;
      const pad = bs === 1 ? 0 : bs - ((plain.length + MAC_LEN) % bs);
      const ctLen = plain.length + pad + MAC_LEN;
      token = outputBytes(ctLen + TRAILER_LEN);
      if (bs === 1) {
        // A stream cipher encrypts the message straight into the token, then the MAC after
        // it: one 64 KiB copy fewer than encrypting a copy in place (~2% of rc4's wrap+unwrap).
        d.cipher!.process(plain, token.subarray(0, plain.length));
        copyMac(mac, token, plain.length);
        const macPart = token.subarray(plain.length, ctLen);
        d.cipher!.process(macPart, macPart);
      } else {
        token.set(plain, 0);
        token.fill(pad, plain.length, plain.length + pad);
        copyMac(mac, token, plain.length + pad);
        const body = token.subarray(0, ctLen);
        d.cipher!.process(body, body);
      }
    }
    const t = token.length - TRAILER_LEN;
    token[t] = 0x00;
    token[t + 1] = 0x01;
    writeUint32BE(token, t + 2, d.seq);
    d.seq++;
    return token;
  }

  /**
   * Checks and opens one token. A token larger than our maxbuf is refused without
   * consuming anything; any MAC, padding, message-type or sequence failure ends the layer.
   * With auth-int the plaintext returned is a view into `token` (no copy: a 64 KiB copy
   * and allocation measured a fifth of wrap+unwrap): copy it before reusing that memory.
   */
  unwrap(token: Uint8Array): Uint8Array {
    this.checkUsable();
    if (!(token instanceof Uint8Array)) throw new DigestMD5Error('bad-option', 'unwrap() takes a Uint8Array');
    if (token.length > this.maxbuf) {
      throw new DigestMD5Error('too-large', `token of ${token.length} bytes exceeds our maxbuf ${this.maxbuf}`);
    }
    try {
      return this.qop === 'auth-int' ? this.openIntegrity(token) : this.openConfidential(token);
    } catch (e) {
      this.failure = e instanceof DigestMD5Error ? e : new DigestMD5Error('integrity', String(e));
      this.destroyKeys();
      throw this.failure;
    }
  }

  private openIntegrity(token: Uint8Array): Uint8Array {
    const min = MAC_LEN + TRAILER_LEN;
    if (token.length < min) throw new DigestMD5Error('integrity', `token of ${token.length} bytes is shorter than the ${min} of MAC and trailer`);
    const t = token.length - TRAILER_LEN;
    const msg = token.subarray(0, t - MAC_LEN);
    const seq = token.subarray(t + 2);
    const macOk = macMatches(this.receive.mac.mac(seq, msg, MAC_OUT), token, t - MAC_LEN);
    this.checkTrailer(token, t, macOk);
    return msg; // a view into the token: no copy (see unwrap())
  }

  private openConfidential(token: Uint8Array): Uint8Array {
    const bs = this.spec!.blockSize;
    const t = token.length - TRAILER_LEN;
    const minCt = bs === 1 ? MAC_LEN : Math.ceil((MAC_LEN + 1) / bs) * bs;
    if (t < minCt) throw new DigestMD5Error('integrity', `token of ${token.length} bytes is too short for ${this.cipher}`);
    if (t % bs !== 0) throw new DigestMD5Error('integrity', `encrypted part of ${t} bytes is not a whole number of ${bs}-byte blocks`);
    const body = this.receive.cipher!.process(token.subarray(0, t), new Uint8Array(t));
    let msgLen = t - MAC_LEN;
    let padOk = true;
    if (bs > 1) {
      // Padding: 1..bs bytes, each equal to the count. A bad pad still goes through the MAC
      // check below, over the whole prefix, so both failures take the same path and report alike.
      const pad = body[t - MAC_LEN - 1]!;
      padOk = pad >= 1 && pad <= bs;
      let diff = 0;
      const from = t - MAC_LEN - (padOk ? pad : 0);
      for (let i = from; i < t - MAC_LEN; i++) diff |= body[i]! ^ pad;
      padOk = padOk && diff === 0;
      if (padOk) msgLen = from;
    }
    const msg = body.subarray(0, msgLen);
    const seq = token.subarray(t + 2);
    const macOk = macMatches(this.receive.mac.mac(seq, msg, MAC_OUT), body, t - MAC_LEN);
    this.checkTrailer(token, t, macOk && padOk);
    return msg;
  }

  /** Message type and sequence number, after the MAC (which covers the sequence number). */
  private checkTrailer(token: Uint8Array, t: number, macOk: boolean): void {
    if (!macOk) throw new DigestMD5Error('integrity', 'MAC or padding check failed: the token was altered or is not from this session');
    if (token[t] !== 0x00 || token[t + 1] !== 0x01) throw new DigestMD5Error('integrity', 'message type is not 0x0001');
    const got = readUint32BE(token, t + 2);
    if (got !== this.receive.seq) {
      throw new DigestMD5Error('sequence', `sequence number ${got} where ${this.receive.seq} was expected (replayed, dropped or reordered token)`);
    }
    this.receive.seq++;
  }

  private checkUsable(): void {
    if (this.destroyed) throw new DigestMD5Error('bad-state', 'the security layer was destroyed');
    if (this.failure) throw new DigestMD5Error('bad-state', `the security layer failed earlier (${this.failure.code}) and cannot be used`);
  }

  /** Wipes the MAC keys' states and the ciphers' keys (a failed or destroyed layer is never used again). */
  private destroyKeys(): void {
    this.send.mac.destroy();
    this.receive.mac.destroy();
    this.send.cipher?.destroy();
    this.receive.cipher?.destroy();
  }

  /** Wipes the keys; every later call throws. */
  destroy(): void {
    this.destroyed = true;
    this.destroyKeys();
  }
}
