// Every security layer the library has, as (qop, cipher) pairs, for tests that run each.
import type { LayerQop } from '../../dist/layer/security-layer.js';
import type { CipherName } from '../../dist/layer/ciphers/index.js';

export const LAYER_SPECS: readonly [LayerQop, CipherName | undefined][] = [
  ['auth-int', undefined],
  ['auth-conf', 'aes'],
  ['auth-conf', '3des'],
  ['auth-conf', 'des'],
  ['auth-conf', 'rc4'],
  ['auth-conf', 'rc4-56'],
  ['auth-conf', 'rc4-40'],
];
