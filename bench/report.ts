// Turning the measurements into the printed table, the JSON document, BENCHMARKS.md and
// the chart bench/throughput.svg.

import type { BackendResult, Measured } from './common.js';
import type { PeerCell, PeerResult } from './peers.js';

/** One row of the JSON document (the issue's shape; figures are medians). */
export interface Row {
  name: string;
  unit: string;
  ours: number;
  jdk: number | null;
  cyrus: number | null;
  ratioJdk: number | null;
  ratioCyrus: number | null;
  limit: number | null;
  fractionOfLimit: number | null;
  min: number | null;
  max: number | null;
  note?: string;
}

export interface Report {
  rows: Row[];
  /** The same rows on the portable backend (the Node backend is the headline). */
  portable: { rows: Row[] } | null;
  primitives: { node: Measured[]; portable: Measured[] };
  targets: Target[];
  meta: Meta;
}

export interface Meta {
  /** The backend of the main rows. */
  backend: string;
  command: string;
  date: string;
  machine: Record<string, string>;
  timing: string;
  notes: string[];
  peers: Record<string, { header: string[]; seconds: number; error: string | null } | null>;
  seconds: number;
}

export interface Target {
  target: string;
  row: string;
  value: number | null;
  need: number;
  /** 'ratio' (ours/peer ≥ need), 'fraction' (of the limit ≥ need), 'max' (≤ need), 'present'. */
  kind: 'ratioJdk' | 'ratioCyrus' | 'fraction' | 'max' | 'present';
  status: 'met' | 'missed' | 'n/a';
  /** false when the row was not measured in this run (a --sections subset). */
  measured?: boolean;
}

/** Six significant digits are plenty for a figure that varies by a few percent from run to run. */
const round = (v: number | null): number | null => (v === null ? null : Number(v.toPrecision(6)));

const peerValue = (cell: PeerCell | undefined): number | null => (cell && 'median' in cell ? cell.median : null);

export function buildRows(result: BackendResult, peers: Partial<Record<'jdk' | 'cyrus', PeerResult>>): Row[] {
  return result.rows.map((m) => {
    const jdk = peerValue(peers.jdk?.cells.get(m.name));
    const cyrus = peerValue(peers.cyrus?.cells.get(m.name));
    const ours = m.ours.median;
    const isMemory = m.unit === 'B';
    const row: Row = {
      name: m.name,
      unit: m.unit,
      ours: round(ours)!,
      jdk,
      cyrus,
      ratioJdk: jdk ? round(ours / jdk) : null,
      ratioCyrus: cyrus ? round(ours / cyrus) : null,
      limit: m.limit ? round(m.limit.median) : null,
      fractionOfLimit: m.limit ? round(ours / m.limit.median) : null,
      min: isMemory ? null : round(m.ours.min),
      max: isMemory ? null : round(m.ours.max),
    };
    if (m.note) row.note = m.note;
    return row;
  });
}

/** The targets of issue 8, on the Node backend's rows. */
export function checkTargets(rows: Row[]): Target[] {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const specs: [string, string, Target['kind'], number][] = [
    ['handshakes auth ≥ 1.0× Cyrus (in memory)', 'handshake/auth', 'ratioCyrus', 1.0],
    ['handshakes auth ≥ 2.5× JDK', 'handshake/auth', 'ratioJdk', 2.5],
    ['handshakes auth-int ≥ 1.0× Cyrus (in memory)', 'handshake/auth-int', 'ratioCyrus', 1.0],
    ['handshakes auth-int ≥ 2.5× JDK', 'handshake/auth-int', 'ratioJdk', 2.5],
    ['handshakes rc4 ≥ 2× JDK', 'handshake/auth-conf/rc4', 'ratioJdk', 2.0],
    ['handshakes des ≥ 2× JDK', 'handshake/auth-conf/des', 'ratioJdk', 2.0],
    ['handshakes 3des ≥ 2× JDK', 'handshake/auth-conf/3des', 'ratioJdk', 2.0],
    ['auth-int at 64 KiB ≥ 1.0× Cyrus', 'wrap+unwrap/auth-int/65536', 'ratioCyrus', 1.0],
    ['auth-int at 64 KiB ≈ 0.9 of the HMAC-MD5 limit', 'wrap+unwrap/auth-int/65536', 'fraction', 0.9],
    ['rc4 at 64 KiB ≥ 1.0× Cyrus', 'wrap+unwrap/rc4/65536', 'ratioCyrus', 1.0],
    ['3des at 64 KiB ≥ 1.5× JDK', 'wrap+unwrap/3des/65536', 'ratioJdk', 1.5],
    ['des at 64 KiB ≥ 1.0× JDK', 'wrap+unwrap/des/65536', 'ratioJdk', 1.0],
    ['aes reported', 'wrap+unwrap/aes/65536', 'present', 0],
    ['auth-int at 1 KiB ≥ 1.0× JDK', 'wrap+unwrap/auth-int/1024', 'ratioJdk', 1.0],
    ['≤ 1 KiB of heap per cached authenticated context', 'memory/cached-context', 'max', 1024],
  ];
  return specs.map(([target, row, kind, need]) => {
    const r = byName.get(row);
    let value: number | null = null;
    if (r) {
      if (kind === 'ratioJdk') value = r.ratioJdk;
      else if (kind === 'ratioCyrus') value = r.ratioCyrus;
      else if (kind === 'fraction') value = r.fractionOfLimit;
      else value = r.ours;
    }
    let status: Target['status'] = 'n/a';
    if (value !== null) {
      if (kind === 'present') status = 'met';
      else if (kind === 'max') status = value <= need ? 'met' : 'missed';
      else status = value >= need ? 'met' : 'missed';
    }
    return { target, row, value, need, kind, status, ...(r ? {} : { measured: false }) };
  });
}

// ------------------------------------------------------------------ formatting

function fmt(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (unit === 'MB/s') return v >= 100 ? v.toFixed(0) : v.toFixed(1);
  return Math.round(v).toString();
}
const ratio = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)}x`);
const frac = (v: number | null) => (v === null ? '-' : v.toFixed(2));

function peerText(cell: PeerCell | undefined, unit: string): string {
  if (!cell) return '-';
  return 'fails' in cell ? 'fails' : fmt(cell.median, unit);
}

const UNIT_SHORT: Record<string, string> = { 'handshakes/s': 'hs/s', 'verifications/s': 'v/s', 'MB/s': 'MB/s', B: 'B' };

export function describeTarget(t: Target): string {
  const v =
    t.measured === false
      ? 'not measured in this run'
      : t.value === null
      ? t.kind === 'ratioJdk' || t.kind === 'ratioCyrus'
        ? `no ${t.kind === 'ratioJdk' ? 'JDK' : 'Cyrus'} figure for this row`
        : 'no figure'
      : t.kind === 'max'
        ? `${Math.round(t.value)} B`
        : t.kind === 'present'
          ? `${fmt(t.value, 'MB/s')} MB/s`
          : t.kind === 'fraction'
            ? `${t.value.toFixed(2)} of the limit`
            : `${t.value.toFixed(2)}x`;
  let gap = '';
  if (t.status === 'missed' && t.value !== null) {
    gap = t.kind === 'max' ? ` (${Math.round(t.value - t.need)} B over)` : ` (${((t.value / t.need) * 100).toFixed(0)}% of the target)`;
  }
  return `${t.status.padEnd(6)} ${t.target}: ${v}${gap}`;
}

/** The plain-text report printed by default. */
export function textReport(rep: Report, peers: Partial<Record<'jdk' | 'cyrus', PeerResult>>): string {
  const out: string[] = [];
  const m = rep.meta;
  out.push(`digest-md5 benchmark, ${m.date}`);
  for (const [k, v] of Object.entries(m.machine)) out.push(`  ${k}: ${v}`);
  out.push(`  timing: ${m.timing}`);
  for (const n of m.notes) out.push(`  note: ${n}`);
  for (const [name, p] of Object.entries(m.peers)) {
    if (p) out.push(`  ${name}: ${p.error ? `FAILED (${p.error})` : p.header.join('; ')} [${p.seconds.toFixed(0)} s]`);
  }
  out.push('');
  const portable = new Map((rep.portable?.rows ?? []).map((r) => [r.name, r]));
  const head =
    'row'.padEnd(32) +
    'unit'.padStart(6) +
    'ours'.padStart(9) +
    'min..max'.padStart(18) +
    'limit'.padStart(9) +
    'frac'.padStart(6) +
    'JDK'.padStart(9) +
    'ours/JDK'.padStart(10) +
    'Cyrus'.padStart(9) +
    'ours/Cyr'.padStart(10) +
    'portable'.padStart(10) +
    'frac'.padStart(6);
  out.push(
    rep.portable
      ? 'Node backend (the headline); the portable backend in the last two columns. Medians; ratios are ours / theirs.'
      : `${rep.meta.backend} backend only. Medians; ratios are ours / theirs.`,
  );
  out.push(head);
  let prev = '';
  for (const r of rep.rows) {
    const group = r.name.split('/')[0]!;
    if (prev && group !== prev) out.push('');
    prev = group;
    const u = r.unit;
    const range = r.min === null ? '' : `${fmt(r.min, u)}..${fmt(r.max, u)}`;
    const p = portable.get(r.name);
    out.push(
      r.name.padEnd(32) +
        (UNIT_SHORT[u] ?? u).padStart(6) +
        fmt(r.ours, u).padStart(9) +
        range.padStart(18) +
        fmt(r.limit, u).padStart(9) +
        frac(r.fractionOfLimit).padStart(6) +
        peerText(peers.jdk?.cells.get(r.name), u).padStart(9) +
        ratio(r.ratioJdk).padStart(10) +
        peerText(peers.cyrus?.cells.get(r.name), u).padStart(9) +
        ratio(r.ratioCyrus).padStart(10) +
        fmt(p?.ours, u).padStart(10) +
        frac(p?.fractionOfLimit ?? null).padStart(6),
    );
  }
  out.push('');
  for (const [backend, list] of Object.entries(rep.primitives)) {
    if (list.length === 0) continue;
    out.push(`primitives alone (${backend} backend), MB/s of the message bytes:`);
    for (const p of list) out.push(`  ${p.name.padEnd(26)}${fmt(p.ours.median, 'MB/s').padStart(8)}  ${p.note ?? ''}`);
  }
  const memNotes = rep.rows.filter((r) => r.unit === 'B' && r.note);
  if (memNotes.length) {
    out.push('');
    for (const r of memNotes) out.push(`${r.name}: ${r.note}`);
  }
  if (rep.targets.some((t) => t.status !== 'n/a' || peers.jdk || peers.cyrus)) {
    out.push('');
    out.push('issue 8 targets (Node backend):');
    for (const t of rep.targets) out.push('  ' + describeTarget(t));
  }
  return out.join('\n');
}

// ------------------------------------------------------------------ chart

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Grouped bars: wrap+unwrap MB/s at 64 KiB per qop/cipher, ours (both backends) beside the JDK and Cyrus, the limit as a tick. */
export function chartSvg(rep: Report, peers: Partial<Record<'jdk' | 'cyrus', PeerResult>>): string {
  const labels = ['auth-int', 'aes', 'rc4', 'rc4-56', 'rc4-40', 'des', '3des'];
  const size = 65536;
  const node = new Map(rep.rows.map((r) => [r.name, r]));
  const portable = new Map((rep.portable?.rows ?? []).map((r) => [r.name, r]));
  const series: { name: string; color: string; get: (row: string) => number | null | 'fails' }[] = [
    { name: 'digest-md5 (Node backend)', color: '#1f6fb4', get: (r) => node.get(r)?.ours ?? null },
    { name: 'digest-md5 (portable backend)', color: '#7fb2e0', get: (r) => portable.get(r)?.ours ?? null },
    { name: 'JDK 17', color: '#d9822b', get: (r) => cellOf(peers.jdk?.cells.get(r)) },
    { name: 'Cyrus SASL 2.1.28', color: '#4f9a55', get: (r) => cellOf(peers.cyrus?.cells.get(r)) },
  ];
  const values = labels.flatMap((l) => [
    ...series.map((s) => s.get(`wrap+unwrap/${l}/${size}`)),
    node.get(`wrap+unwrap/${l}/${size}`)?.limit ?? null,
  ]);
  const maxV = Math.max(1, ...values.filter((v): v is number => typeof v === 'number'));
  const step = niceStep(maxV / 6);
  const top = Math.ceil(maxV / step) * step;
  const W = 1040;
  const H = 460;
  const left = 64;
  const right = 16;
  const plotTop = 70;
  const plotBottom = H - 60;
  const plotH = plotBottom - plotTop;
  const groupW = (W - left - right) / labels.length;
  const barW = Math.min(26, (groupW - 24) / series.length);
  const y = (v: number) => plotBottom - (v / top) * plotH;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(`<text x="${left}" y="22" font-size="16" font-weight="bold">wrap+unwrap throughput at 64 KiB, plaintext MB/s (10^6 B/s), one thread</text>`);
  o.push(`<text x="${left}" y="40" fill="#555">${esc(`client wraps, server unwraps; medians; ${rep.meta.date}; ${rep.meta.machine.cpu ?? ''}`)}</text>`);
  // legend
  let lx = left;
  for (const s of series) {
    o.push(`<rect x="${lx}" y="50" width="12" height="12" fill="${s.color}"/><text x="${lx + 16}" y="60">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 6.6;
  }
  o.push(`<line x1="${lx}" y1="56" x2="${lx + 18}" y2="56" stroke="#c0392b" stroke-width="2" stroke-dasharray="4 2"/><text x="${lx + 22}" y="60">limit of the primitives (Node)</text>`);
  // grid
  for (let v = 0; v <= top + 1e-9; v += step) {
    o.push(`<line x1="${left}" y1="${y(v).toFixed(1)}" x2="${W - right}" y2="${y(v).toFixed(1)}" stroke="${v === 0 ? '#333' : '#e3e3e3'}"/>`);
    o.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${v}</text>`);
  }
  o.push(`<text transform="translate(16 ${(plotTop + plotBottom) / 2}) rotate(-90)" text-anchor="middle" fill="#555">MB/s</text>`);
  labels.forEach((l, g) => {
    const row = `wrap+unwrap/${l}/${size}`;
    const gx = left + g * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, k) => {
      const v = s.get(row);
      const x = gx + k * barW;
      if (typeof v === 'number') {
        o.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(plotBottom - y(v)).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.name} ${l}: ${fmt(v, 'MB/s')} MB/s`)}</title></rect>`);
        o.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(v, 'MB/s')}</text>`);
      } else {
        const why = v === 'fails' ? 'fails' : 'n/a';
        o.push(`<text transform="translate(${(x + barW / 2 + 3).toFixed(1)} ${plotBottom - 4}) rotate(-90)" font-size="10" fill="#888">${why}</text>`);
      }
    });
    const lim = node.get(row)?.limit;
    if (typeof lim === 'number') {
      o.push(`<line x1="${(gx - 4).toFixed(1)}" y1="${y(lim).toFixed(1)}" x2="${(gx + barW * series.length + 2).toFixed(1)}" y2="${y(lim).toFixed(1)}" stroke="#c0392b" stroke-width="2" stroke-dasharray="4 2"><title>limit ${fmt(lim, 'MB/s')} MB/s</title></line>`);
    }
    o.push(`<text x="${(left + g * groupW + groupW / 2).toFixed(1)}" y="${plotBottom + 18}" text-anchor="middle" font-weight="bold">${esc(l)}</text>`);
  });
  o.push(`<text x="${left}" y="${H - 14}" fill="#555">${esc('Generated by npm run bench -- --write (bench/bench.ts). "fails": Debian\'s Cyrus cannot run 3des under OpenSSL 3; "n/a": no such row (neither peer has aes).')}</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}

function cellOf(c: PeerCell | undefined): number | null | 'fails' {
  if (!c) return null;
  return 'fails' in c ? 'fails' : c.median;
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const f of [1, 2, 2.5, 5, 10]) if (raw <= f * p) return f * p;
  return 10 * p;
}

// ------------------------------------------------------------------ BENCHMARKS.md

function mdTable(rows: Row[], peers: Partial<Record<'jdk' | 'cyrus', PeerResult>>, withPeers: boolean): string {
  const o: string[] = [];
  o.push(
    withPeers
      ? '| row | unit | ours | min..max | limit | of limit | JDK | ours/JDK | Cyrus | ours/Cyrus |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
      : '| row | unit | ours | min..max | limit | of limit |\n| --- | --- | ---: | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    const u = r.unit;
    const range = r.min === null ? '' : `${fmt(r.min, u)}..${fmt(r.max, u)}`;
    const base = `| \`${r.name}\` | ${u} | ${fmt(r.ours, u)} | ${range} | ${fmt(r.limit, u)} | ${frac(r.fractionOfLimit)} |`;
    o.push(
      withPeers
        ? `${base} ${peerText(peers.jdk?.cells.get(r.name), u)} | ${ratio(r.ratioJdk)} | ${peerText(peers.cyrus?.cells.get(r.name), u)} | ${ratio(r.ratioCyrus)} |`
        : base,
    );
  }
  return o.join('\n');
}

export function markdown(rep: Report, peers: Partial<Record<'jdk' | 'cyrus', PeerResult>>, definitions: string): string {
  const m = rep.meta;
  const o: string[] = [];
  o.push('# Benchmarks');
  o.push('');
  o.push('<!-- generated by `npm run bench -- --write` (bench/bench.ts); do not edit by hand -->');
  o.push('');
  o.push(`Produced by \`${m.command}\` on ${m.date} (${m.seconds.toFixed(0)} s in all).`);
  o.push('');
  o.push('## Machine');
  o.push('');
  for (const [k, v] of Object.entries(m.machine)) o.push(`- ${k}: ${v}`);
  for (const [name, p] of Object.entries(m.peers)) {
    if (p) o.push(`- ${name} peer: ${p.error ? `failed (${p.error})` : p.header.join('; ')}`);
  }
  o.push(`- timing: ${m.timing}`);
  o.push('');
  o.push('## Issue 8 targets (Node backend)');
  o.push('');
  o.push('| target | figure | status |\n| --- | --- | --- |');
  for (const t of rep.targets) {
    const d = describeTarget(t);
    const figure = d.slice(d.indexOf(': ') + 2);
    o.push(`| ${t.target} | ${figure} | ${t.status} |`);
  }
  o.push('');
  o.push(`## Results, ${rep.meta.backend === 'node' ? 'Node backend (the headline)' : `${rep.meta.backend} backend`}`);
  o.push('');
  o.push('![wrap+unwrap throughput at 64 KiB per cipher, beside the JDK and Cyrus](bench/throughput.svg)');
  o.push('');
  o.push(mdTable(rep.rows, peers, true));
  o.push('');
  if (rep.portable) {
    o.push('## Results, portable backend (`--conditions=portable`: @noble/hashes, TypeScript ciphers)');
    o.push('');
    o.push(mdTable(rep.portable.rows, peers, true));
    o.push('');
  }
  o.push('## Primitives alone');
  o.push('');
  o.push('| backend | primitive | MB/s of the message bytes | what |\n| --- | --- | ---: | --- |');
  for (const [backend, list] of Object.entries(rep.primitives)) {
    for (const p of list) o.push(`| ${backend} | \`${p.name}\` | ${fmt(p.ours.median, 'MB/s')} | ${p.note ?? ''} |`);
  }
  o.push('');
  const mem = rep.rows.filter((r) => r.unit === 'B');
  if (mem.length) {
    o.push(`## Memory (${rep.meta.backend} backend)`);
    o.push('');
    for (const r of mem) o.push(`- \`${r.name}\`: ${fmt(r.ours, 'B')} B; ${r.note ?? ''}`);
    o.push('');
  }
  if (m.notes.length) {
    o.push('## Notes from the run');
    o.push('');
    for (const n of m.notes) o.push(`- ${n}`);
    o.push('');
  }
  o.push(definitions);
  return o.join('\n') + '\n';
}
