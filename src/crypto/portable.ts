// Portable crypto backend, pure JavaScript, for browsers, Deno and any runtime without
// node:crypto: MD5 and HMAC-MD5 of our own (md5.ts: several times faster than
// @noble/hashes for DIGEST-MD5's short inputs).
// Selected by the package's `#crypto` import map.
import { HmacMd5State, md5 } from './md5.js';
import type { CryptoBackend, HmacMd5, NativeCbcFactory } from './types.js';
import { randomBytes, randomInto } from './random.js';

export { randomBytes, randomInto };
export const backend = 'portable' as const;

export { md5 };

export function hmacMd5(key: Uint8Array): HmacMd5 {
  // Keyed once: the inner and outer pads are absorbed a single time (two MD5 blocks saved per message).
  return new HmacMd5State(key);
}

/** No platform ciphers here: the security layer uses its TypeScript ones. */
export const nativeCbc: NativeCbcFactory | undefined = undefined;

({ backend, md5, hmacMd5, randomBytes, randomInto, nativeCbc }) satisfies CryptoBackend;
