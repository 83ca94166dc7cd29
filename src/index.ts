// digest-md5: SASL DIGEST-MD5 (RFC 2831), client and server, for every JavaScript
// runtime. This entry point is browser-safe; `digest-md5` on Node adds node:crypto speed.

export { DigestMD5Client, type DigestMD5ClientOptions } from './client.js';
export { DigestMD5Server, type DigestMD5ServerOptions } from './server.js';
export { DigestMD5ServerConfig } from './server-config.js';
export { DigestMD5Error, type DigestMD5ErrorCode } from './errors.js';
export type { Credential, CredentialQuery, CredentialStore } from './credentials.js';
export { LocalVerifier, type Verifier, type VerifyRequest, type VerifyResult, type ServerOffer } from './verifier.js';
export {
  HashedCredentialStore,
  hashCredentials,
  formatRecord,
  parseRecord,
  HASH_FORMS,
  DEFAULT_HASH_FORMS,
  type HashForm,
  type HashEntry,
  type HashedCredentialRecord,
  type HashCredentialsOptions,
  type HashedCredentialStoreOptions,
} from './stores/hashed-credentials.js';
export {
  computeA2,
  computeHA1,
  computeResponse,
  computeRspauth,
  hashUserRealmPassword,
  type A1Inputs,
  type ResponseInputs,
} from './digest.js';
export {
  parseChallenge,
  parseResponse,
  parseResponseAuth,
  serialiseChallenge,
  serialiseResponse,
  serialiseResponseAuth,
  formatNc,
  MAX_CHALLENGE_SIZE,
  MAX_RESPONSE_SIZE,
  type DigestChallenge,
  type DigestResponse,
  type Qop,
} from './messages.js';
export { parseDirectives, type Directive } from './directives.js';
export { SecurityLayer, type LayerQop, type SecurityLayerParams } from './layer/security-layer.js';
export { frame, splitFrames, wrapFramed, FrameDecoder } from './layer/framing.js';
export { CIPHER_NAMES, DEFAULT_CIPHERS, type CipherName } from './layer/ciphers/index.js';
export { ssfOf } from './negotiate.js';
export { ServerSessions, type ServerSessionsOptions, type AuthContext, type SessionStats } from './sessions.js';
export { ClientContextCache, type ClientContextCacheOptions } from './client-cache.js';
export { NonceIssuer, readNonceServerId, type NonceIssuerOptions, type NonceInfo } from './nonce.js';
export { MemoryNonceStore, LruTtlCache, type NonceStore, type Clock } from './stores/memory.js';
export { backend as cryptoBackend } from '#crypto';
