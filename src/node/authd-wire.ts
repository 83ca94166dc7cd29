// The wire format between an originating server and the authenticating server (authd),
// docs/authd.md: over TLS, each message is a 4-byte big-endian length and that many
// bytes of UTF-8 JSON; requests carry an id, replies echo it and may come in any order.

import { frame } from '../layer/framing.js';
import { DigestMD5Error, type DigestMD5ErrorCode } from '../errors.js';

export const AUTHD_VERSION = 1;
/** The largest request authd accepts by default: a 4096-byte response is 5464 base64 characters, plus the offer. */
export const DEFAULT_MAX_REQUEST_BYTES = 16 * 1024;
/** The largest reply RemoteVerifier accepts by default (names of up to 4 KiB, escaped). */
export const DEFAULT_MAX_REPLY_BYTES = 64 * 1024;
/** Offers with more realms or ciphers than this are refused. */
export const MAX_OFFER_ITEMS = 64;
/** Refusal messages are cut to this many characters. */
export const MAX_MESSAGE_CHARS = 300;

/** The codes of a refusal: DigestMD5Error codes, so a RemoteVerifier rethrows them as they are. */
export type RefusalCode = Extract<DigestMD5ErrorCode, 'auth-failed' | 'invalid-response' | 'malformed' | 'too-large' | 'unsupported' | 'backend-failed' | 'policy'>;
export const REFUSAL_CODES: readonly RefusalCode[] = ['auth-failed', 'invalid-response', 'malformed', 'too-large', 'unsupported', 'backend-failed', 'policy'];

/** The originating server's view: what its challenge offered. */
export interface OfferMessage {
  realms: string[];
  qop: string[];
  ciphers: string[];
  maxbuf: number;
}

export interface VerifyRequestMessage {
  v: 1;
  id: number;
  type: 'verify';
  /** The digest-response exactly as the client sent it, standard base64. */
  response: string;
  offer?: OfferMessage;
}

export interface AcceptReply {
  v: 1;
  id: number;
  ok: true;
  username: string;
  realm: string;
  /** null when the client sent none. */
  authzid: string | null;
  /** H(A1), the session key, 32 hex digits. */
  ha1: string;
  /** The rspauth value for the response-auth, 32 hex digits. */
  rspauth: string;
}

export interface RefusalReply {
  v: 1;
  /** null for a refusal of the connection or of an unreadable request (authd then closes). */
  id: number | null;
  ok: false;
  code: RefusalCode;
  message: string;
}

export type ReplyMessage = AcceptReply | RefusalReply;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX32 = /^[0-9a-f]{32}$/;

/** Standard padded base64 only; undefined otherwise. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A message as one frame; throws DigestMD5Error('too-large') past `max` bytes. */
export function encodeMessage(message: VerifyRequestMessage | ReplyMessage, max: number): Uint8Array {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > max) throw new DigestMD5Error('too-large', `the authd message is ${body.length} bytes, over the limit of ${max}`);
  return frame(body);
}

/** Text safe for a one-line message: no controls, bounded. */
export function oneLine(text: string, max = MAX_MESSAGE_CHARS): string {
  const t = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

function parseJsonObject(body: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new DigestMD5Error('malformed', `the ${what} is not UTF-8 JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DigestMD5Error('malformed', `the ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function isId(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0x7fffffff;
}

function stringList(x: unknown, what: string): string[] {
  if (!Array.isArray(x) || x.length > MAX_OFFER_ITEMS || !x.every((s) => typeof s === 'string')) {
    throw new DigestMD5Error('malformed', `offer.${what} must be a list of at most ${MAX_OFFER_ITEMS} strings`);
  }
  return x as string[];
}

/**
 * Reads a request frame. Returns the id it carries (or undefined when none can be
 * read) with the parsed request or the error that makes it unusable.
 */
export function parseRequest(body: Uint8Array): { id: number | undefined; request?: VerifyRequestMessage; error?: DigestMD5Error } {
  let o: Record<string, unknown>;
  try {
    o = parseJsonObject(body, 'request');
  } catch (e) {
    return { id: undefined, error: e as DigestMD5Error };
  }
  const id = isId(o.id) ? o.id : undefined;
  const fail = (code: DigestMD5ErrorCode, message: string) => ({ id, error: new DigestMD5Error(code, message) });
  if (id === undefined) return fail('malformed', 'the request has no "id" (an integer 0..2147483647)');
  if (o.v !== AUTHD_VERSION) return fail('unsupported', `protocol version ${JSON.stringify(o.v)?.slice(0, 20)} is not supported (only ${AUTHD_VERSION})`);
  if (o.type !== 'verify') return fail('unsupported', `request type ${JSON.stringify(o.type)?.slice(0, 40)} is not supported (only "verify")`);
  if (typeof o.response !== 'string') return fail('malformed', '"response" must be the base64 of the digest-response');
  let offer: OfferMessage | undefined;
  if (o.offer !== undefined) {
    const x = o.offer as Record<string, unknown>;
    if (typeof x !== 'object' || x === null) return fail('malformed', '"offer" must be an object');
    try {
      offer = { realms: stringList(x.realms, 'realms'), qop: stringList(x.qop, 'qop'), ciphers: stringList(x.ciphers, 'ciphers'), maxbuf: x.maxbuf as number };
    } catch (e) {
      return { id, error: e as DigestMD5Error };
    }
    if (!Number.isInteger(offer.maxbuf) || offer.maxbuf < 17 || offer.maxbuf > 16777215) return fail('malformed', 'offer.maxbuf must be an integer in 17..16777215');
  }
  return { id, request: { v: 1, id, type: 'verify', response: o.response, ...(offer ? { offer } : {}) } };
}

/** Reads a reply frame; throws DigestMD5Error('malformed') for anything but a well-formed reply. */
export function parseReply(body: Uint8Array): ReplyMessage {
  const o = parseJsonObject(body, 'authd reply');
  const bad = (why: string): never => {
    throw new DigestMD5Error('malformed', `the authd reply ${why}`);
  };
  if (o.v !== AUTHD_VERSION) bad(`has version ${JSON.stringify(o.v)?.slice(0, 20)}, not ${AUTHD_VERSION}`);
  if (o.ok === true) {
    if (!isId(o.id)) bad('has no id');
    if (typeof o.username !== 'string' || typeof o.realm !== 'string') bad('lacks the username or realm');
    if (o.authzid !== null && typeof o.authzid !== 'string') bad('has a bad authzid');
    if (typeof o.ha1 !== 'string' || !HEX32.test(o.ha1)) bad('has no 32-hex-digit ha1');
    if (typeof o.rspauth !== 'string' || !HEX32.test(o.rspauth)) bad('has no 32-hex-digit rspauth');
    return o as unknown as AcceptReply;
  }
  if (o.ok !== false) bad('has no "ok"');
  if (o.id !== null && !isId(o.id)) bad('has a bad id');
  if (typeof o.message !== 'string') bad('has no message');
  const code = (REFUSAL_CODES as readonly unknown[]).includes(o.code) ? (o.code as RefusalCode) : 'backend-failed';
  return { v: 1, id: o.id as number | null, ok: false, code, message: oneLine(o.message as string) };
}
