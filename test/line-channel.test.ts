// LineChannel (src/node/line-channel.ts): lines from any split of the bytes, bounded length,
// and detach() handing back exactly the bytes past the last line.
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { LineChannel } from '../dist/node/line-channel.js';
import { DigestMD5Error } from '../dist/index.js';

async function lines(ch: LineChannel, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = await ch.next();
    out.push(l.kind === 'line' ? l.text : `<${l.kind}>`);
  }
  return out;
}

describe('LineChannel', () => {
  it('reads CRLF and LF lines from every split of the input, and a last line without an end', async () => {
    const text = 'ONE\r\ntwo\n\r\nthré€\r\nlast';
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const p = new PassThrough();
      const ch = new LineChannel(p, 100);
      const got = lines(ch, 6);
      p.write(bytes.subarray(0, cut));
      await tick();
      p.end(bytes.subarray(cut));
      expect(await got, `cut at ${cut}`).to.deep.equal(['ONE', 'two', '', 'thré€', 'last', '<end>']);
    }
  });

  it('reports a line over the bound once, skips the rest of it, and carries on', async () => {
    const p = new PassThrough();
    const ch = new LineChannel(p, 10);
    const got = lines(ch, 5);
    p.write('0123456789\r\n'); // exactly the bound
    p.write('x'.repeat(25));
    await tick();
    p.write('y'.repeat(30) + '\nnext\n');
    p.end('01234567890\n'); // one over, with its LF in the same chunk
    expect(await got).to.deep.equal(['0123456789', '<too-long>', 'next', '<too-long>', '<end>']);
  });

  it('detach() returns the bytes read past the last line and stops reading', async () => {
    const p = new PassThrough();
    const ch = new LineChannel(p, 100);
    p.write(Buffer.concat([Buffer.from('OK qop=auth-int cipher=none\r\n'), Buffer.from([0, 0, 0, 5, 1, 2])]));
    expect(await lines(ch, 1)).to.deep.equal(['OK qop=auth-int cipher=none']);
    const rest = ch.detach();
    expect(Array.from(rest)).to.deep.equal([0, 0, 0, 5, 1, 2]);
    p.write(Buffer.from([3, 4, 5]));
    expect(Array.from(p.read() as Buffer)).to.deep.equal([3, 4, 5]); // left for the next reader
    await ch.next().then(
      () => expect.fail('next() after detach'),
      (e: unknown) => expect((e as DigestMD5Error).code).to.equal('bad-state'),
    );
  });

  it("rejects with the stream's error, and refuses overlapping calls", async () => {
    const p = new PassThrough();
    const ch = new LineChannel(p, 100);
    const first = ch.next();
    await ch.next().then(
      () => expect.fail('second next()'),
      (e: unknown) => expect((e as DigestMD5Error).code).to.equal('bad-state'),
    );
    p.destroy(new Error('reset'));
    await first.then(
      () => expect.fail('expected the error'),
      (e: unknown) => expect((e as Error).message).to.equal('reset'),
    );
  });
});
