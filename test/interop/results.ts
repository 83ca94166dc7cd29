// Records the outcome of each interop cell (peer x qop x cipher x direction), so the
// README's interoperability table is generated from a test run, never typed by hand.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND } from './relay.js';

export const RESULTS = resolve(fileURLToPath(new URL('../../', import.meta.url)), 'build-test/interop-results.jsonl');

export interface Cell {
  peer: 'JDK' | 'Cyrus';
  /** 'our client -> peer server' or 'peer client -> our server'. */
  direction: 'client' | 'server';
  qop: string;
  cipher: string;
  /** 'bare' or 'framed' buffers. */
  mode: string;
}

/** Wraps a test body: the cell is recorded as passed only when the body finishes without throwing. */
export function cell(c: Cell, body: () => Promise<void>): () => Promise<void> {
  return async () => {
    let pass = false;
    try {
      await body();
      pass = true;
    } finally {
      mkdirSync(dirname(RESULTS), { recursive: true });
      appendFileSync(RESULTS, JSON.stringify({ ...c, backend: BACKEND, pass }) + '\n');
    }
  };
}
