// A TCP relay on 127.0.0.1 that records both directions of every connection and may
// alter client-to-server bytes, to look at (and tamper with) what goes over the wire.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Recording {
  /** Client to server. */
  c2s: Buffer;
  /** Server to client. */
  s2c: Buffer;
}

export interface Proxy {
  port: number;
  recordings: Recording[];
  close(): Promise<void>;
}

/** `alter(chunk, offset)` may change client-to-server bytes; offset is the chunk's position in the stream. */
export async function startProxy(targetPort: number, alter?: (chunk: Buffer, offset: number) => Buffer): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const recordings: Recording[] = [];
  const server: Server = createServer((client) => {
    const rec: Recording = { c2s: Buffer.alloc(0), s2c: Buffer.alloc(0) };
    recordings.push(rec);
    const upstream = connect({ port: targetPort, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d: Buffer) => {
      const out = alter ? alter(Buffer.from(d), rec.c2s.length) : d;
      rec.c2s = Buffer.concat([rec.c2s, d]);
      upstream.write(out);
    });
    upstream.on('data', (d: Buffer) => {
      rec.s2c = Buffer.concat([rec.s2c, d]);
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return {
    port,
    recordings,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
