// A CBC cipher that starts in JavaScript and hands its chain to the platform's cipher once a
// large buffer comes through: for "3des" with the Node backend.
//
// Why: OpenSSL's des-ede-cbc runs a 1 KiB buffer about 20% faster than our JavaScript 3DES
// (28.7 against 35.5 µs, measured in one loop in Node 20), but is no faster up to 64 bytes
// (16 bytes: 1.08 against 0.71 µs), and keying it is a native Cipher object per direction,
// four per handshake, which cost the 3des handshake about a fifth of its time (26.6k/s with
// OpenSSL keyed at once, against 32.8k/s for the portable backend, in one bench run). So the
// layer keys JavaScript DES at the handshake, and the first buffer of HANDOFF_AT bytes or
// more moves the stream to OpenSSL for good, continuing the CBC chain from where JavaScript
// left it. The ciphertext is the same either way: CBC is one chain across messages
// (RFC 2831 §2.4), whichever code computes it.
import type { NativeCbc, NativeCbcAlgorithm, NativeCbcFactory } from '../../crypto/types.js';
import { DigestMD5Error } from '../../errors.js';
import { outputFor } from './checks.js';
import type { CipherDirection, CipherState } from './types.js';

/** The smallest buffer that moves the stream to the platform cipher (between 256 B, where
 *  OpenSSL is 12% faster, and 1 KiB, where the saving repays keying it several times over). */
export const HANDOFF_AT = 512;

/** A JavaScript CBC cipher whose chain can be read out. */
export interface PortableCbc extends CipherState {
  chainValue(): Uint8Array;
}

export class HandoffCbc implements CipherState {
  private portable: PortableCbc | undefined;
  private native: NativeCbc | undefined;
  /** Kept for the handoff only; wiped at the handoff or destroy(). */
  private readonly key: Uint8Array;
  private handoffTried = false;
  private destroyed = false;

  /**
   * `portable` is keyed with `key` already; `key` becomes this object's, for keying
   * `algorithm` through `factory` at the handoff, and is wiped then or at destroy(). Where
   * the factory refuses the algorithm, JavaScript keeps the stream (and the key is wiped
   * all the same: there is one try).
   */
  constructor(
    private readonly name: string,
    portable: PortableCbc,
    private readonly factory: NativeCbcFactory,
    private readonly algorithm: NativeCbcAlgorithm,
    key: Uint8Array,
    private readonly direction: CipherDirection,
    private readonly blockSize: number,
  ) {
    this.portable = portable;
    this.key = key;
  }

  /** Which code runs the stream now (for tests and diagnostics). */
  get engine(): 'portable' | 'native' {
    return this.native ? 'native' : 'portable';
  }

  process(input: Uint8Array, output?: Uint8Array): Uint8Array {
    if (this.destroyed) throw new DigestMD5Error('bad-state', `${this.name} used after destroy()`);
    if (this.native) return this.viaNative(this.native, input, output);
    const portable = this.portable!;
    if (input.length >= HANDOFF_AT && !this.handoffTried) {
      this.handoffTried = true;
      const chain = portable.chainValue();
      const native = this.factory(this.algorithm, this.key, chain, this.direction);
      chain.fill(0);
      this.key.fill(0);
      if (native) {
        this.native = native;
        this.portable = undefined;
        portable.destroy();
        return this.viaNative(native, input, output);
      }
    }
    return portable.process(input, output);
  }

  /** The platform cipher behind the same checks and return value as the JavaScript one. */
  private viaNative(native: NativeCbc, input: Uint8Array, output: Uint8Array | undefined): Uint8Array {
    const out = outputFor(this.name, input, output, this.blockSize);
    native.process(input, out);
    return out;
  }

  destroy(): void {
    this.destroyed = true;
    this.key.fill(0);
    this.portable?.destroy();
    this.native?.destroy();
  }
}
