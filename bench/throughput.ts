// wrap+unwrap throughput of the security layers: the client wraps, the server unwraps,
// plaintext MB/s (10^6 bytes), at 1 KiB, 16 KiB and 64 KiB. Warm-up, then the median of
// several timed runs, min and max shown. Run with --portable-check to print the backend.
//
//   npm run bench:throughput [-- --runs 5 --seconds 0.4]

import { DigestMD5Client, DigestMD5Server, cryptoBackend, type Qop } from 'digest-md5';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt('runs', 5);
const SECONDS = opt('seconds', 0.4);
const SIZES = [1024, 16384, 65536];
const SPECS: [Qop, string | undefined][] = [
  ['auth-int', undefined],
  ['auth-conf', '3des'],
  ['auth-conf', 'des'],
  ['auth-conf', 'rc4'],
  ['auth-conf', 'rc4-56'],
  ['auth-conf', 'rc4-40'],
];

async function session(qop: Qop, cipher: string | undefined) {
  const ciphers = cipher ? [cipher as '3des'] : undefined;
  const common = { service: 'imap', qop: [qop], maxbuf: 70000, ...(ciphers ? { ciphers } : {}) };
  const server = new DigestMD5Server({ ...common, hosts: 'h', credentials: { lookup: () => ({ password: 'p' }) } });
  const client = new DigestMD5Client({ ...common, username: 'u', password: 'p', host: 'h' });
  client.step(await server.step(client.step(await server.step())));
  return { c: client.securityLayer!, s: server.securityLayer! };
}

function measure(run: () => void, bytesPerCall: number, seconds: number): number {
  let calls = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  let now = start;
  while (now < until) {
    for (let k = 0; k < 8; k++) run();
    calls += 8;
    now = performance.now();
  }
  return (calls * bytesPerCall) / ((now - start) / 1000) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`wrap+unwrap throughput, client.wrap then server.unwrap, plaintext MB/s (10^6 B); backend ${cryptoBackend}; node ${process.version}`);
console.log(`warm-up ${SECONDS} s, then median of ${RUNS} runs x ${SECONDS} s (min..max)`);
console.log('qop/cipher'.padEnd(18) + SIZES.map((s) => `${s / 1024} KiB`.padStart(24)).join(''));
for (const [qop, cipher] of SPECS) {
  const { c, s } = await session(qop, cipher);
  const cells: string[] = [];
  for (const size of SIZES) {
    const msg = new Uint8Array(size).fill(0x61);
    const once = () => void s.unwrap(c.wrap(msg));
    measure(once, size, SECONDS);
    const runs = Array.from({ length: RUNS }, () => measure(once, size, SECONDS));
    cells.push(`${median(runs).toFixed(1)} (${Math.min(...runs).toFixed(0)}..${Math.max(...runs).toFixed(0)})`.padStart(24));
  }
  console.log(`${qop}${cipher ? '/' + cipher : ''}`.padEnd(18) + cells.join(''));
}
