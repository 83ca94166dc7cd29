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
import { decodeLatin1, utf8 } from './bytes.js';
import { malformed } from './errors.js';

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
  let cur = '';
  const flush = (): void => {
    if (cur.length > 0) items.push(cur.toLowerCase());
    cur = '';
  };
  for (const c of value) {
    if (c === COMMA) flush();
    else if (isLws(c)) {
      if (cur.length > 0) flush();
    } else if (TOKEN_CHAR[c] === 1) cur += String.fromCharCode(c);
    else malformed(`invalid character 0x${c.toString(16)} in the ${what} list`);
  }
  flush();
  return items;
}

/** One directive to serialise. `quote` forces a quoted-string; tokens are checked. */
export interface DirectiveOut {
  readonly name: string;
  readonly value: Uint8Array | string;
  readonly quote: boolean;
}


/**
 * Serialises directives strictly: quoted values always escape `"` and `\`,
 * token values must be tokens, and no name may appear twice.
 */
export function serialiseDirectives(list: readonly DirectiveOut[]): Uint8Array {
  // Two passes, sizing then writing, into one array: pushing bytes to a number[]
  // measured as a sixth of a client step. Indexed loops throughout: for-of over a
  // Uint8Array, and lower-casing every pair of names to find repeats, measured a fifth
  // of a response.
  const values: Uint8Array[] = [];
  let size = 0;
  for (let k = 0; k < list.length; k++) {
    const d = list[k]!;
    for (let j = 0; j < k; j++) {
      const other = list[j]!.name;
      if (other.length === d.name.length && other.toLowerCase() === d.name.toLowerCase()) throw new Error(`internal: directive "${d.name}" serialised twice`);
    }
    const value = typeof d.value === 'string' ? utf8(d.value) : d.value;
    values.push(value);
    const n = value.length;
    size += (k > 0 ? 1 : 0) + d.name.length + 1 + n;
    if (d.quote) {
      size += 2;
      for (let i = 0; i < n; i++) {
        const c = value[i]!;
        if (c === DQUOTE || c === BACKSLASH) size++;
      }
    } else {
      if (n === 0) throw new Error(`internal: empty token value for "${d.name}"`);
      for (let i = 0; i < n; i++) if (TOKEN_CHAR[value[i]!] !== 1) throw new Error(`internal: "${d.name}" value is not a token`);
    }
  }
  const out = outputBytes(size);
  let o = 0;
  for (let k = 0; k < list.length; k++) {
    const d = list[k]!;
    const value = values[k]!;
    const name = d.name;
    if (k > 0) out[o++] = COMMA;
    for (let i = 0; i < name.length; i++) out[o++] = name.charCodeAt(i);
    out[o++] = EQUALS;
    if (d.quote) {
      out[o++] = DQUOTE;
      for (let i = 0; i < value.length; i++) {
        const c = value[i]!;
        if (c === DQUOTE || c === BACKSLASH) out[o++] = BACKSLASH;
        out[o++] = c;
      }
      out[o++] = DQUOTE;
    } else {
      out.set(value, o);
      o += value.length;
    }
  }
  return out;
}
