// The three DIGEST-MD5 messages of RFC 2831 §2.1 as typed values: the
// digest-challenge, the digest-response and the response-auth (rspauth), each
// parsed with its multiplicity rules and size limit, and serialised strictly.

import { outputBytes } from './alloc.js';
import { decodeLatin1 } from './bytes.js';
import { decodeText, wireBytes } from './charset.js';
import { parseDirectives, parseTokenList, serialiseDirectives, type Directive, type DirectiveOut } from './directives.js';
import { DigestMD5Error, malformed } from './errors.js';

/** RFC 2831 §2.1.1: a challenge is at most 2048 bytes. */
export const MAX_CHALLENGE_SIZE = 2048;
/** RFC 2831 §2.1.2: a response is at most 4096 bytes. */
export const MAX_RESPONSE_SIZE = 4096;

export const DEFAULT_MAXBUF = 65536;
/** RFC 2831 §2.1.1: maxbuf is bigger than 16 and at most 16777215. */
export const MIN_MAXBUF = 17;
export const MAX_MAXBUF = 16777215;

export type Qop = 'auth' | 'auth-int' | 'auth-conf';
export const QOPS: readonly Qop[] = ['auth', 'auth-int', 'auth-conf'];

export function isQop(s: string): s is Qop {
  return (QOPS as readonly string[]).includes(s);
}

export interface DigestChallenge {
  /** The realms offered, in order (may be empty). */
  readonly realms: string[];
  /** The nonce's bytes, echoed unchanged in the response. */
  readonly nonce: Uint8Array;
  /** qop-options, lower-cased, unknown ones kept (callers ignore them); ["auth"] when absent. */
  readonly qopOptions: string[];
  readonly stale: boolean;
  readonly maxbuf: number;
  /** Whether `charset=utf-8` was present. */
  readonly utf8: boolean;
  /** cipher-opts, lower-cased, unknown ones kept; empty when absent. */
  readonly ciphers: string[];
}

export interface DigestResponse {
  readonly username: string;
  /** The username's bytes as sent (hashed as they are when charset is absent). */
  readonly usernameBytes: Uint8Array;
  /** Empty when the directive was absent. */
  readonly realm: string;
  readonly realmBytes: Uint8Array;
  readonly realmPresent: boolean;
  readonly nonce: Uint8Array;
  readonly cnonce: Uint8Array;
  /** nonce-count, parsed from its 8 hex digits. */
  readonly nc: number;
  /** "auth" when the directive was absent. */
  readonly qop: string;
  readonly digestUri: string;
  /** The 32 hex digits of the response, lower-cased. */
  readonly response: string;
  readonly maxbuf: number;
  readonly utf8: boolean;
  readonly cipher: string | undefined;
  /** Undefined when absent or empty (an empty authzid means "none"). */
  readonly authzid: string | undefined;
}

type Multiplicity = 'once' | 'optional' | 'many';

const REQUIRED = new WeakMap<Record<string, Multiplicity>, string[]>();

/** The names a rule set requires, computed once per rule set. */
function requiredOf(rules: Record<string, Multiplicity>): string[] {
  let r = REQUIRED.get(rules);
  if (!r) {
    r = Object.entries(rules)
      .filter(([, m]) => m === 'once')
      .map(([n]) => n);
    REQUIRED.set(rules, r);
  }
  return r;
}

/** Groups directives by name, enforcing each known name's multiplicity; unknown names are ignored. */
function collect(
  list: Directive[],
  rules: Record<string, Multiplicity>,
  what: string,
): Map<string, Directive[]> {
  const seen = new Map<string, Directive[]>();
  for (const d of list) {
    const rule = rules[d.name];
    if (rule === undefined) continue; // RFC 2831 §7: unknown auth-params are ignored
    const prev = seen.get(d.name);
    if (prev !== undefined) {
      if (rule !== 'many') malformed(`directive "${d.name}" appears more than once in the ${what}`);
      prev.push(d);
    } else seen.set(d.name, [d]);
  }
  for (const name of requiredOf(rules)) {
    if (!seen.has(name)) malformed(`directive "${name}" is missing from the ${what}`);
  }
  return seen;
}

function one(map: Map<string, Directive[]>, name: string): Directive | undefined {
  return map.get(name)?.[0];
}

/** A value that is ASCII by the grammar (tokens, numbers, hex). */
function asciiValue(d: Directive): string {
  for (const c of d.value) if (c > 0x7e || c < 0x20) malformed(`directive "${d.name}" must be ASCII`);
  return decodeLatin1(d.value);
}

function checkSize(input: Uint8Array, max: number, what: string): void {
  if (input.length > max) {
    throw new DigestMD5Error('too-large', `${what} is ${input.length} bytes, over the limit of ${max} (RFC 2831 §2.1)`);
  }
  if (input.length === 0) malformed(`${what} is empty`);
}

export function parseMaxbuf(text: string): number {
  // At most 8 digits before conversion: no precision games with huge numbers.
  if (!/^[0-9]{1,8}$/.test(text)) malformed(`maxbuf "${text.slice(0, 20)}" is not a decimal number`);
  const v = Number(text);
  if (v < MIN_MAXBUF || v > MAX_MAXBUF) malformed(`maxbuf ${v} is outside ${MIN_MAXBUF}..${MAX_MAXBUF}`);
  return v;
}

function parseCharset(d: Directive | undefined): boolean {
  if (d === undefined) return false;
  const v = asciiValue(d);
  if (v.toLowerCase() !== 'utf-8') {
    throw new DigestMD5Error('unsupported', `charset "${v}" is not supported (only utf-8, RFC 2831 §2.1.1)`);
  }
  return true;
}

const CHALLENGE_RULES: Record<string, Multiplicity> = {
  realm: 'many',
  nonce: 'once',
  qop: 'optional',
  stale: 'optional',
  maxbuf: 'optional',
  charset: 'optional',
  algorithm: 'once',
  cipher: 'optional',
};

export function parseChallenge(input: Uint8Array): DigestChallenge {
  checkSize(input, MAX_CHALLENGE_SIZE, 'digest-challenge');
  const map = collect(parseDirectives(input), CHALLENGE_RULES, 'digest-challenge');
  const utf8 = parseCharset(one(map, 'charset'));

  const algorithm = asciiValue(one(map, 'algorithm')!);
  if (algorithm.toLowerCase() !== 'md5-sess') {
    throw new DigestMD5Error('unsupported', `algorithm "${algorithm}" is not supported (only md5-sess, RFC 2831 §2.1.1)`);
  }
  const nonce = one(map, 'nonce')!.value;
  if (nonce.length === 0) malformed('nonce is empty');

  const qopD = one(map, 'qop');
  const qopOptions = qopD ? parseTokenList(qopD.value, 'qop-options') : ['auth'];
  if (qopOptions.length === 0) malformed('qop-options is empty');

  const staleD = one(map, 'stale');
  let stale = false;
  if (staleD) {
    const v = asciiValue(staleD).toLowerCase();
    if (v !== 'true' && v !== 'false') malformed(`stale must be "true", not "${v}"`);
    stale = v === 'true';
  }
  const maxbufD = one(map, 'maxbuf');
  const cipherD = one(map, 'cipher');
  return {
    realms: (map.get('realm') ?? []).map((d) => decodeText(d.value, utf8, 'realm')),
    nonce,
    qopOptions,
    stale,
    maxbuf: maxbufD ? parseMaxbuf(asciiValue(maxbufD)) : DEFAULT_MAXBUF,
    utf8,
    ciphers: cipherD ? parseTokenList(cipherD.value, 'cipher-opts') : [],
  };
}

const RESPONSE_RULES: Record<string, Multiplicity> = {
  username: 'once',
  realm: 'optional',
  nonce: 'once',
  cnonce: 'once',
  nc: 'once',
  qop: 'optional',
  'digest-uri': 'once',
  response: 'once',
  maxbuf: 'optional',
  charset: 'optional',
  cipher: 'optional',
  authzid: 'optional',
};

export function parseResponse(input: Uint8Array): DigestResponse {
  checkSize(input, MAX_RESPONSE_SIZE, 'digest-response');
  const map = collect(parseDirectives(input), RESPONSE_RULES, 'digest-response');
  const utf8 = parseCharset(one(map, 'charset'));

  const usernameD = one(map, 'username')!;
  if (usernameD.value.length === 0) malformed('username is empty');
  const realmD = one(map, 'realm');
  const nonce = one(map, 'nonce')!.value;
  if (nonce.length === 0) malformed('nonce is empty');
  const cnonce = one(map, 'cnonce')!.value;
  if (cnonce.length === 0) malformed('cnonce is empty');

  const ncText = asciiValue(one(map, 'nc')!);
  if (!/^[0-9a-fA-F]{8}$/.test(ncText)) malformed(`nc "${ncText.slice(0, 20)}" is not 8 hex digits`);

  const qopD = one(map, 'qop');
  const qop = qopD ? asciiValue(qopD).toLowerCase() : 'auth';
  if (!isQop(qop)) malformed(`qop "${qop.slice(0, 20)}" is not one of ${QOPS.join(', ')}`);

  const response = asciiValue(one(map, 'response')!).toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(response)) malformed('response is not 32 hex digits');

  const cipherD = one(map, 'cipher');
  const cipher = cipherD ? asciiValue(cipherD).toLowerCase() : undefined;
  if (qop === 'auth-conf' && cipher === undefined) malformed('cipher is required with qop=auth-conf');

  const maxbufD = one(map, 'maxbuf');
  const authzidD = one(map, 'authzid');
  // RFC 2831 §2.1.2.1: authzid is UTF-8 whatever the charset.
  const authzid = authzidD && authzidD.value.length > 0 ? decodeText(authzidD.value, true, 'authzid') : undefined;

  return {
    username: decodeText(usernameD.value, utf8, 'username'),
    usernameBytes: usernameD.value,
    realm: realmD ? decodeText(realmD.value, utf8, 'realm') : '',
    realmBytes: realmD ? realmD.value : new Uint8Array(0),
    realmPresent: realmD !== undefined,
    nonce,
    cnonce,
    nc: parseInt(ncText, 16),
    qop,
    digestUri: decodeText(one(map, 'digest-uri')!.value, utf8, 'digest-uri'),
    response,
    maxbuf: maxbufD ? parseMaxbuf(asciiValue(maxbufD)) : DEFAULT_MAXBUF,
    utf8,
    cipher,
    authzid,
  };
}

const RESPONSE_AUTH_RULES: Record<string, Multiplicity> = { rspauth: 'once' };

/** Parses `rspauth=<32 hex>`; other directives are ignored. Returns the lower-cased hex. */
export function parseResponseAuth(input: Uint8Array): string {
  checkSize(input, MAX_CHALLENGE_SIZE, 'response-auth');
  const map = collect(parseDirectives(input), RESPONSE_AUTH_RULES, 'response-auth');
  const v = asciiValue(one(map, 'rspauth')!).toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(v)) malformed('rspauth is not 32 hex digits');
  return v;
}

/** Whether a server message is a response-auth rather than a new challenge. */
export function isResponseAuth(input: Uint8Array): boolean {
  try {
    return parseDirectives(input.subarray(0, MAX_CHALLENGE_SIZE + 1)).some((d) => d.name === 'rspauth');
  } catch {
    return false;
  }
}

export interface ChallengeFields {
  realms: readonly string[];
  nonce: Uint8Array;
  qopOptions: readonly string[];
  stale?: boolean;
  maxbuf?: number;
  utf8: boolean;
  ciphers?: readonly string[];
}

/** Builds a digest-challenge in the order the JDK uses (realms, nonce, qop, stale, maxbuf, charset, algorithm, cipher). */
export function serialiseChallenge(c: ChallengeFields): Uint8Array {
  const list: DirectiveOut[] = [];
  // realm may repeat: serialised one by one, each its own directive list entry.
  const realmParts = c.realms.map((r) => serialiseDirectives([{ name: 'realm', value: wireBytes(r, c.utf8), quote: true }]));
  list.push({ name: 'nonce', value: c.nonce, quote: true });
  list.push({ name: 'qop', value: c.qopOptions.join(','), quote: true });
  if (c.stale) list.push({ name: 'stale', value: 'true', quote: false });
  if (c.maxbuf !== undefined && c.maxbuf !== DEFAULT_MAXBUF) list.push({ name: 'maxbuf', value: String(c.maxbuf), quote: false });
  if (c.utf8) list.push({ name: 'charset', value: 'utf-8', quote: false });
  list.push({ name: 'algorithm', value: 'md5-sess', quote: false });
  if (c.ciphers && c.ciphers.length > 0) list.push({ name: 'cipher', value: c.ciphers.join(','), quote: true });
  return joinLists([...realmParts, serialiseDirectives(list)]);
}

export interface ResponseFields {
  /** Text, or the exact bytes of a response being forwarded. */
  username: string | Uint8Array;
  realm: string | Uint8Array | undefined;
  nonce: Uint8Array;
  cnonce: Uint8Array;
  nc: number;
  qop: Qop;
  digestUri: string;
  response: string;
  maxbuf?: number;
  utf8: boolean;
  cipher?: string;
  authzid?: string;
}

export function formatNc(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

/** Builds a digest-response; `authzid` is sent only when given and non-empty. */
export function serialiseResponse(r: ResponseFields): Uint8Array {
  const list: DirectiveOut[] = [];
  if (r.utf8) list.push({ name: 'charset', value: 'utf-8', quote: false });
  const text = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? wireBytes(v, r.utf8) : v);
  list.push({ name: 'username', value: text(r.username), quote: true });
  if (r.realm !== undefined) list.push({ name: 'realm', value: text(r.realm), quote: true });
  list.push({ name: 'nonce', value: r.nonce, quote: true });
  list.push({ name: 'cnonce', value: r.cnonce, quote: true });
  list.push({ name: 'nc', value: formatNc(r.nc), quote: false });
  list.push({ name: 'qop', value: r.qop, quote: false });
  list.push({ name: 'digest-uri', value: wireBytes(r.digestUri, r.utf8), quote: true });
  list.push({ name: 'response', value: r.response, quote: false });
  if (r.maxbuf !== undefined && r.maxbuf !== DEFAULT_MAXBUF) list.push({ name: 'maxbuf', value: String(r.maxbuf), quote: false });
  if (r.cipher !== undefined) list.push({ name: 'cipher', value: r.cipher, quote: false });
  // RFC 2831 §2.1.2: authzid is UTF-8 whatever the charset.
  if (r.authzid !== undefined && r.authzid.length > 0) list.push({ name: 'authzid', value: r.authzid, quote: true });
  return serialiseDirectives(list);
}

export function serialiseResponseAuth(rspauth: string): Uint8Array {
  return serialiseDirectives([{ name: 'rspauth', value: rspauth, quote: false }]);
}

function joinLists(parts: Uint8Array[]): Uint8Array {
  const nonEmpty = parts.filter((p) => p.length > 0);
  const total = nonEmpty.reduce((n, p) => n + p.length, 0) + Math.max(0, nonEmpty.length - 1);
  const out = outputBytes(total);
  let o = 0;
  nonEmpty.forEach((p, k) => {
    if (k > 0) out[o++] = 0x2c;
    out.set(p, o);
    o += p.length;
  });
  return out;
}
