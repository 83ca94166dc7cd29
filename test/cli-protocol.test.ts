// `digest-md5 serve` and `digest-md5 connect` as child processes: help, usage errors as one
// line, a users file of H(user:realm:password), and a scripted session on 127.0.0.1.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const md5hex = (s: string) => createHash('md5').update(s).digest('hex');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without a password, plus `env`. */
function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  const e = { ...process.env, ...env };
  if (!('DIGEST_MD5_PASSWORD' in env)) delete e.DIGEST_MD5_PASSWORD;
  return e;
}

function run(args: string[], input = '', env: Record<string, string> = {}): Run {
  const r = spawnSync('node', [CLI, ...args], { input, encoding: 'utf8', timeout: 15000, env: environment(env) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like run(), but asynchronous, so that a server in this process's children can answer. */
function runAsync(args: string[], input: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn('node', [CLI, ...args], { env: environment(env) });
    let stdout = '';
    let stderr = '';
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`connect did not exit within 15 s\n${stderr}`));
    }, 15000);
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
    p.stdin.end(input);
  });
}

describe('digest-md5 serve / connect', function () {
  this.timeout(30000);
  let dir: string;
  let usersFile: string;
  const children: ChildProcess[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'digest-md5-cli-'));
    usersFile = join(dir, 'users');
    writeFileSync(
      usersFile,
      ['# test accounts', `alice:example.org:${md5hex('alice:example.org:wonderland')}`, '', `bob:example.org:${md5hex('bob:example.org:builder').toUpperCase()}`, ''].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });

  /** Starts `serve`, returns its port once it prints "listening on". */
  async function serve(extra: string[] = []): Promise<{ port: number; proc: ChildProcess; stderr: () => string }> {
    const proc = spawn('node', [CLI, 'serve', '--port', '0', '--users', usersFile, ...extra]);
    children.push(proc);
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`serve printed no address within 10 s: ${stderr}`)), 10000);
      proc.stdout!.on('data', (d: Buffer) => {
        out += d;
        const m = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
      proc.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    return { port, proc, stderr: () => stderr };
  }

  it('--help on every command, exit 0', () => {
    for (const [args, re] of [
      [['--help'], /^usage: digest-md5 <command>/],
      [['serve', '--help'], /^usage: digest-md5 serve --port P --users FILE/],
      [['connect', '--help'], /^usage: digest-md5 connect HOST:PORT --user U/],
      [['peer', '--help'], /^usage: digest-md5 peer server\|client/],
      [['version', '--help'], /^usage: digest-md5 version/],
    ] as const) {
      const r = run([...args]);
      expect(r.status, args.join(' ')).to.equal(0);
      expect(r.stdout).to.match(re);
    }
  });

  it('usage errors: one line on stderr, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [[], /a command is required/],
      [['frob'], /unknown command "frob"/],
      [['serve'], /--port is required/],
      [['serve', '--port', '0'], /--users is required/],
      [['serve', '--port', 'x', '--users', 'f'], /--port must be a whole number/],
      [['serve', '--port', '70000', '--users', 'f'], /--port must be in 0\.\.65535/],
      [['serve', '--port', '0', '--users', 'f', '--cipher', 'rot13'], /--cipher: unknown value "rot13"/],
      [['serve', '--port', '0', '--users', 'f', '--bogus'], /unknown option: --bogus/],
      [['connect'], /HOST:PORT is required/],
      [['connect', 'localhost'], /"localhost" is not HOST:PORT/],
      [['connect', 'localhost:0', '--user', 'a'], /port 0 is not in 1\.\.65535/],
      [['connect', '127.0.0.1:1'], /--user is required/],
      [['connect', '127.0.0.1:1', '--user', 'a', '--qop', 'none'], /--qop: unknown value "none"/],
      [['connect', '127.0.0.1:1', '--user', 'a'], /no password: stdin is not a terminal; set DIGEST_MD5_PASSWORD or use --password-stdin/],
      [['connect', '127.0.0.1:1', '--user', 'a', '--password-stdin'], /stdin ended before the password/],
      [['version', 'extra'], /unexpected argument: extra/],
    ];
    for (const [args, re] of cases) {
      const r = run(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(re);
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).to.have.length(1);
      expect(r.stdout).to.equal('');
    }
  });

  it('runtime errors: one line on stderr, exit 1', () => {
    const bad = join(dir, 'bad-users');
    writeFileSync(bad, `alice:example.org:${md5hex('x')}\nbob:example.org:nothex\n`);
    const cases: [string[], RegExp, Record<string, string>][] = [
      [['serve', '--port', '0', '--users', join(dir, 'missing')], /missing: no such file/, {}],
      [['serve', '--port', '0', '--users', bad], /bad-users:2: the hash must be 32 hex digits/, {}],
      [['connect', '127.0.0.1:1', '--user', 'a'], /cannot talk to 127\.0\.0\.1:1: ECONNREFUSED/, { DIGEST_MD5_PASSWORD: 'x' }],
    ];
    for (const [args, re, env] of cases) {
      const r = run(args, '', env);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(1);
      expect(r.stderr).to.match(re);
      expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
    }
  });

  it('serves a scripted session with the password from the environment or from stdin, and stops on SIGTERM', async () => {
    const { port, proc, stderr } = await serve(['--name', 'cli test']);
    const a = await runAsync(['connect', `127.0.0.1:${port}`, '--user', 'alice'], 'CAPABILITY\nECHO hi there\n\nPUT k some value\nGET k\nWHOAMI\nFROB\n', {
      DIGEST_MD5_PASSWORD: 'wonderland',
    });
    expect(a.status, a.stderr).to.equal(0);
    expect(a.stdout.split('\n')).to.deep.equal([
      '* CAPABILITY SASL DIGEST-MD5 qop=auth-conf,auth-int,auth cipher=' + a.stdout.split('cipher=')[1]!.split('\n')[0],
      'OK',
      'OK hi there',
      'OK stored',
      'OK some value',
      'OK alice realm=example.org qop=auth-conf cipher=aes ssf=128',
      'NO unknown command "FROB"',
      'OK bye',
      '',
    ]);
    expect(a.stderr).to.equal('* OK cli test ready\nauthenticated as alice: qop=auth-conf cipher=aes ssf=128\n');

    const b = await runAsync(['connect', `127.0.0.1:${port}`, '--user', 'bob', '--password-stdin', '--qop', 'auth-conf', '--cipher', 'rc4'], 'builder\nwhoami\nquit\nECHO never sent\n', {
      DIGEST_MD5_PASSWORD: 'ignored when --password-stdin is given',
    });
    expect(b.status, b.stderr).to.equal(0);
    expect(b.stdout).to.equal('OK bob realm=example.org qop=auth-conf cipher=rc4 ssf=128\nOK bye\n');

    const c = await runAsync(['connect', `127.0.0.1:${port}`, '--user', 'alice', '--qop', 'auth'], 'ECHO plain\n', { DIGEST_MD5_PASSWORD: 'wonderland' });
    expect(c.stdout).to.equal('OK plain\nOK bye\n');

    const wrong = await runAsync(['connect', `127.0.0.1:${port}`, '--user', 'alice'], 'WHOAMI\n', { DIGEST_MD5_PASSWORD: 'wrong' });
    expect(wrong.status).to.equal(1);
    expect(wrong.stderr).to.match(/^digest-md5 connect: the server refused: auth-failed: /);
    expect(wrong.stderr.trimEnd().split('\n')).to.have.length(1);

    const exited = new Promise<number | null>((r) => proc.on('exit', r));
    proc.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(stderr()).to.match(/authenticated alice realm=example.org qop=auth-conf cipher=aes/);
    expect(stderr()).to.match(/authenticated bob realm=example.org qop=auth-conf cipher=rc4/);
  });

  it('serve --qop/--cipher/--realm/--hostname shape what is offered and accepted', async () => {
    const { port } = await serve(['--qop', 'auth-int', '--realm', 'example.org', '--hostname', 'mail.example.org']);
    const ok = await runAsync(['connect', `127.0.0.1:${port}`, '--user', 'alice', '--hostname', 'mail.example.org'], 'WHOAMI\n', { DIGEST_MD5_PASSWORD: 'wonderland' });
    expect(ok.stdout, ok.stderr).to.equal('OK alice realm=example.org qop=auth-int cipher=none ssf=1\nOK bye\n');
    const wrongHost = await runAsync(['connect', `127.0.0.1:${port}`, '--user', 'alice'], '', { DIGEST_MD5_PASSWORD: 'wonderland' });
    expect(wrongHost.status).to.equal(1);
    expect(wrongHost.stderr).to.match(/invalid-response: digest-uri host "127\.0\.0\.1" is not a name of this server/);
    const noLayer = await runAsync(['connect', `127.0.0.1:${port}`, '--user', 'alice', '--hostname', 'mail.example.org', '--qop', 'auth-conf'], '', {
      DIGEST_MD5_PASSWORD: 'wonderland',
    });
    expect(noLayer.status).to.equal(1);
    expect(noLayer.stderr).to.match(/^digest-md5 connect: policy: /);
  });
});
