// Boundary checks shared by the confidentiality ciphers (rc4.ts, des.ts, aes.ts): argument
// errors are 'bad-option', a received length no cipher could have produced is 'malformed'.
import { DigestMD5Error } from '../../errors.js';

/** A Uint8Array, also one from another realm (where `instanceof` fails). */
export function isBytes(a: unknown): a is Uint8Array {
  return a instanceof Uint8Array || (ArrayBuffer.isView(a) && a.constructor.name === 'Uint8Array');
}

/** Checks that `value` is a Uint8Array of exactly `length` bytes; `what` names it in the message. */
export function checkBytes(what: string, value: unknown, length: number): Uint8Array {
  if (!isBytes(value)) throw new DigestMD5Error('bad-option', `${what} must be a Uint8Array`);
  if (value.length !== length) {
    throw new DigestMD5Error('bad-option', `${what} must be ${length} bytes, got ${value.length}`);
  }
  return value;
}

/** Checks a constructor's `direction` argument; true for 'encrypt'. */
export function checkDirection(name: string, direction: unknown): boolean {
  if (direction !== 'encrypt' && direction !== 'decrypt') {
    throw new DigestMD5Error('bad-option', `${name} direction must be 'encrypt' or 'decrypt'`);
  }
  return direction === 'encrypt';
}

/**
 * Checks the arguments of `process()` and returns the array to write into: `output` cut to
 * `input.length`, or a new array when it is omitted. `name` is the cipher, as the messages
 * show it; `blockSize` above 1 requires `input` to be a multiple of it.
 */
export function outputFor(name: string, input: Uint8Array, output: Uint8Array | undefined, blockSize: number): Uint8Array {
  if (!isBytes(input)) throw new DigestMD5Error('bad-option', `${name} input must be a Uint8Array`);
  if (blockSize > 1 && input.length % blockSize !== 0) {
    // In the security layer this is a received buffer that cannot be ciphertext.
    throw new DigestMD5Error('malformed', `${name} input length ${input.length} is not a multiple of ${blockSize}`);
  }
  if (output === undefined) return new Uint8Array(input.length);
  if (!isBytes(output)) throw new DigestMD5Error('bad-option', `${name} output must be a Uint8Array`);
  if (output.length < input.length) {
    throw new DigestMD5Error('bad-option', `${name} output holds ${output.length} bytes, input has ${input.length}`);
  }
  if (
    output.buffer === input.buffer &&
    output.byteOffset !== input.byteOffset &&
    output.byteOffset < input.byteOffset + input.length &&
    input.byteOffset < output.byteOffset + input.length
  ) {
    throw new DigestMD5Error('bad-option', `${name} output may be the input itself but must not partly overlap it`);
  }
  return output.length === input.length ? output : output.subarray(0, input.length);
}
