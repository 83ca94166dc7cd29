// The sample TCP protocol of docs/protocol.md, a small IMAP-like line protocol that
// authenticates with DIGEST-MD5 and then runs inside the negotiated security layer.

export {
  ProtocolServer,
  createProtocolServer,
  type ProtocolServerOptions,
  type ProtocolServerEvents,
  type SessionIdentity,
} from './protocol/server.js';
export {
  ProtocolClient,
  connectProtocolClient,
  type ConnectProtocolOptions,
  type ProtocolClientOptions,
  type ProtocolReply,
  type ProtocolSaslOptions,
} from './protocol/client.js';
export { ProtocolError, SAMPLE_SERVICE, type ProtocolErrorCode } from './protocol/wire.js';
export { DEFAULT_STORE_LIMITS, type StoreLimits } from './protocol/store.js';
