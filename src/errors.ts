// One error class for the whole mechanism, with a stable `code` callers can switch on.
// The message names the rule that was broken; it never carries a secret.

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type DigestMD5ErrorCode =
  /** The bytes break the RFC 2831 §7 grammar or a directive's multiplicity or value rules. */
  | 'malformed'
  /** An input is over its size limit (checked before parsing). */
  | 'too-large'
  /** The peer asks for something this implementation does not do (algorithm, charset, qop). */
  | 'unsupported'
  /** Allowed by the protocol but refused by the configured policy (no common qop, weak cipher). */
  | 'policy'
  /** The response names something the server did not offer (nonce, realm, qop, digest-uri, nc). */
  | 'invalid-response'
  /** The credentials do not match (wrong password or unknown user: deliberately not told apart). */
  | 'auth-failed'
  /** The server's rspauth did not prove knowledge of the password. */
  | 'mutual-auth-failed'
  /** The authenticated user may not act as the requested authzid. */
  | 'authz-failed'
  /** A call out of order: step after completion or failure, wrap before completion. */
  | 'bad-state'
  /** An application option is invalid (caught when the object is made). */
  | 'bad-option'
  /** A credential store or verifier failed (not a wrong password). */
  | 'backend-failed'
  /** A security-layer token failed its MAC, padding or framing check (fatal for the layer). */
  | 'integrity'
  /** The server called the nonce stale twice in a row (the client already retried once). */
  | 'stale'
  /** A security-layer token is out of sequence (replayed, dropped or reordered), or the sequence numbers are exhausted. */
  | 'sequence';

export class DigestMD5Error extends Error {
  readonly code: DigestMD5ErrorCode;

  constructor(code: DigestMD5ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DigestMD5Error';
    this.code = code;
  }
}

/** Throws a `malformed` error; a helper so parsers read as a list of rules. */
export function malformed(message: string): never {
  throw new DigestMD5Error('malformed', message);
}
