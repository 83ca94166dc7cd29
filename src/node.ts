// The Node entry point: everything of the browser-safe core (which on Node already
// runs on node:crypto through the #crypto import condition), plus Node-only adapters.

export * from './index.js';
export { SecureStream, secureStream, type SecureStreamOptions, type SecureStreamStats } from './node/stream.js';
export {
  ProtocolServer,
  createProtocolServer,
  ProtocolClient,
  connectProtocolClient,
  ProtocolError,
  SAMPLE_SERVICE,
  DEFAULT_STORE_LIMITS,
  type ProtocolServerOptions,
  type ProtocolServerEvents,
  type SessionIdentity,
  type ConnectProtocolOptions,
  type ProtocolClientOptions,
  type ProtocolReply,
  type ProtocolSaslOptions,
  type ProtocolErrorCode,
  type StoreLimits,
} from './node/protocol.js';
export { CredentialFile, CredentialFileError, type CredentialFileOptions } from './node/credential-file.js';
export {
  AuthServer,
  createAuthServer,
  type AuthServerOptions,
  type AuthServerTlsOptions,
  type AuthServerStats,
  type AuthServerEvents,
  type AuthRequestEvent,
  type Pem,
} from './node/authd.js';
export { RemoteVerifier, type RemoteVerifierOptions, type RemoteVerifierStats } from './node/remote-verifier.js';
