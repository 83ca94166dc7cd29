// A server's options, checked once, with everything an exchange derives from them: the
// protection policy and offer, hosts and realms, the verifier, and the fixed parts of its
// digest-challenge. A listener makes one and creates each connection's DigestMD5Server
// from it, as Cyrus reads its configuration once at sasl_server_init: measured, checking
// the options and serialising the offer were a tenth of a handshake.

import { outputBytes } from './alloc.js';
import { DigestMD5Error } from './errors.js';
import type { CipherName } from './layer/ciphers/index.js';
import { DEFAULT_MAXBUF, MAX_MAXBUF, MIN_MAXBUF, serialiseChallenge, type Qop } from './messages.js';
import { makePolicy, serverOffer, type ProtectionPolicy } from './negotiate.js';
import type { DigestMD5ServerOptions } from './server.js';
import { LocalVerifier, type ServerOffer, type Verifier } from './verifier.js';

export class DigestMD5ServerConfig {
  /** The options as given, with the defaults the exchange needs filled in. */
  readonly options: Readonly<DigestMD5ServerOptions> & { readonly utf8: boolean };
  /** Lower-cased host names, or "*" for any. */
  readonly hosts: readonly string[] | '*';
  /** The first host as given: the default realm and the default sessions' server id. */
  readonly firstHost: string;
  readonly realms: readonly string[];
  readonly policy: ProtectionPolicy;
  /** What the challenge offers: qops, and ciphers (empty unless auth-conf is offered). */
  readonly offer: { readonly qops: readonly Qop[]; readonly ciphers: readonly CipherName[] };
  readonly maxbuf: number;
  /** What the challenge offers, as a verifier is told it. */
  readonly serverOffer: ServerOffer;
  readonly verifier: Verifier;
  /** A fresh challenge without stale=true: the bytes before and after the nonce's value. */
  private readonly challengeHead: Uint8Array;
  private readonly challengeTail: Uint8Array;

  constructor(options: DigestMD5ServerOptions) {
    const o = options;
    if (typeof o.service !== 'string' || o.service.length === 0 || o.service.includes('/')) {
      throw new DigestMD5Error('bad-option', 'service must be a non-empty name without "/"');
    }
    const hostList = typeof o.hosts === 'string' ? [o.hosts] : [...(o.hosts ?? [])];
    if (hostList.length === 0 || hostList.some((h) => typeof h !== 'string' || h.length === 0)) {
      throw new DigestMD5Error('bad-option', 'hosts must name at least one host (or "*")');
    }
    this.hosts = hostList.includes('*') ? '*' : hostList.map((h) => h.toLowerCase());
    this.firstHost = hostList[0]!;
    if (o.realms === undefined && this.hosts === '*') {
      throw new DigestMD5Error('bad-option', 'realms must be given when hosts is "*"');
    }
    this.realms = o.realms ? [...o.realms] : [this.firstHost];
    this.policy = makePolicy(o);
    this.maxbuf = o.maxbuf ?? DEFAULT_MAXBUF;
    if (!Number.isInteger(this.maxbuf) || this.maxbuf < MIN_MAXBUF || this.maxbuf > MAX_MAXBUF) {
      throw new DigestMD5Error('bad-option', `maxbuf must be an integer in ${MIN_MAXBUF}..${MAX_MAXBUF}`);
    }
    const offer = serverOffer(this.policy, this.maxbuf);
    this.offer = { qops: offer.qops, ciphers: offer.qops.includes('auth-conf') ? offer.ciphers : [] };
    this.serverOffer = { realms: this.realms, qops: this.offer.qops, ciphers: this.offer.ciphers, maxbuf: this.maxbuf };
    if (o.verifier === undefined && o.credentials === undefined) {
      throw new DigestMD5Error('bad-option', 'either credentials or verifier must be given');
    }
    this.verifier = o.verifier ?? new LocalVerifier(o.credentials!);
    if (o.unsafeFixedNonce !== undefined && (o.unsafeFixedNonce.length === 0 || o.unsafeFixedNonce.includes('"'))) {
      throw new DigestMD5Error('bad-option', 'unsafeFixedNonce must be non-empty and free of quotes');
    }
    this.options = { ...o, utf8: o.utf8 ?? true };

    // The challenge with an empty nonce, cut around it. `nonce=""` is found as the first
    // such run: inside a realm's quoted value every quote is escaped, so it cannot occur there.
    const model = this.serialiseChallenge(new Uint8Array(0), false);
    const at = indexOf(model, NONCE_EMPTY) + NONCE_EMPTY.length - 1;
    this.challengeHead = model.slice(0, at);
    this.challengeTail = model.slice(at);
  }

  /**
   * What is wrong with a digest-uri for this server (serv-type/host[/serv-name], RFC 2831
   * §2.1.2), or undefined when it is right. Right ones are remembered, up to a bound: the
   * same few arrive on every handshake, and checking one made an array and five strings.
   */
  digestUriProblem(uri: string): string | undefined {
    if (this.goodDigestUris.has(uri)) return undefined;
    const problem = this.checkDigestUri(uri);
    if (problem === undefined) {
      if (this.goodDigestUris.size >= MAX_GOOD_DIGEST_URIS) this.goodDigestUris.clear();
      this.goodDigestUris.add(uri);
    }
    return problem;
  }

  private readonly goodDigestUris = new Set<string>();

  private checkDigestUri(uri: string): string | undefined {
    // digest-uri = serv-type "/" host [ "/" serv-name ]  (RFC 2831 §2.1.2)
    const parts = uri.split('/');
    if (parts.length < 2 || parts.length > 3) return `digest-uri "${uri}" is not serv-type/host[/serv-name]`;
    const [servType, host, servName] = parts as [string, string, string | undefined];
    const { service, serviceName } = this.options;
    if (servType.toLowerCase() !== service.toLowerCase()) return `digest-uri service "${servType}" is not "${service}"`;
    const hostLc = host.toLowerCase();
    if (host.length === 0 || (this.hosts !== '*' && !this.hosts.includes(hostLc))) {
      return `digest-uri host "${host}" is not a name of this server`;
    }
    if (serviceName !== undefined) {
      if (servName === undefined || servName.toLowerCase() !== serviceName.toLowerCase()) return `digest-uri serv-name must be "${serviceName}"`;
    } else if (servName !== undefined && servName.toLowerCase() !== hostLc) {
      // RFC 2831 §2.1.2: serv-name is omitted when equal to host; a different one names a replicated service we are not.
      return `digest-uri serv-name "${servName}" does not name this service`;
    }
    return undefined;
  }

  /**
   * The digest-challenge for `nonce`: the prepared one around it, unless it is stale or the
   * nonce needs escaping (our base64url nonces never do; a test's fixed one may).
   */
  challenge(nonce: Uint8Array, stale: boolean): Uint8Array {
    if (stale || needsEscaping(nonce)) return this.serialiseChallenge(nonce, stale);
    const head = this.challengeHead;
    const out = outputBytes(head.length + nonce.length + this.challengeTail.length);
    out.set(head, 0);
    out.set(nonce, head.length);
    out.set(this.challengeTail, head.length + nonce.length);
    return out;
  }

  /** The digest-challenge serialised in full (stale ones, and nonces that may need escaping). */
  serialiseChallenge(nonce: Uint8Array, stale: boolean): Uint8Array {
    return serialiseChallenge({
      realms: this.realms,
      nonce,
      stale,
      qopOptions: this.offer.qops,
      maxbuf: this.maxbuf,
      utf8: this.options.utf8,
      ciphers: this.offer.ciphers,
    });
  }
}

/** Digest-uris remembered as right; past this many the memory starts again (hosts="*" may see many). */
const MAX_GOOD_DIGEST_URIS = 64;

const NONCE_EMPTY = Uint8Array.from('nonce=""', (c) => c.charCodeAt(0));

/** Whether a quoted-string of these bytes would need quoted-pairs. */
function needsEscaping(value: Uint8Array): boolean {
  for (let i = 0; i < value.length; i++) if (value[i] === 0x22 || value[i] === 0x5c) return true;
  return false;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  next: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue next;
    return i;
  }
  throw new Error('internal: the challenge has no nonce directive');
}
