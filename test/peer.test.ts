// `digest-md5 peer`: the interop line protocol, driven as a child process.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

const RFC_CHALLENGE = 'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8';
const RFC_RESPONSE =
  'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,' +
  'cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth';

/** Runs the peer with all of `input` on stdin; returns its stdout lines and exit status. */
function run(args: string[], input: string[]): { lines: string[]; status: number | null; stderr: string } {
  const r = spawnSync('node', [CLI, 'peer', ...args], { input: input.map((l) => l + '\n').join(''), encoding: 'utf8', timeout: 20000 });
  return { lines: r.stdout.split('\n').filter((l) => l.length > 0), status: r.status, stderr: r.stderr };
}

/** Reads a child's stdout line by line. */
function lineReader(p: ReturnType<typeof spawn>): () => Promise<string> {
  let buf = '';
  const waiting: ((l: string) => void)[] = [];
  const queue: string[] = [];
  p.stdout!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else queue.push(line);
    }
  });
  return () => new Promise<string>((r) => (queue.length ? r(queue.shift()!) : waiting.push(r)));
}

describe('digest-md5 peer', () => {
  it('client replays RFC 2831 §4 with --cnonce and accepts its rspauth', () => {
    const { lines, status } = run(['client', '--user', 'chris', '--password', 'secret', '--host', 'elwood.innosoft.com', '--cnonce', 'OA6MHXh6VqTrRk'], [
      `S: ${b64(RFC_CHALLENGE)}`,
      `S: ${b64('rspauth=ea40f60335c427b5527b84dbabcdfffd')}`,
      'Q',
    ]);
    expect(lines[0]).to.match(/^C: /);
    expect(unb64(lines[0]!.slice(3))).to.include('response=d388dad90d4bbd760a152321f2143af7');
    expect(lines[1]).to.equal('C: ');
    expect(lines[2]).to.match(/^OK qop=auth cipher=- /);
    expect(status).to.equal(0);
  });

  it('client refuses a wrong rspauth with NO and exit 1', () => {
    const { lines, status } = run(['client', '--user', 'chris', '--password', 'secret', '--host', 'elwood.innosoft.com', '--send-last'], [
      `S: ${b64(RFC_CHALLENGE)}`,
      `S: ${b64('rspauth=ea40f60335c427b5527b84dbabcdfffd')}`,
    ]);
    expect(lines[1]).to.match(/^NO mutual-auth-failed/);
    expect(lines).to.have.length(2);
    expect(status).to.equal(1);
  });

  it('server replays RFC 2831 §4 with --nonce', () => {
    const { lines, status } = run(['server', '--users', 'chris:secret', '--host', 'elwood.innosoft.com', '--nonce', 'OA6MG9tEQGm2hh'], [`C: ${b64(RFC_RESPONSE)}`, 'C: ', 'I', 'Q']);
    // The same directives as the RFC's challenge, in the JDK's order (charset before algorithm).
    expect(unb64(lines[0]!.slice(3))).to.equal('realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",charset=utf-8,algorithm=md5-sess');
    expect(unb64(lines[1]!.slice(3))).to.equal('rspauth=ea40f60335c427b5527b84dbabcdfffd');
    expect(lines[2]).to.equal('OK authid=chris authzid=chris qop=auth cipher=- ssf=0 realm=elwood.innosoft.com bound=elwood.innosoft.com maxbuf=65536 sendmaxbuf=65536 rawsendsize=0 reauth=full');
    expect(lines[3]).to.equal('I: ' + lines[2]!.slice(3));
    expect(status).to.equal(0);
  });

  it('answers bad lines with E: and carries on, never crashing', () => {
    const { lines, status } = run(['server', '--users', 'chris:secret', '--host', 'elwood.innosoft.com', '--nonce', 'OA6MG9tEQGm2hh', '--send-last'], [
      'hello',
      'C: !!!notbase64',
      'S: AAAA',
      `C: ${b64(RFC_RESPONSE)}`,
      'P: aGVsbG8=',
      'X',
      'Q',
    ]);
    expect(lines[0]).to.match(/^S: /);
    expect(lines.slice(1, 4).every((l) => l.startsWith('E: '))).to.equal(true);
    expect(lines[4]).to.match(/^S: /);
    expect(lines[5]).to.match(/^OK /);
    expect(lines[6]).to.match(/^E: bad-state: no security layer/); // bare mode with qop=auth
    expect(lines[7]).to.match(/^E: unknown command/);
    expect(status).to.equal(0);
  });

  it('framed qop=auth passes the bytes through unchanged', () => {
    const { lines } = run(['server', '--users', 'chris:secret', '--host', 'elwood.innosoft.com', '--nonce', 'OA6MG9tEQGm2hh', '--send-last', '--framed'], [
      `C: ${b64(RFC_RESPONSE)}`,
      'P: aGVsbG8=',
      'D: aGVsbG8=',
      'W: aGVsbG8=',
      'Q',
    ]);
    expect(lines.slice(3)).to.deep.equal(['W: aGVsbG8=', 'U: aGVsbG8=', 'U: aGVsbG8=', 'W: b2xsZWg=']);
  });

  it('server answers a garbage response with NO and exit 1', () => {
    const { lines, status } = run(['server', '--users', 'chris:secret'], [`C: ${b64('username=')}`]);
    expect(lines[1]).to.match(/^NO malformed/);
    expect(status).to.equal(1);
  });

  it('exits 1 when input ends during authentication', () => {
    expect(run(['server', '--users', 'chris:secret'], []).status).to.equal(1);
  });

  it('rejects bad flags with exit 2', () => {
    for (const args of [['server'], ['client', '--user', 'x'], ['server', '--users', 'nocolon'], ['server', '--users', 'a:b', '--bogus'], ['client', '--user', 'a', '--password', 'b', '--qop', 'auth,none'], ['server', '--users', 'a:b', '--maxbuf', '5'], ['both']]) {
      const r = run(args, []);
      expect(r.status, args.join(' ')).to.equal(2);
      expect(r.stderr).to.match(/digest-md5 peer: /);
    }
  });

  it('pairs our client with our server: aes by default with auth-conf, framed data both ways', async () => {
    const server = spawn('node', [CLI, 'peer', 'server', '--users', 'chris:secret', '--qop', 'auth-conf', '--framed', '--maxbuf', '1000'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const client = spawn('node', [CLI, 'peer', 'client', '--user', 'chris', '--password', 'secret', '--qop', 'auth-conf', '--framed'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const killer = setTimeout(() => (server.kill(), client.kill()), 15000);
    const [fromS, fromC] = [lineReader(server), lineReader(client)];
    const toS = (l: string) => server.stdin!.write(l + '\n');
    const toC = (l: string) => client.stdin!.write(l + '\n');
    toC(await fromS());
    toS(await fromC());
    toC(await fromS());
    toS(await fromC());
    expect(await fromC()).to.match(/^OK qop=auth-conf cipher=aes ssf=128 /);
    expect(await fromS()).to.match(/^OK authid=chris authzid=chris qop=auth-conf cipher=aes /);
    const msg = Buffer.alloc(5000, 7).toString('base64'); // over the server's maxbuf: several buffers
    toC(`P: ${msg}`);
    const w = await fromC();
    toS(`D: ${w.slice(3)}`);
    expect(await fromS()).to.equal(`U: ${msg}`);
    toS(`P: ${msg}`);
    toC(`D: ${(await fromS()).slice(3)}`);
    expect(await fromC()).to.equal(`U: ${msg}`);
    toS('Q');
    toC('Q');
    await Promise.all([new Promise((r) => server.on('exit', r)), new Promise((r) => client.on('exit', r))]);
    clearTimeout(killer);
  });

  it('pairs our client with our server, -i included', async () => {
    const server = spawn('node', [CLI, 'peer', 'server', '--users', 'ωuser:Ωmega', '--realm', 'example.org', '-i'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const client = spawn('node', [CLI, 'peer', 'client', '--user', 'ωuser', '--password', 'Ωmega', '-i'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const fromS = lineReader(server);
    const fromC = lineReader(client);
    const toS = (l: string) => server.stdin!.write(l + '\n');
    const toC = (l: string) => client.stdin!.write(l + '\n');
    const killer = setTimeout(() => (server.kill(), client.kill()), 15000);
    const ir = await fromC();
    expect(ir).to.equal('C: -');
    toS(ir);
    toC(await fromS()); // challenge
    toS(await fromC()); // response
    toC(await fromS()); // rspauth
    toS(await fromC()); // empty C:
    expect(await fromC()).to.match(/^OK qop=auth/);
    expect(await fromS()).to.match(/^OK authid=ωuser /);
    toS('Q');
    toC('Q');
    await Promise.all([new Promise((r) => server.on('exit', r)), new Promise((r) => client.on('exit', r))]);
    clearTimeout(killer);
    expect(server.exitCode).to.equal(0);
    expect(client.exitCode).to.equal(0);
  });
});
