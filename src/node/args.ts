// A small command-line flag parser for the CLI: known flags only, each either a
// switch or taking one value; anything else is a usage error (exit status 2).

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface FlagSpec {
  /** Long name without dashes, e.g. "send-last". */
  readonly name: string;
  readonly short?: string;
  readonly value: boolean;
}

export interface ParsedArgs {
  readonly flags: Map<string, string | true>;
  readonly positional: string[];
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(`--${s.name}`, s);
    if (s.short) byName.set(`-${s.short}`, s);
  }
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let inline: string | undefined;
    if (a.startsWith('--') && a.includes('=')) {
      inline = a.slice(a.indexOf('=') + 1);
      a = a.slice(0, a.indexOf('='));
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const spec = byName.get(a);
    if (!spec) throw new UsageError(`unknown option: ${a}`);
    if (spec.value) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`option ${a} needs a value`);
      flags.set(spec.name, v);
    } else {
      if (inline !== undefined) throw new UsageError(`option ${a} takes no value`);
      flags.set(spec.name, true);
    }
  }
  return { flags, positional };
}

export function stringFlag(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function intFlag(p: ParsedArgs, name: string): number | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(v)) throw new UsageError(`--${name} must be a whole number, not "${v}"`);
  return Number(v);
}

/** A comma-separated list with every item from `allowed`. */
export function listFlag<T extends string>(p: ParsedArgs, name: string, allowed: readonly T[]): T[] | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${name} needs at least one value`);
  for (const it of items) {
    if (!(allowed as readonly string[]).includes(it)) throw new UsageError(`--${name}: unknown value "${it}" (one of ${allowed.join(', ')})`);
  }
  return items as T[];
}

/**
 * The one-line error report of a command: "digest-md5 CMD: message", with a pointer
 * to --help for usage errors (status 2). Returns the status, for `return fail(...)`.
 */
export function commandFailure(stderr: { write(s: string): unknown }, command: string): (message: string, status: number) => number {
  return (message, status) => {
    stderr.write(`digest-md5 ${command}: ${message.replace(/[\r\n]+/g, ' ')}${status === 2 ? ` (see digest-md5 ${command} --help)` : ''}\n`);
    return status;
  };
}
