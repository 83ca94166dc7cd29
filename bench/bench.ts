// npm run bench [-- options]: where digest-md5 stands against the JDK's and Cyrus SASL's
// DIGEST-MD5 and against the limit of its primitives, in one run on one machine.
//
//   --quick          short runs (every duration x 0.1, 10k contexts): a smoke test
//   --runs N         timed runs per figure (default 5; the median is reported, min and max shown)
//   --peers          also run ../shared/interop/java/bench.sh and ../shared/interop/cyrus/bench.sh
//                    (after ours, one at a time; with --quick, theirs get --quick too)
//   --json           print one JSON document {"rows": [...], "portable": {...}, ...} instead of the table
//                    (npm prints its own banner on stdout: use `npm run -s bench -- --json`)
//   --write          write BENCHMARKS.md and bench/throughput.svg
//   --backends LIST  node,portable (default both; each in its own child process)
//   --sections LIST  hs,verify,tp,prim,mem (default all)
//   --jdk-output FILE / --cyrus-output FILE   read a saved bench.sh output instead of running it
//   --interop DIR    where the peers live (default ../shared/interop beside the repository)
//
// Each backend is measured in a child process: node --expose-gc [--conditions=portable]
// build-bench/measure.js. Nothing else should run on the machine meanwhile.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendResult } from './common.js';
import { DEFINITIONS } from './definitions.js';
import { parsePeer, runPeer, type PeerName, type PeerResult } from './peers.js';
import { buildRows, chartSvg, checkTargets, markdown, textReport, type Report } from './report.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const KNOWN = new Set(['quick', 'runs', 'peers', 'json', 'write', 'backends', 'sections', 'jdk-output', 'cyrus-output', 'interop', 'mem-count', 'layer-count']);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (!a.startsWith('--') || !KNOWN.has(a.slice(2))) {
    process.stderr.write(`bench: unknown argument ${a} (see the head of bench/bench.ts)\n`);
    process.exit(2);
  }
  if (['runs', 'backends', 'sections', 'jdk-output', 'cyrus-output', 'interop', 'mem-count', 'layer-count'].includes(a.slice(2))) i++;
}

const QUICK = flag('quick');
const RUNS = Number(value('runs') ?? 5);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs takes a positive integer');
const BACKENDS = (value('backends') ?? 'node,portable').split(',') as ('node' | 'portable')[];
const here = path.dirname(fileURLToPath(import.meta.url)); // build-bench/
const repo = path.resolve(here, '..');
const interop = path.resolve(value('interop') ?? path.join(repo, '..', 'shared', 'interop'));
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const t0 = performance.now();

// ------------------------------------------------------------------ machine facts

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function machine(): Record<string, string> {
  const osRelease = existsSync('/etc/os-release') ? /PRETTY_NAME="([^"]*)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] : undefined;
  const commit = sh('git', ['-C', repo, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no', '--', 'src']) ? ' (src/ has uncommitted changes)' : '';
  return {
    cpu: `${os.cpus()[0]?.model ?? '?'}, ${os.availableParallelism()} cores`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${osRelease ?? os.type()} (kernel ${os.release()})`,
    node: `${process.version} (V8 ${process.versions.v8}, OpenSSL ${process.versions.openssl})`,
    'load average at start': os.loadavg().map((x) => x.toFixed(2)).join(' '),
    commit: commit ? commit + dirty : '?',
  };
}

// ------------------------------------------------------------------ our measurements, one child per backend

function childArgs(): string[] {
  const pass: string[] = [];
  if (QUICK) pass.push('--quick');
  pass.push('--runs', String(RUNS));
  for (const k of ['sections', 'mem-count', 'layer-count']) {
    const v = value(k);
    if (v !== undefined) pass.push(`--${k}`, v);
  }
  return pass;
}

function runBackend(backend: 'node' | 'portable'): Promise<BackendResult> {
  const nodeArgs = ['--expose-gc', ...(backend === 'portable' ? ['--conditions=portable'] : [])];
  const script = path.join(here, 'measure.js');
  const args = [...nodeArgs, script, '--backend', backend, ...childArgs()];
  log(`measuring the ${backend} backend: node ${args.map((a) => path.relative(repo, a) || a).join(' ')}`);
  return new Promise((resolve, reject) => {
    let out = '';
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: repo });
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the ${backend} measurement exited with ${code}`));
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as BackendResult);
      } catch (e) {
        reject(new Error(`the ${backend} measurement printed no result: ${String(e)}`));
      }
    });
  });
}

const results: Partial<Record<'node' | 'portable', BackendResult>> = {};
const facts = machine();
for (const b of BACKENDS) results[b] = await runBackend(b);

// ------------------------------------------------------------------ the peers, after ours, one at a time

const peers: Partial<Record<PeerName, PeerResult>> = {};
async function peer(name: PeerName, dir: string, savedFlag: string): Promise<void> {
  const saved = value(savedFlag);
  if (saved) {
    peers[name] = parsePeer(name, readFileSync(saved, 'utf8'), 0);
    return;
  }
  if (!flag('peers')) return;
  const script = path.join(interop, dir, 'bench.sh');
  log(`running ${path.relative(repo, script)}${QUICK ? ' --quick' : ''} (${name === 'jdk' ? '~80' : '~110'} s${QUICK ? ' without --quick' : ''})`);
  const r = existsSync(script)
    ? await runPeer(script, QUICK ? ['--quick'] : [])
    : { out: '', code: null, seconds: 0, error: `${script} not found` };
  mkdirSync(here, { recursive: true });
  writeFileSync(path.join(here, `peer-${name}.txt`), r.out);
  const error = r.error ?? (r.code !== 0 ? `exit code ${r.code}` : undefined);
  peers[name] = parsePeer(name, r.out, r.seconds, error);
  log(`${name}: ${peers[name]!.cells.size} rows read${error ? `, ${error}` : ''} (output kept in build-bench/peer-${name}.txt)`);
}
await peer('jdk', 'java', 'jdk-output');
await peer('cyrus', 'cyrus', 'cyrus-output');

// ------------------------------------------------------------------ the report

const headline = results.node ?? results.portable!;
const rows = buildRows(headline, peers);
const command = `${process.env.npm_lifecycle_event === 'bench' ? 'npm run bench --' : 'node build-bench/bench.js'} ${argv.join(' ')}`.trim();
const timing = QUICK
  ? `--quick: handshakes 0.2 s warm-up + ${RUNS} runs x 0.1 s; wrap+unwrap 0.05 s + ${RUNS} x 0.04 s; limits 0.02 s + ${RUNS} x 0.015 s`
  : `handshakes 2 s warm-up + ${RUNS} runs x 1 s; wrap+unwrap 0.5 s + ${RUNS} x 0.4 s (as the peers); limits 0.2 s + ${RUNS} x 0.15 s, interleaved with ours`;
const report: Report = {
  rows,
  portable: results.node && results.portable ? { rows: buildRows(results.portable, peers) } : null,
  primitives: { node: results.node?.primitives ?? [], portable: results.portable?.primitives ?? [] },
  targets: checkTargets(results.node ? rows : []),
  meta: {
    backend: headline.backend,
    command,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: facts,
    timing,
    notes: headline.notes,
    peers: Object.fromEntries(
      (['jdk', 'cyrus'] as PeerName[]).map((n) => [n, peers[n] ? { header: peers[n]!.header, seconds: peers[n]!.seconds, error: peers[n]!.error ?? null } : null]),
    ),
    seconds: (performance.now() - t0) / 1000,
  },
};

if (flag('json')) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
else process.stdout.write(textReport(report, peers) + '\n');

if (flag('write')) {
  writeFileSync(path.join(repo, 'BENCHMARKS.md'), markdown(report, peers, DEFINITIONS));
  writeFileSync(path.join(repo, 'bench', 'throughput.svg'), chartSvg(report, peers));
  log('wrote BENCHMARKS.md and bench/throughput.svg');
}
