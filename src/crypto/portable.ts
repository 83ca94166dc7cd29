// Portable crypto backend: @noble/hashes, pure JavaScript, for browsers, Deno and
// any runtime without node:crypto. Selected by the package's `#crypto` import map.
import { hmac } from '@noble/hashes/hmac.js';
import { md5 as nobleMd5 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { CryptoBackend, HmacMd5, NativeCbcFactory } from './types.js';
import { randomBytes } from './random.js';

export { randomBytes };
export const backend = 'portable' as const;

export function md5(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return nobleMd5(parts[0]!);
  const h = nobleMd5.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

export function hmacMd5(key: Uint8Array): HmacMd5 {
  // Keyed once: each mac() clones the state that already absorbed both pads,
  // which saves two MD5 blocks per message.
  const keyed = hmac.create(nobleMd5, key);
  return {
    mac(...parts: Uint8Array[]): Uint8Array {
      const h = keyed.clone();
      for (const p of parts) h.update(p);
      return h.digest();
    },
  };
}

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = hmac.create(sha256, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** No platform ciphers here: the security layer uses its TypeScript ones. */
export const nativeCbc: NativeCbcFactory | undefined = undefined;

({ backend, md5, hmacMd5, hmacSha256, randomBytes, nativeCbc }) satisfies CryptoBackend;
