// The Node entry point: everything of the browser-safe core (which on Node already
// runs on node:crypto through the #crypto import condition), plus Node-only adapters.

export * from './index.js';
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
