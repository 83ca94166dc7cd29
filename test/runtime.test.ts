// The core must run unchanged in browsers and Deno: nothing under it may touch Node.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cryptoBackend } from '../dist/index.js';
import { expectedBackend } from './helpers/util.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
/** The only places allowed to use Node: the Node entry point, its adapters, the CLI, the node:crypto backend. */
const NODE_ONLY = [/^node\//, /^node\.ts$/, /^cli\.ts$/, /^crypto\/node\.ts$/];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('runtime portability', () => {
  const core = walk(SRC)
    .map((p) => relative(SRC, p))
    .filter((p) => !NODE_ONLY.some((re) => re.test(p)));

  it('finds the core files', () => {
    expect(core).to.include.members(['client.ts', 'server.ts', 'directives.ts', 'digest.ts', 'crypto/portable.ts']);
  });

  for (const file of core) {
    it(`${file} uses nothing from Node`, () => {
      const text = readFileSync(join(SRC, file), 'utf8');
      expect(text, 'imports node:').to.not.match(/from\s+['"]node:|require\(\s*['"]node:|import\(\s*['"]node:/);
      expect(text, 'uses Buffer').to.not.match(/\bBuffer\b/);
      expect(text, 'uses process').to.not.match(/\bprocess\./);
    });
  }

  it(`runs on the crypto backend the package conditions select (${expectedBackend()})`, () => {
    expect(cryptoBackend).to.equal(expectedBackend());
  });
});
