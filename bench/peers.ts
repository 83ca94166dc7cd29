// The reference peers' own benchmarks (../shared/interop/{java,cyrus}/bench.sh): running
// them, one after the other, and reading their tables into rows named as ours.

import { spawn } from 'node:child_process';

export type PeerName = 'jdk' | 'cyrus';

/** A peer's figure for one row: its median (min/max where it prints them), or why it has none. */
export type PeerCell = { median: number; min?: number; max?: number } | { fails: string };

export interface PeerResult {
  peer: PeerName;
  /** Rows by our names: handshake/<qop[/cipher]>, wrap+unwrap/<label>/<size>. */
  cells: Map<string, PeerCell>;
  /** The lines before the first table (versions, CPU, flags). */
  header: string[];
  /** Set when the script could not be run or printed no table. */
  error?: string;
  seconds: number;
  raw: string;
}

/** Runs a bench.sh, stdout captured, stderr passed through to ours. */
export function runPeer(script: string, args: string[]): Promise<{ out: string; code: number | null; seconds: number; error?: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let out = '';
    const p = spawn(script, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    p.on('error', (e) => resolve({ out, code: null, seconds: (performance.now() - t0) / 1000, error: String(e) }));
    p.on('close', (code) => resolve({ out, code, seconds: (performance.now() - t0) / 1000 }));
  });
}

/** "auth-conf/rc4" -> "rc4", "auth-int" -> "auth-int": the label of our wrap+unwrap rows. */
function tpLabel(label: string): string {
  return label.startsWith('auth-conf/') ? label.slice('auth-conf/'.length) : label;
}

/**
 * Reads the (a) handshake and (b) throughput tables of Bench.java or bench.c. Cyrus prints
 * two handshake tables; only the in-memory one (auxprop plugin "benchmem") is taken, the
 * one comparable with credentials in memory. A "fails: ..." row becomes a PeerCell with fails.
 */
export function parsePeer(peer: PeerName, raw: string, seconds: number, error?: string): PeerResult {
  const cells = new Map<string, PeerCell>();
  const header: string[] = [];
  let section: 'none' | 'hs' | 'hs-skip' | 'tp' | 'tp-range' = 'none';
  let sizes: number[] = [];
  let seenTable = false;
  for (const line of raw.split('\n')) {
    if (line.startsWith('(a) Full handshakes')) {
      seenTable = true;
      section = peer === 'cyrus' && !/benchmem|in-memory/.test(line) ? 'hs-skip' : 'hs';
      continue;
    }
    if (line.startsWith('(b) wrap+unwrap')) {
      seenTable = true;
      section = 'tp';
      continue;
    }
    if (!seenTable) {
      // Versions, CPU, flags: the lines that say what ran.
      if (/^(JDK|CPU|JVM flags|Debian|OpenSSL|cc|libsasl2):/.test(line)) header.push(line.replace(/\s+/g, ' ').trim());
      continue;
    }
    if (/^\s*min\.\.max of the/.test(line)) {
      section = 'tp-range';
      continue;
    }
    if (/^\s*framing check/.test(line)) {
      section = 'none';
      continue;
    }
    if (section === 'tp' && /qop\/cipher/.test(line)) {
      sizes = [...line.matchAll(/(\d+) KiB/g)].map((m) => Number(m[1]) * 1024);
      continue;
    }
    const fails = /^ {4}(\S+)\s+fails:\s*(.*)$/.exec(line);
    if (section === 'hs') {
      const m = /^ {4}(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+\s*$/.exec(line);
      if (m) cells.set(`handshake/${m[1]}`, { median: Number(m[2]), min: Number(m[3]), max: Number(m[4]) });
      else if (fails) cells.set(`handshake/${fails[1]}`, { fails: fails[2]! });
    } else if (section === 'tp') {
      const m = /^ {4}(\S+)((?:\s+[\d.]+)+)\s*$/.exec(line);
      if (m) {
        const values = m[2]!.trim().split(/\s+/).map(Number);
        values.forEach((v, k) => sizes[k] && cells.set(`wrap+unwrap/${tpLabel(m[1]!)}/${sizes[k]}`, { median: v }));
      } else if (fails) {
        for (const size of sizes) cells.set(`wrap+unwrap/${tpLabel(fails[1]!)}/${size}`, { fails: fails[2]! });
      }
    } else if (section === 'tp-range') {
      const m = /^ {4}(\S+)((?:\s+[\d.]+\.\.[\d.]+)+)\s*$/.exec(line);
      if (m) {
        m[2]!.trim().split(/\s+/).forEach((range, k) => {
          const cell = cells.get(`wrap+unwrap/${tpLabel(m[1]!)}/${sizes[k]}`);
          const [lo, hi] = range.split('..').map(Number);
          if (cell && 'median' in cell) Object.assign(cell, { min: lo, max: hi });
        });
      }
    }
  }
  const result: PeerResult = { peer, cells, header, seconds, raw };
  if (error) result.error = error;
  else if (cells.size === 0) result.error = 'no table in its output';
  return result;
}
