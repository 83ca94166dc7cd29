// The directive-list grammar of RFC 2831 §7 (the #rule and quoted-string of
// RFC 2616 §2.1-2.2): parse to a list of name/value pairs, and serialise one.
//
// Parsing is lenient where deployed peers differ from the grammar and strict
// everywhere else: a value may be a token or a quoted-string whatever the
// grammar says for that directive (the JDK quotes `maxbuf` and `cipher`,
// Dovecot quotes `charset` and `algorithm`), LWS may stand around `=` and `,`,
// and empty list elements are skipped. Values are kept as raw bytes: which
// charset they are in is decided one level up, by the `charset` directive.

import { outputBytes } from './alloc.js';
import { decodeLatin1 } from './bytes.js';
import { malformed } from './errors.js';
import { wireText } from './wire-text.js';

export interface Directive {
  /** Directive name, lower-cased (names are case-insensitive). */
  readonly name: string;
  /** The value's bytes, quoted-pairs already unescaped. */
  readonly value: Uint8Array;
  /** Whether the value was written as a quoted-string. */
  readonly quoted: boolean;
}

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** RFC 2616 separators; with CTLs and bytes >= 0x80 they are not token characters. */
const SEPARATORS = '()<>@,;:\\"/[]?={} \t';
const TOKEN_CHAR = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) TOKEN_CHAR[c] = SEPARATORS.includes(String.fromCharCode(c)) ? 0 : 1;

function isLws(c: number): boolean {
  return c === SP || c === HT || c === CR || c === LF;
}

/** A control character that may not appear inside a quoted-string (TEXT excludes CTLs but LWS). */
function isForbiddenCtl(c: number): boolean {
  return (c < 0x20 && c !== HT && c !== CR && c !== LF) || c === 0x7f;
}

/** The name bytes src[from..to) as a string (for lower-casing and error messages). */
function nameText(src: Uint8Array, from: number, to: number): string {
  return decodeLatin1(src.subarray(from, to));
}

/**
 * Called once per directive by `scan`: the name is src[nameFrom..nameTo) as sent, the
 * value its bytes with quoted-pairs unescaped (a view into `src` when it had none).
 */
type Visit = (src: Uint8Array, nameFrom: number, nameTo: number, value: Uint8Array, quoted: boolean) => void;

/**
 * Scans `directive *( "," directive )` with the #rule's empty elements. With `copy`, over
 * a private copy of `input` (one copy, whose views are the values: the caller may reuse its
 * buffer); without, the values are views into `input` itself (see DirectiveRules.parse).
 * Throws DigestMD5Error('malformed') naming the offending position.
 */
function scan(input: Uint8Array, visit: Visit, copy = true): void {
  // The LWS skips are written out: a local function sharing `i` made `i` a context
  // variable, and parsing a digest-response measured 11% slower for it.
  const src = copy ? input.slice() : input;
  const n = src.length;
  let i = 0;

  while (true) {
    // Any run of commas and LWS separates elements; empty elements are allowed.
    while (i < n && (isLws(src[i]!) || src[i] === COMMA)) i++;
    if (i >= n) break;

    const nameFrom = i;
    while (i < n && TOKEN_CHAR[src[i]!] === 1) i++;
    const nameTo = i;
    if (nameTo === nameFrom) malformed(`directive name expected at byte ${nameFrom}`);
    while (i < n && isLws(src[i]!)) i++;
    if (i >= n || src[i] !== EQUALS) malformed(`"=" expected after directive "${nameText(src, nameFrom, nameTo)}" at byte ${i}`);
    i++;
    while (i < n && isLws(src[i]!)) i++;

    let value: Uint8Array;
    let quoted = false;
    if (i < n && src[i] === DQUOTE) {
      quoted = true;
      i++;
      const start = i;
      let escapes = 0;
      let closed = false;
      while (i < n) {
        const c = src[i]!;
        if (c === DQUOTE) {
          closed = true;
          break;
        }
        if (c === BACKSLASH) {
          // quoted-pair = "\" CHAR, CHAR being any US-ASCII byte.
          if (i + 1 >= n) break;
          if (src[i + 1]! > 0x7f) malformed(`quoted-pair of a non-ASCII byte in "${nameText(src, nameFrom, nameTo)}" at byte ${i}`);
          escapes++;
          i += 2;
          continue;
        }
        if (isForbiddenCtl(c)) malformed(`control character 0x${c.toString(16)} in the value of "${nameText(src, nameFrom, nameTo)}"`);
        i++;
      }
      if (!closed) malformed(`unterminated quoted-string in the value of "${nameText(src, nameFrom, nameTo)}"`);
      if (escapes === 0) value = src.subarray(start, i);
      else {
        // Unescape: one array of the final size (a number[] per value measured slower).
        value = new Uint8Array(i - start - escapes);
        for (let k = start, o = 0; k < i; k++) value[o++] = src[src[k] === BACKSLASH ? ++k : k]!;
      }
      i++; // the closing quote
    } else {
      const start = i;
      while (i < n && TOKEN_CHAR[src[i]!] === 1) i++;
      if (i === start) malformed(`value expected for directive "${nameText(src, nameFrom, nameTo)}" at byte ${start}`);
      value = src.subarray(start, i);
    }
    visit(src, nameFrom, nameTo, value, quoted);

    while (i < n && isLws(src[i]!)) i++;
    if (i < n && src[i] !== COMMA) malformed(`"," expected after the value of "${nameText(src, nameFrom, nameTo)}" at byte ${i}`);
  }
}

/**
 * Parses `directive *( "," directive )` with the #rule's empty elements.
 * Throws DigestMD5Error('malformed') naming the offending position.
 */
export function parseDirectives(input: Uint8Array): Directive[] {
  const out: Directive[] = [];
  scan(input, (src, from, to, value, quoted) => out.push({ name: nameText(src, from, to).toLowerCase(), value, quoted }));
  return out;
}

/** How often a directive may appear in a message. */
export type Multiplicity = 'once' | 'optional' | 'many';

/**
 * The directives one kind of message knows, compiled once: names are matched on their
 * bytes, case-insensitively, with no string made per directive.
 */
export class DirectiveRules<Name extends string = string> {
  readonly names: readonly Name[];
  /** Each name's index into KnownDirectives.values. */
  readonly at: Readonly<Record<Name, number>>;
  private readonly kinds: readonly Multiplicity[];
  private readonly nameBytes: readonly Uint8Array[];

  constructor(
    rules: Record<Name, Multiplicity>,
    /** The message's name in error messages, e.g. "digest-response". */
    readonly what: string,
  ) {
    this.names = Object.keys(rules) as Name[];
    this.at = Object.fromEntries(this.names.map((n, k) => [n, k])) as Record<Name, number>;
    this.kinds = this.names.map((n) => rules[n]);
    this.nameBytes = this.names.map((n) => Uint8Array.from(n, (c) => c.charCodeAt(0)));
  }

  /** The index of the rule named src[from..to) (any case), or -1 for an unknown name. */
  private indexOf(src: Uint8Array, from: number, to: number): number {
    const len = to - from;
    next: for (let k = 0; k < this.nameBytes.length; k++) {
      const b = this.nameBytes[k]!;
      if (b.length !== len) continue;
      for (let i = 0; i < len; i++) {
        let c = src[from + i]!;
        if (c >= 0x41 && c <= 0x5a) c |= 0x20;
        if (c !== b[i]) continue next;
      }
      return k;
    }
    return -1;
  }

  /**
   * Parses a message: the values of its known directives by rule index, each name's
   * multiplicity enforced and the required ones present. Unknown names are ignored
   * (RFC 2831 §7: unknown auth-params are ignored). The values are views into a private
   * copy of `input`, or with `copy` false into `input` itself: then they hold only while
   * the caller leaves those bytes alone (a copy of a message over 64 bytes costs V8 ~1 µs).
   */
  parse(input: Uint8Array, copy = true): KnownDirectives {
    const values: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(this.names.length).fill(undefined);
    let repeated: Uint8Array[][] | undefined;
    scan(input, (src, from, to, value) => {
      const k = this.indexOf(src, from, to);
      if (k < 0) return;
      if (values[k] === undefined) {
        values[k] = value;
        return;
      }
      if (this.kinds[k] !== 'many') malformed(`directive "${this.names[k]}" appears more than once in the ${this.what}`);
      repeated ??= [];
      (repeated[k] ??= [values[k]!]).push(value);
    }, copy);
    for (let k = 0; k < this.names.length; k++) {
      if (this.kinds[k] === 'once' && values[k] === undefined) malformed(`directive "${this.names[k]}" is missing from the ${this.what}`);
    }
    return { values, repeated };
  }
}

/** What DirectiveRules.parse found: the first value of each known directive, by rule index. */
export interface KnownDirectives {
  readonly values: readonly (Uint8Array | undefined)[];
  /** Every value, in order, of a 'many' directive that appeared more than once. */
  readonly repeated: readonly (readonly Uint8Array[] | undefined)[] | undefined;
}

/**
 * Splits a comma-separated list inside a value (qop-options, cipher-opts) into its
 * tokens, skipping empty elements and LWS. Names are lower-cased.
 */
export function parseTokenList(value: Uint8Array, what: string): string[] {
  const items: string[] = [];
  const n = value.length;
  let i = 0;
  while (i < n) {
    const c = value[i]!;
    if (c === COMMA || isLws(c)) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && TOKEN_CHAR[value[i]!] === 1) i++;
    if (i === start || (i < n && value[i] !== COMMA && !isLws(value[i]!))) {
      const bad = value[i]!;
      malformed(`invalid character 0x${bad.toString(16)} in the ${what} list`);
    }
    items.push(wireText(value, start, i, true));
  }
  return items;
}

/**
 * Writes a directive list strictly: quoted values escape `"` and `\`, token values must be
 * tokens. The messages' own layouts name each directive once. Bytes go into a reused
 * scratch array and `finish()` copies them out, so no list of parts is built per message:
 * the generic serialiser this replaced (a list of name/value objects, sized then written)
 * measured a sixth of a client step. One writer serves a whole message; nothing in between may await.
 */
export class DirectiveWriter {
  private buf = new Uint8Array(512);
  private at = 0;

  /** Starts a new list. */
  start(): this {
    this.at = 0;
    return this;
  }

  /** `name="value"` with the value's bytes escaped. */
  quoted(name: string, value: Uint8Array): this {
    this.name(name, 2 * value.length + 2);
    const buf = this.buf;
    let o = this.at;
    buf[o++] = DQUOTE;
    for (let i = 0; i < value.length; i++) {
      const c = value[i]!;
      if (c === DQUOTE || c === BACKSLASH) buf[o++] = BACKSLASH;
      buf[o++] = c;
    }
    buf[o++] = DQUOTE;
    this.at = o;
    return this;
  }

  /**
   * `name="text"`: ASCII text written as it is (escaped), other text as the bytes `encode`
   * gives (UTF-8 or ISO-8859-1: the charset rules are the caller's).
   */
  quotedText(name: string, text: string, encode: (text: string) => Uint8Array): this {
    const n = text.length;
    for (let i = 0; i < n; i++) if (text.charCodeAt(i) > 0x7f) return this.quoted(name, encode(text));
    this.name(name, 2 * n + 2);
    const buf = this.buf;
    let o = this.at;
    buf[o++] = DQUOTE;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === DQUOTE || c === BACKSLASH) buf[o++] = BACKSLASH;
      buf[o++] = c;
    }
    buf[o++] = DQUOTE;
    this.at = o;
    return this;
  }

  /** `name=value` for a token value (ASCII text or bytes); anything else is a bug of ours. */
  token(name: string, value: string | Uint8Array): this {
    const n = value.length;
    if (n === 0) throw new Error(`internal: empty token value for "${name}"`);
    this.name(name, n);
    const buf = this.buf;
    let o = this.at;
    for (let i = 0; i < n; i++) {
      const c = typeof value === 'string' ? value.charCodeAt(i) : value[i]!;
      if (c > 0xff || TOKEN_CHAR[c] !== 1) throw new Error(`internal: "${name}" value is not a token`);
      buf[o++] = c;
    }
    this.at = o;
    return this;
  }

  /** The list written since `start()`, in its own array (a view into the output slab, see alloc.ts). */
  finish(): Uint8Array {
    const n = this.at;
    const out = outputBytes(n);
    const buf = this.buf;
    for (let i = 0; i < n; i++) out[i] = buf[i]!;
    return out;
  }

  /** The comma unless first, `name=`, and room for `room` more bytes. */
  private name(name: string, room: number): void {
    const need = this.at + 1 + name.length + 1 + room;
    if (need > this.buf.length) {
      const bigger = new Uint8Array(Math.max(need, 2 * this.buf.length));
      bigger.set(this.buf.subarray(0, this.at));
      this.buf = bigger;
    }
    const buf = this.buf;
    let o = this.at;
    if (o > 0) buf[o++] = COMMA;
    for (let i = 0; i < name.length; i++) buf[o++] = name.charCodeAt(i);
    buf[o++] = EQUALS;
    this.at = o;
  }
}
