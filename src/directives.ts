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

/** Bytes a quoted-string's loop must look at: `"`, `\` and the CTLs TEXT excludes; 0 for every other byte. */
const QUOTED_SPECIAL = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) QUOTED_SPECIAL[c] = c === HT || c === CR || c === LF ? 0 : 1;
QUOTED_SPECIAL[0x7f] = 1;
QUOTED_SPECIAL[DQUOTE] = 1;
QUOTED_SPECIAL[BACKSLASH] = 1;

function isLws(c: number): boolean {
  return c === SP || c === HT || c === CR || c === LF;
}

/** The name bytes src[from..to) as a string (for lower-casing and error messages). */
function nameText(src: Uint8Array, from: number, to: number): string {
  return decodeLatin1(src.subarray(from, to));
}

/**
 * Walks `directive *( "," directive )`, with the #rule's empty elements, one directive per
 * `next()`: the name is src[nameFrom..nameTo) as sent, the value src[valueFrom..valueTo),
 * quoted-pairs still in it when `escapes` > 0 (`value()` unescapes). Offsets, not arrays:
 * a view per value was a tenth of the bytes a handshake allocated. Throws
 * DigestMD5Error('malformed') naming the offending position.
 */
class DirectiveScanner {
  src: Uint8Array = new Uint8Array(0);
  private n = 0;
  private i = 0;
  nameFrom = 0;
  nameTo = 0;
  valueFrom = 0;
  valueTo = 0;
  escapes = 0;
  quoted = false;

  start(src: Uint8Array): this {
    this.src = src;
    this.n = src.length;
    this.i = 0;
    return this;
  }

  next(): boolean {
    // Locals throughout, fields written once at the end: the loops run on registers.
    const src = this.src;
    const n = this.n;
    let i = this.i;
    // Any run of commas and LWS separates elements; empty elements are allowed.
    while (i < n && (isLws(src[i]!) || src[i] === COMMA)) i++;
    if (i >= n) {
      this.i = i;
      return false;
    }
    const nameFrom = i;
    while (i < n && TOKEN_CHAR[src[i]!] === 1) i++;
    const nameTo = i;
    if (nameTo === nameFrom) malformed(`directive name expected at byte ${nameFrom}`);
    while (i < n && isLws(src[i]!)) i++;
    if (i >= n || src[i] !== EQUALS) malformed(`"=" expected after directive "${nameText(src, nameFrom, nameTo)}" at byte ${i}`);
    i++;
    while (i < n && isLws(src[i]!)) i++;

    let valueFrom: number;
    let valueTo: number;
    let escapes = 0;
    const quoted = i < n && src[i] === DQUOTE;
    if (quoted) {
      i++;
      valueFrom = i;
      let closed = false;
      while (i < n) {
        const c = src[i]!;
        // One table lookup for the ordinary bytes, most of every value (nonces, names).
        if (QUOTED_SPECIAL[c] === 0) {
          i++;
          continue;
        }
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
        malformed(`control character 0x${c.toString(16)} in the value of "${nameText(src, nameFrom, nameTo)}"`);
      }
      if (!closed) malformed(`unterminated quoted-string in the value of "${nameText(src, nameFrom, nameTo)}"`);
      valueTo = i;
      i++; // the closing quote
    } else {
      valueFrom = i;
      while (i < n && TOKEN_CHAR[src[i]!] === 1) i++;
      if (i === valueFrom) malformed(`value expected for directive "${nameText(src, nameFrom, nameTo)}" at byte ${valueFrom}`);
      valueTo = i;
    }
    while (i < n && isLws(src[i]!)) i++;
    if (i < n && src[i] !== COMMA) malformed(`"," expected after the value of "${nameText(src, nameFrom, nameTo)}" at byte ${i}`);
    this.i = i;
    this.nameFrom = nameFrom;
    this.nameTo = nameTo;
    this.valueFrom = valueFrom;
    this.valueTo = valueTo;
    this.escapes = escapes;
    this.quoted = quoted;
    return true;
  }

  /** The current value's bytes: a view into `src`, or an unescaped copy when it had quoted-pairs. */
  value(): Uint8Array {
    const src = this.src;
    if (this.escapes === 0) return src.subarray(this.valueFrom, this.valueTo);
    // One array of the final size (a number[] per value measured slower).
    const out = new Uint8Array(this.valueTo - this.valueFrom - this.escapes);
    for (let k = this.valueFrom, o = 0; k < this.valueTo; k++) out[o++] = src[src[k] === BACKSLASH ? ++k : k]!;
    return out;
  }
}

/** One scanner for every parse: a parse runs start to finish with nothing in between. */
const scanner = new DirectiveScanner();

/**
 * Parses `directive *( "," directive )` with the #rule's empty elements.
 * Throws DigestMD5Error('malformed') naming the offending position.
 */
export function parseDirectives(input: Uint8Array): Directive[] {
  const out: Directive[] = [];
  const sc = scanner.start(input.slice());
  while (sc.next()) out.push({ name: nameText(sc.src, sc.nameFrom, sc.nameTo).toLowerCase(), value: sc.value(), quoted: sc.quoted });
  return out;
}

const SLOTS = 64;
const NONE = -1;
const SEVERAL = -2;

/** A name's slot in DirectiveRules' table: from its length and its first and last bytes, in any case (no two names of the challenge or of the response share one). */
function slotOf(len: number, first: number, last: number): number {
  return (len * 5 + (first | 0x20) * 4 + (last | 0x20)) & (SLOTS - 1);
}

/** How often a directive may appear in a message. */
export type Multiplicity = 'once' | 'optional' | 'many';

/**
 * The directives one kind of message knows, compiled once: names are matched on their
 * bytes, case-insensitively, with no string made per directive.
 */
export class DirectiveRules<Name extends string = string> {
  readonly names: readonly Name[];
  /** Each name's index into KnownDirectives. */
  readonly at: Readonly<Record<Name, number>>;
  private readonly kinds: readonly Multiplicity[];
  private readonly nameBytes: readonly Uint8Array[];
  /** The result of every parse, reused (see parse). */
  private readonly found: KnownDirectives;
  /** Rule index by slotOf() of its name; NONE, or SEVERAL when names share the slot (then indexOf scans). */
  private readonly bySlot: Int16Array;

  constructor(
    rules: Record<Name, Multiplicity>,
    /** The message's name in error messages, e.g. "digest-response". */
    readonly what: string,
  ) {
    this.names = Object.keys(rules) as Name[];
    this.at = Object.fromEntries(this.names.map((n, k) => [n, k])) as Record<Name, number>;
    this.kinds = this.names.map((n) => rules[n]);
    this.nameBytes = this.names.map((n) => Uint8Array.from(n, (c) => c.charCodeAt(0)));
    this.found = new KnownDirectives(this.names.length);
    this.bySlot = new Int16Array(SLOTS).fill(NONE);
    this.nameBytes.forEach((b, k) => {
      const slot = slotOf(b.length, b[0]!, b[b.length - 1]!);
      this.bySlot[slot] = this.bySlot[slot] === NONE ? k : SEVERAL;
    });
  }

  /** The index of the rule named src[from..to) (any case), or -1 for an unknown name. */
  private indexOf(src: Uint8Array, from: number, to: number): number {
    const len = to - from;
    // One candidate from the table, compared byte by byte: a scan of every name of that
    // length measured a third of a parse. (Names are never empty: the scanner requires one.)
    const k = this.bySlot[slotOf(len, src[from]!, src[to - 1]!)]!;
    if (k >= 0) return this.isNamed(k, src, from, len) ? k : -1;
    if (k === NONE) return -1;
    for (let r = 0; r < this.nameBytes.length; r++) if (this.isNamed(r, src, from, len)) return r;
    return -1;
  }

  /** Whether src[from..from+len) is the name of rule k, in any case. */
  private isNamed(k: number, src: Uint8Array, from: number, len: number): boolean {
    const b = this.nameBytes[k]!;
    if (b.length !== len) return false;
    for (let i = 0; i < len; i++) {
      let c = src[from + i]!;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== b[i]) return false;
    }
    return true;
  }

  /**
   * Parses a message: where the value of each known directive lies, by rule index, each
   * name's multiplicity enforced and the required ones present. Unknown names are ignored
   * (RFC 2831 §7: unknown auth-params are ignored). The values lie in a private copy of
   * `input`, or with `copy` false in `input` itself: then they hold only while the caller
   * leaves those bytes alone (a copy of a message over 64 bytes costs V8 ~1 µs). The result
   * is this rule set's one KnownDirectives, valid until its next parse: read it at once.
   */
  parse(input: Uint8Array, copy = true): KnownDirectives {
    const d = this.found;
    const src = copy ? input.slice() : input;
    d.reset(src);
    const sc = scanner.start(src);
    while (sc.next()) {
      const k = this.indexOf(src, sc.nameFrom, sc.nameTo);
      if (k < 0) continue;
      if (!d.has(k)) {
        d.place(k, sc);
        continue;
      }
      if (this.kinds[k] !== 'many') malformed(`directive "${this.names[k]}" appears more than once in the ${this.what}`);
      d.repeat(k, sc.value());
    }
    for (let k = 0; k < this.names.length; k++) {
      if (this.kinds[k] === 'once' && !d.has(k)) malformed(`directive "${this.names[k]}" is missing from the ${this.what}`);
    }
    return d;
  }
}

/**
 * What DirectiveRules.parse found: for each known directive, by rule index, its first
 * value as a range [start, end) of `buf(k)`: the message, or for a value that had
 * quoted-pairs its unescaped copy. Arrays are made only for what a caller asks for.
 */
export class KnownDirectives {
  private src: Uint8Array = new Uint8Array(0);
  private readonly from: Int32Array;
  private readonly to: Int32Array;
  /** Values that had quoted-pairs, unescaped (rare: only then is there an array per value). */
  private unescaped: (Uint8Array | undefined)[] | undefined;
  /** Every value, in order, of a 'many' directive that appeared more than once. */
  private repeated: Uint8Array[][] | undefined;

  constructor(count: number) {
    this.from = new Int32Array(count);
    this.to = new Int32Array(count);
  }

  reset(src: Uint8Array): void {
    this.src = src;
    this.from.fill(-1);
    this.unescaped = undefined;
    this.repeated = undefined;
  }

  place(k: number, sc: DirectiveScanner): void {
    this.from[k] = sc.valueFrom;
    this.to[k] = sc.valueTo;
    if (sc.escapes > 0) (this.unescaped ??= [])[k] = sc.value();
  }

  repeat(k: number, value: Uint8Array): void {
    this.repeated ??= [];
    (this.repeated[k] ??= [this.bytes(k)!]).push(value);
  }

  has(k: number): boolean {
    return this.from[k]! >= 0;
  }

  /** The array the value of `k` lies in. */
  buf(k: number): Uint8Array {
    return this.unescaped?.[k] ?? this.src;
  }

  start(k: number): number {
    return this.unescaped?.[k] !== undefined ? 0 : this.from[k]!;
  }

  end(k: number): number {
    const u = this.unescaped?.[k];
    return u !== undefined ? u.length : this.to[k]!;
  }

  /** The value's bytes (a view into the message, or the unescaped copy); undefined when absent. */
  bytes(k: number): Uint8Array | undefined {
    if (!this.has(k)) return undefined;
    return this.unescaped?.[k] ?? this.src.subarray(this.from[k]!, this.to[k]!);
  }

  /** The value's bytes in an array of their own (never a view into the message); undefined when absent. */
  copyOf(k: number): Uint8Array | undefined {
    if (!this.has(k)) return undefined;
    return this.unescaped?.[k] ?? this.src.slice(this.from[k]!, this.to[k]!);
  }

  /** Whether the value of `k` is exactly `bytes` (compared in constant time for its length). */
  equals(k: number, bytes: Uint8Array): boolean {
    const buf = this.buf(k);
    const from = this.start(k);
    if (this.end(k) - from !== bytes.length) return false;
    let diff = 0;
    for (let i = 0; i < bytes.length; i++) diff |= buf[from + i]! ^ bytes[i]!;
    return diff === 0;
  }

  /** Every value of `k` in order: more than one only for a 'many' directive. */
  all(k: number): Uint8Array[] {
    return this.repeated?.[k] ?? (this.has(k) ? [this.bytes(k)!] : []);
  }
}

/**
 * Splits a comma-separated list inside a value, value[from..to) (qop-options,
 * cipher-opts), into its tokens, skipping empty elements and LWS. Names are lower-cased.
 */
export function parseTokenList(value: Uint8Array, from: number, to: number, what: string): string[] {
  const items: string[] = [];
  let i = from;
  while (i < to) {
    const c = value[i]!;
    if (c === COMMA || isLws(c)) {
      i++;
      continue;
    }
    const start = i;
    while (i < to && TOKEN_CHAR[value[i]!] === 1) i++;
    if (i === start || (i < to && value[i] !== COMMA && !isLws(value[i]!))) {
      malformed(`invalid character 0x${value[i]!.toString(16)} in the ${what} list`);
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
    // A loop for the short ones (a subarray costs ~25 ns); set() copies longer ones at memcpy
    // speed: a 280-byte digest-response measured 330 ns by the loop, 66 ns by set().
    if (n <= 64) for (let i = 0; i < n; i++) out[i] = buf[i]!;
    else out.set(buf.subarray(0, n));
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
