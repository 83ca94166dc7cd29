// The sample protocol (docs/protocol.md) with the JDK as its client: `digest-md5 serve` in a
// child process, and a harness that speaks the protocol on TCP while the JDK's DIGEST-MD5
// (`java-peer client --framed`) does the mechanism and wraps and unwraps every command and
// reply. With --framed the JDK's W:/D: payloads are exactly the 4-byte framed buffers on the
// wire, so the harness only relays bytes: the protocol is checked against an implementation
// we did not write, not only against itself.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrameDecoder, frame } from '../../dist/layer/framing.js';
import { LineChannel } from '../../dist/node/line-channel.js';
import { LinePeer } from './pair.js';
import { BACKEND, INTEROP, JDK_PROTECTIONS, java, okFields, requireInterop } from './relay.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const NODE_ARGS = BACKEND === 'portable' ? ['--conditions=portable'] : [];
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64');

/** `digest-md5 serve` on 127.0.0.1:0; resolves once it prints its port. */
async function startServe(usersFile: string, extra: string[]): Promise<{ port: number; proc: ChildProcess; log: () => string }> {
  const proc = spawn('node', [...NODE_ARGS, CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--users', usersFile, '--hostname', 'localhost', ...extra]);
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d));
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error(`serve did not start within 10 s: ${log}`)), 10000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res(Number(m[1]));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      rej(new Error(`serve exited with ${code}: ${log}`));
    });
  });
  return { port, proc, log: () => log };
}

/**
 * The harness: our side of the TCP connection is plain lines until the server's OK, then
 * framed buffers; the JDK peer turns commands into buffers (P: -> W:) and buffers back into
 * reply text (D: -> U:).
 */
class JdkProtocolClient {
  private lines: LineChannel;
  private raw: Buffer[] = [];
  private rawWaiter: (() => void) | undefined;
  private ended = false;
  private decoder: FrameDecoder | undefined;
  private text = '';
  readonly transcript: string[] = [];

  constructor(
    readonly socket: Socket,
    readonly jdk: LinePeer,
  ) {
    socket.on('error', () => {});
    this.lines = new LineChannel(socket, 1 << 20);
  }

  static async open(port: number, jdk: LinePeer): Promise<JdkProtocolClient> {
    const s = connect({ port, host: '127.0.0.1' });
    await new Promise((r, j) => (s.once('connect', r), s.once('error', j)));
    return new JdkProtocolClient(s, jdk);
  }

  /** A line before the switch, within 10 s. */
  async line(): Promise<string> {
    let t: NodeJS.Timeout | undefined;
    const l = await Promise.race([this.lines.next(), new Promise<never>((_, j) => (t = setTimeout(() => j(new Error('no line from the server within 10 s')), 10000)))]).finally(() =>
      clearTimeout(t),
    );
    if (l.kind !== 'line') throw new Error(`server: ${l.kind} instead of a line`);
    this.transcript.push(`S: ${l.text}`);
    return l.text;
  }

  send(line: string): void {
    this.transcript.push(`C: ${line}`);
    this.socket.write(line + '\r\n');
  }

  /** AUTHENTICATE DIGEST-MD5, relayed to the JDK; returns the server's and the JDK's OK lines. */
  async authenticate(): Promise<{ server: string; jdk: string }> {
    this.send('AUTHENTICATE DIGEST-MD5');
    const challenge = await this.line();
    expect(challenge).to.match(/^\+ /);
    const response = await this.jdk.ask(`S: ${challenge.slice(2)}`);
    expect(response, this.jdk.stderr).to.match(/^C: /);
    this.send(response.slice(3));
    const rspauth = await this.line();
    expect(rspauth, 'rspauth line').to.match(/^\+ /);
    // --no-send-last: the JDK checks rspauth, prints the empty "C: ", then its OK.
    const empty = await this.jdk.ask(`S: ${rspauth.slice(2)}`);
    expect(empty, this.jdk.stderr).to.equal('C: ');
    const jdkOk = (await this.jdk.next())!;
    expect(jdkOk, this.jdk.stderr).to.match(/^OK /);
    this.send('');
    const ok = await this.line();
    expect(ok).to.match(/^OK qop=/);
    if (!ok.includes('qop=auth ')) this.switchToLayer(okFields(jdkOk).maxbuf!);
    return { server: ok, jdk: jdkOk };
  }

  /** From here on the socket carries buffers: read raw bytes and cut them at the length fields. */
  private switchToLayer(maxbuf: string): void {
    const head = this.lines.detach();
    this.decoder = new FrameDecoder(Number(maxbuf));
    if (head.length > 0) this.raw.push(Buffer.from(head));
    this.socket.on('data', (d: Buffer) => {
      this.raw.push(d);
      this.wake();
    });
    this.socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.rawWaiter;
    this.rawWaiter = undefined;
    w?.();
  }

  /** Sends a command through the JDK's wrap and returns the reply lines through its unwrap. */
  async command(cmd: string): Promise<string[]> {
    this.transcript.push(`C: ${cmd.slice(0, 80)}`);
    if (!this.decoder) {
      this.socket.write(cmd + '\r\n');
      return this.replyLines(() => this.line());
    }
    const w = await this.jdk.ask(`P: ${b64(Buffer.from(cmd + '\r\n'))}`);
    expect(w, this.jdk.stderr).to.match(/^W: /);
    this.socket.write(unb64(w.slice(3)));
    return this.replyLines(() => this.layerLine());
  }

  /** Lines up to and including the final OK or NO. */
  private async replyLines(next: () => Promise<string>): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < 100; i++) {
      const l = await next();
      out.push(l);
      if (/^(OK|NO)( |$)/.test(l)) return out;
    }
    throw new Error('no final OK/NO within 100 lines');
  }

  /** The next line inside the layer: buffers from the socket, unwrapped by the JDK. */
  private async layerLine(): Promise<string> {
    const deadline = Date.now() + 10000;
    for (;;) {
      const nl = this.text.indexOf('\r\n');
      if (nl >= 0) {
        const l = this.text.slice(0, nl);
        this.text = this.text.slice(nl + 2);
        this.transcript.push(`S: ${l.slice(0, 80)}`);
        return l;
      }
      const chunk = this.raw.shift();
      if (chunk) {
        for (const token of this.decoder!.push(chunk)) {
          const u = await this.jdk.ask(`D: ${b64(frame(token))}`);
          expect(u, `JDK unwrap: ${this.jdk.stderr.slice(-500)}`).to.match(/^U: /);
          this.text += unb64(u.slice(3)).toString('utf8');
        }
        continue;
      }
      if (this.ended) throw new Error('the server closed the connection');
      if (Date.now() > deadline) throw new Error('no reply from the server within 10 s');
      await new Promise<void>((r) => {
        this.rawWaiter = r;
        setTimeout(r, 200).unref();
      });
    }
  }

  /** Waits for the server to close the connection. */
  async closed(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((r, j) => {
      const t = setTimeout(() => j(new Error('the server did not close within 5 s')), 5000);
      this.socket.once('close', () => {
        clearTimeout(t);
        r();
      });
      this.socket.resume();
    });
  }
}


describe(`interop with the JDK: the sample protocol, JDK client -> digest-md5 serve (our crypto backend: ${BACKEND})`, function () {
  this.timeout(60000);
  let dir: string;
  let usersFile: string;
  const cleanup: (() => void)[] = [];

  before(() => {
    requireInterop();
    dir = mkdtempSync(join(tmpdir(), 'digest-md5-jdk-protocol-'));
    usersFile = join(dir, 'users');
    const h = createHash('md5').update('chris:example.org:secret').digest('hex');
    writeFileSync(usersFile, `chris:example.org:${h}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    for (const f of cleanup.splice(0).reverse()) f();
  });

  async function session(serveArgs: string[], jdkArgs: string) {
    const srv = await startServe(usersFile, ['--cipher', '3des,des,rc4,rc4-56,rc4-40', ...serveArgs]);
    cleanup.push(() => srv.proc.kill('SIGKILL'));
    const jdk = new LinePeer('jdk client', java('client', `--user chris --password secret --protocol sample --host localhost --framed --no-send-last ${jdkArgs}`), INTEROP);
    cleanup.push(() => jdk.kill());
    const c = await JdkProtocolClient.open(srv.port, jdk);
    cleanup.push(() => c.socket.destroy());
    return { srv, jdk, c };
  }

  for (const [qop, cipher] of JDK_PROTECTIONS) {
    const name = `${qop}${cipher ? '/' + cipher : ''}`;
    it(`${name}: greeting, CAPABILITY, AUTHENTICATE, then every command wrapped and unwrapped by the JDK`, async () => {
      const { srv, c } = await session([], `--qop ${qop}${cipher ? ` --cipher ${cipher}` : ''}`);
      expect(await c.line()).to.equal('* OK digest-md5 sample server ready');
      expect(await c.command('NOOP')).to.deep.equal(['NO authenticate first']);
      expect(await c.command('CAPABILITY')).to.deep.equal(['* CAPABILITY SASL DIGEST-MD5 qop=auth-conf,auth-int,auth cipher=3des,des,rc4,rc4-56,rc4-40', 'OK']);
      const ok = await c.authenticate();
      expect(ok.server).to.equal(`OK qop=${qop} cipher=${cipher ?? 'none'}`);
      expect(okFields(ok.jdk).qop).to.equal(qop);
      expect(okFields(ok.jdk).cipher).to.equal(cipher ?? '-');
      expect(await c.command('WHOAMI')).to.deep.equal([`OK chris realm=example.org qop=${qop} cipher=${cipher ?? 'none'} ssf=${okSsf(qop, cipher)}`]);
      expect(await c.command('ECHO hello from the JDK')).to.deep.equal(['OK hello from the JDK']);
      expect(await c.command('PUT fruit quince')).to.deep.equal(['OK stored']);
      expect(await c.command('GET fruit')).to.deep.equal(['OK quince']);
      expect(await c.command('CAPABILITY')).to.have.length(2);
      const long = 'z'.repeat(5000);
      expect(await c.command(`ECHO ${long}`)).to.deep.equal([`OK ${long}`]);
      expect(await c.command('QUIT')).to.deep.equal(['OK bye']);
      await c.closed();
      expect(srv.log()).to.include(`authenticated chris realm=example.org qop=${qop} cipher=${cipher ?? 'none'}`);
      expect(srv.log()).to.include(`crypto backend: ${BACKEND}`);
    });
  }

  for (const [qop, cipher] of [['auth-int', undefined], ['auth-conf', '3des'], ['auth-conf', 'rc4']] as const) {
    it(`${qop}${cipher ? '/' + cipher : ''} with maxbuf 1000 both ways: commands and replies split into buffers at the peer's maxbuf`, async () => {
      const { c, jdk } = await session(['--maxbuf', '1000'], `--qop ${qop}${cipher ? ` --cipher ${cipher}` : ''} --maxbuf 1000`);
      await c.line();
      await c.authenticate();
      for (const n of [10, 980, 3000]) {
        const text = 'q'.repeat(n);
        expect(await c.command(`ECHO ${text}`)).to.deep.equal([`OK ${text}`]);
      }
      expect(okFields((await jdk.ask('I')).replace(/^I: /, 'OK ')).sendmaxbuf).to.equal('1000');
    });
  }

  it('a command the JDK wrapped and the harness altered ends the session: the server closes without answering', async () => {
    const { srv, c, jdk } = await session([], '--qop auth-conf --cipher rc4');
    await c.line();
    await c.authenticate();
    expect(await c.command('ECHO fine')).to.deep.equal(['OK fine']);
    const w = unb64((await jdk.ask(`P: ${b64(Buffer.from('ECHO altered\r\n'))}`)).slice(3));
    w[w.length - 8]! ^= 0x01; // the MAC, under the cipher
    c.socket.write(w);
    await c.closed();
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.log()).to.match(/integrity: MAC or padding check failed/);
  });
});

function okSsf(qop: string, cipher: string | undefined): number {
  if (qop === 'auth') return 0;
  if (qop === 'auth-int') return 1;
  return { '3des': 112, des: 56, rc4: 128, 'rc4-56': 56, 'rc4-40': 40 }[cipher!]!;
}
