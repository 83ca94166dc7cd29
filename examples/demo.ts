// The README's first command: a server and a client authenticate with DIGEST-MD5
// over TCP on loopback, and print what they negotiated. Uses the public API only.
//
// Wire format (for this demo): one base64 line per SASL message, "OK" or "NO <reason>"
// from the server at the end.

import { createServer, connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { DigestMD5Client, DigestMD5Server, DigestMD5Error, hashUserRealmPassword } from 'digest-md5';

const REALM = 'example.org';
// The server stores only H(username:realm:password), never the password.
const users = new Map([['alice', hashUserRealmPassword('alice', REALM, 'wonderland')]]);

function lines(socket: Socket): () => Promise<string> {
  const it = createInterface({ input: socket })[Symbol.asyncIterator]();
  return async () => {
    const r = await it.next();
    if (r.done) throw new Error('connection closed');
    return r.value;
  };
}
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

const server = createServer(async (socket) => {
  const next = lines(socket);
  const sasl = new DigestMD5Server({
    service: 'demo',
    hosts: 'localhost',
    realms: [REALM],
    credentials: { lookup: ({ username }) => (users.has(username) ? { hashedSecret: users.get(username)! } : undefined) },
  });
  try {
    socket.write(b64(await sasl.step()) + '\n'); // digest-challenge
    socket.write(b64(await sasl.step(unb64(await next()))) + '\n'); // rspauth
    await sasl.step(unb64(await next())); // the client's empty final response
    socket.write('OK\n');
    console.log(`server: authenticated ${sasl.username} (authzid ${sasl.authzid}) in realm ${sasl.realm}, qop=${sasl.qop}`);
  } catch (e) {
    socket.write(`NO ${e instanceof DigestMD5Error ? e.code : 'error'}\n`);
  }
  socket.end();
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`server: listening on 127.0.0.1:${port}`);
  const socket = connect(port, '127.0.0.1', async () => {
    const next = lines(socket);
    const sasl = new DigestMD5Client({ username: 'alice', password: 'wonderland', service: 'demo', host: 'localhost' });
    const challenge = unb64(await next());
    console.log(`client: challenge  ${Buffer.from(challenge).toString('latin1')}`);
    const response = sasl.step(challenge);
    console.log(`client: response   ${Buffer.from(response).toString('utf8')}`);
    socket.write(b64(response) + '\n');
    const rspauth = unb64(await next());
    console.log(`client: rspauth    ${Buffer.from(rspauth).toString('latin1')}`);
    socket.write(b64(sasl.step(rspauth)) + '\n'); // verifies rspauth: the server knew the secret
    const verdict = await next();
    console.log(`client: server says ${verdict}; mutual authentication ${sasl.complete ? 'complete' : 'NOT complete'}, qop=${sasl.qop}, realm=${sasl.realm}`);
    socket.end();
    server.close();
    process.exitCode = verdict === 'OK' && sasl.complete ? 0 : 1;
  });
});
