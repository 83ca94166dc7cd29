// Negotiation of the quality of protection: checking configured lists and
// choosing the client's qop from the server's offer.

import { DigestMD5Error } from './errors.js';
import { isQop, type Qop } from './messages.js';

/** Validates an application's qop list: known values, no repeats, not empty. */
export function checkQopList(list: readonly string[], what: string): Qop[] {
  if (!Array.isArray(list) || list.length === 0) throw new DigestMD5Error('bad-option', `${what} must list at least one qop`);
  const out: Qop[] = [];
  for (const q of list) {
    if (typeof q !== 'string' || !isQop(q)) throw new DigestMD5Error('bad-option', `${what}: unknown qop "${String(q)}"`);
    if (out.includes(q)) throw new DigestMD5Error('bad-option', `${what}: qop "${q}" listed twice`);
    out.push(q);
  }
  return out;
}

/** The first of the client's preferences that the server offers. */
export function chooseQop(preferences: readonly Qop[], offered: readonly string[]): Qop {
  const q = preferences.find((p) => offered.includes(p));
  if (q === undefined) {
    throw new DigestMD5Error(
      'policy',
      `no acceptable qop: the server offers ${offered.join(',') || 'none'}, we accept ${preferences.join(',')}`,
    );
  }
  return q;
}
