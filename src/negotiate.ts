// Negotiation of the quality of protection and cipher (RFC 2831 §2.1.1-2.1.2):
// checking the application's lists, the server's offer, the client's choice, and
// a strength policy in the manner of Cyrus SASL's min/max SSF.
//
// The qop and cipher offers are not authenticated: a man in the middle can strip
// the strong ones. So weak ciphers are off unless named, and minSsf lets either
// side refuse anything below what it needs.

import { DigestMD5Error } from './errors.js';
import { cipherSpec, DEFAULT_CIPHERS, isCipherName, type CipherName } from './layer/ciphers/index.js';
import { isQop, QOPS, type Qop } from './messages.js';

export interface ProtectionPolicy {
  /** qops in preference order (client) or offered (server). */
  readonly qops: readonly Qop[];
  /** Ciphers in preference order (client) or offered (server). */
  readonly ciphers: readonly CipherName[];
  /** Refuse anything weaker: 0 = auth, 1 = auth-int, else the cipher's key strength. */
  readonly minSsf: number;
  readonly maxSsf: number;
  /** Every (qop, cipher) the policy accepts, in its order of preference: derived once, read on every exchange. */
  readonly allowed: readonly Protection[];
}

export interface PolicyOptions {
  qop?: readonly Qop[];
  ciphers?: readonly CipherName[];
  minSsf?: number;
  maxSsf?: number;
}

export interface Protection {
  readonly qop: Qop;
  readonly cipher: CipherName | undefined;
}

/** The strength factor of a qop (and cipher), as Cyrus counts it. */
export function ssfOf(qop: Qop, cipher?: CipherName): number {
  if (qop === 'auth') return 0;
  if (qop === 'auth-int') return 1;
  return cipherSpec(cipher!).ssf;
}

function checkList<T extends string>(list: readonly string[], what: string, known: (s: string) => s is T, all: readonly string[]): T[] {
  if (!Array.isArray(list) || list.length === 0) throw new DigestMD5Error('bad-option', `${what} must list at least one value`);
  const out: T[] = [];
  for (const x of list) {
    if (typeof x !== 'string' || !known(x)) throw new DigestMD5Error('bad-option', `${what}: unknown value "${String(x)}" (one of ${all.join(', ')})`);
    if (out.includes(x)) throw new DigestMD5Error('bad-option', `${what}: "${x}" listed twice`);
    out.push(x);
  }
  return out;
}

/** Validates an application's qop list: known values, no repeats, not empty. */
export function checkQopList(list: readonly string[], what: string): Qop[] {
  return checkList(list, what, isQop, QOPS);
}

/**
 * The last policy made, with the options it was made from (the lists copied): an application
 * makes its clients from the same options, so a new client compares a few strings instead of
 * checking its lists and deriving what they allow again. Policies are frozen: they are shared.
 */
let lastPolicy:
  | { qop: readonly unknown[] | undefined; ciphers: readonly unknown[] | undefined; minSsf: unknown; maxSsf: unknown; policy: ProtectionPolicy }
  | undefined;

/** Whether `given` holds the same values as `kept` (a list that passed the checks), or both are absent. */
function sameList(kept: readonly unknown[] | undefined, given: unknown): boolean {
  if (kept === undefined || given === undefined) return kept === given;
  if (!Array.isArray(given) || given.length !== kept.length) return false;
  for (let i = 0; i < kept.length; i++) if (given[i] !== kept[i]) return false;
  return true;
}

/** Builds and checks a policy from application options. Defaults: qop auth; ciphers aes, rc4, 3des (by SSF). */
export function makePolicy(o: PolicyOptions): ProtectionPolicy {
  const last = lastPolicy;
  if (last && last.minSsf === o.minSsf && last.maxSsf === o.maxSsf && sameList(last.qop, o.qop) && sameList(last.ciphers, o.ciphers)) {
    return last.policy;
  }
  const policy = buildPolicy(o);
  lastPolicy = { qop: o.qop && [...o.qop], ciphers: o.ciphers && [...o.ciphers], minSsf: o.minSsf, maxSsf: o.maxSsf, policy };
  return policy;
}

function buildPolicy(o: PolicyOptions): ProtectionPolicy {
  const qops = checkQopList(o.qop ?? ['auth'], 'qop');
  const ciphers = o.ciphers === undefined ? [...DEFAULT_CIPHERS] : checkList(o.ciphers, 'ciphers', isCipherName, DEFAULT_CIPHERS);
  const minSsf = o.minSsf ?? 0;
  const maxSsf = o.maxSsf ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(minSsf) || minSsf < 0 || !Number.isInteger(maxSsf) || maxSsf < minSsf) {
    throw new DigestMD5Error('bad-option', 'minSsf and maxSsf must be whole numbers with 0 <= minSsf <= maxSsf');
  }
  const allowed = accepted(qops, ciphers, minSsf, maxSsf);
  if (allowed.length === 0) {
    throw new DigestMD5Error('bad-option', `no qop/cipher in the lists meets minSsf ${minSsf}..maxSsf ${maxSsf}`);
  }
  return Object.freeze({ qops: Object.freeze(qops), ciphers: Object.freeze(ciphers), minSsf, maxSsf, allowed: Object.freeze(allowed) });
}

/** Every (qop, cipher) of the lists within the strength bounds, in the lists' order (frozen: they are shared). */
function accepted(qops: readonly Qop[], ciphers: readonly CipherName[], minSsf: number, maxSsf: number): Protection[] {
  const out: Protection[] = [];
  const fits = (ssf: number) => ssf >= minSsf && ssf <= maxSsf;
  for (const qop of qops) {
    if (qop === 'auth-conf') {
      for (const cipher of ciphers) if (fits(ssfOf(qop, cipher))) out.push(Object.freeze({ qop, cipher }));
    } else if (fits(ssfOf(qop))) out.push(Object.freeze({ qop, cipher: undefined }));
  }
  return out;
}

/** What a server with maxbuf `ourMaxbuf` offers under its policy: qop-options and cipher-opts. */
export function serverOffer(p: ProtectionPolicy, ourMaxbuf: number): { qops: Qop[]; ciphers: CipherName[] } {
  const a = p.allowed.filter((x) => fitsMaxbuf(x, ourMaxbuf));
  const qops = p.qops.filter((q) => a.some((x) => x.qop === q));
  const ciphers = p.ciphers.filter((c) => a.some((x) => x.cipher === c));
  return { qops, ciphers };
}

/** A cipher needs the receiver's maxbuf to hold at least one message (AES: 32). */
function fitsMaxbuf(x: Protection, maxbuf: number): boolean {
  return x.cipher === undefined || maxbuf >= cipherSpec(x.cipher).minMaxbuf;
}

/** Whether the server's policy accepts what a response chose (both maxbufs must fit the cipher). */
export function serverAccepts(p: ProtectionPolicy, qop: Qop, cipher: string | undefined, maxbufs: readonly number[]): boolean {
  for (const x of p.allowed) {
    if (x.qop === qop && (qop !== 'auth-conf' || x.cipher === cipher) && fitsAll(x, maxbufs)) return true;
  }
  return false;
}

function fitsAll(x: Protection, maxbufs: readonly number[]): boolean {
  for (let i = 0; i < maxbufs.length; i++) if (!fitsMaxbuf(x, maxbufs[i]!)) return false;
  return true;
}

/** The client's choice: the first of its preferences that the server offers and both maxbufs fit. */
export function chooseProtection(
  p: ProtectionPolicy,
  offeredQops: readonly string[],
  offeredCiphers: readonly string[],
  maxbufs: readonly number[] = [],
): Protection {
  for (const x of p.allowed) {
    if (!offeredQops.includes(x.qop) || !fitsAll(x, maxbufs)) continue;
    if (x.qop === 'auth-conf' && !offeredCiphers.includes(x.cipher!)) continue;
    return x;
  }
  const offer = offeredQops.join(',') + (offeredQops.includes('auth-conf') ? ` with ciphers ${offeredCiphers.join(',') || 'none'}` : '');
  const want = p.allowed.map((x) => (x.cipher ? `${x.qop}/${x.cipher}` : x.qop)).join(',');
  throw new DigestMD5Error('policy', `no acceptable protection: the server offers ${offer || 'nothing'}, we accept ${want}`);
}
