// Pairs two line-protocol peers (shared/interop/README.md) in-process, for tests that
// need more than relay.py's fixed data tests: many message sizes, exact boundaries,
// hand-made tampering. Relays the handshake, then lets the test drive each side.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export class LinePeer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private readonly queue: string[] = [];
  private waiter: ((l: string | undefined) => void) | undefined;
  private ended = false;
  stderr = '';

  constructor(readonly name: string, command: string, cwd: string) {
    this.proc = spawn('/bin/sh', ['-c', command], { cwd });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.push(this.buf.slice(0, i).replace(/\r$/, ''));
        this.buf = this.buf.slice(i + 1);
      }
    });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.proc.on('close', () => {
      this.ended = true;
      this.waiter?.(undefined);
      this.waiter = undefined;
    });
    this.proc.stdin.on('error', () => {});
  }

  private push(line: string): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(line);
    } else this.queue.push(line);
  }

  send(line: string): void {
    if (!this.ended) this.proc.stdin.write(line + '\n');
  }

  /** The next line, or undefined at exit; rejects after `ms`. */
  next(ms = 20000): Promise<string | undefined> {
    const l = this.queue.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`${this.name}: no line within ${ms} ms\n${this.stderr.slice(-2000)}`));
      }, ms);
      this.waiter = (line) => {
        clearTimeout(t);
        resolve(line);
      };
    });
  }

  /** Sends a line and returns the answer. */
  async ask(line: string): Promise<string> {
    this.send(line);
    const a = await this.next();
    if (a === undefined) throw new Error(`${this.name} exited after "${line.slice(0, 40)}"\n${this.stderr.slice(-2000)}`);
    return a;
  }

  kill(): void {
    if (!this.ended) this.proc.kill();
  }
}

export interface Paired {
  server: LinePeer;
  client: LinePeer;
  serverOk: string;
  clientOk: string;
  /** The handshake lines relayed, as "server: S: ..." / "client: C: ...". */
  transcript: string[];
  close(): void;
}

/**
 * Starts both peers and relays S:/C: lines until each has printed OK or NO.
 * The handshake is strictly alternating, so one line at a time from the side whose turn it is.
 */
export async function pair(serverCmd: string, clientCmd: string, cwd: string, initialResponse = false): Promise<Paired> {
  const server = new LinePeer('server', serverCmd, cwd);
  const client = new LinePeer('client', clientCmd, cwd);
  const close = () => {
    server.send('Q');
    client.send('Q');
    setTimeout(() => (server.kill(), client.kill()), 2000).unref();
  };
  let serverOk: string | undefined;
  let clientOk: string | undefined;
  const transcript: string[] = [];
  try {
    let turn: 'server' | 'client' = initialResponse ? 'client' : 'server';
    while (serverOk === undefined || clientOk === undefined) {
      const from = turn === 'server' ? server : client;
      const to = turn === 'server' ? client : server;
      if ((turn === 'server' && serverOk !== undefined) || (turn === 'client' && clientOk !== undefined)) {
        turn = turn === 'server' ? 'client' : 'server';
        continue;
      }
      const line = await from.next();
      if (line === undefined) throw new Error(`${from.name} exited during the handshake\n${from.stderr.slice(-2000)}`);
      if (line.startsWith('OK') || line.startsWith('NO')) {
        if (turn === 'server') serverOk = line;
        else clientOk = line;
        if (line.startsWith('NO')) break;
        continue; // OK/NO is a side's last handshake line: the other side has the turn
      }
      transcript.push(`${from.name}: ${line}`);
      to.send(line);
      turn = turn === 'server' ? 'client' : 'server';
    }
  } catch (e) {
    close();
    throw e;
  }
  return { server, client, serverOk: serverOk ?? 'NO (none)', clientOk: clientOk ?? 'NO (none)', transcript, close };
}
