// The README's first command (`npm start`): the sample protocol's server on an ephemeral
// loopback port with a generated user, and its client authenticating with auth-conf and
// running a few commands inside the security layer. Uses the public API only.

import { randomBytes } from 'node:crypto';
import { connectProtocolClient, createProtocolServer, cryptoBackend, hashUserRealmPassword } from 'digest-md5';

const REALM = 'demo.example';
const username = `demo-${randomBytes(3).toString('hex')}`;
const password = randomBytes(12).toString('base64url');
// The server keeps only H(username:realm:password), never the password.
const secret = hashUserRealmPassword(username, REALM, password);

const server = createProtocolServer({
  name: 'digest-md5 demo server',
  sasl: {
    hosts: ['localhost'],
    realms: [REALM],
    qop: ['auth-conf', 'auth-int', 'auth'],
    credentials: { lookup: ({ username: u, realm }) => (u === username && realm === REALM ? { hashedSecret: secret } : undefined) },
  },
});
server.on('authenticated', (id, remote) => console.log(`server: ${remote} authenticated as ${id.authzid}, qop=${id.qop} cipher=${id.cipher}`));
server.on('session-error', (e, remote) => console.log(`server: ${remote}: ${e.message}`));

const { port } = await server.listen(0, '127.0.0.1');
console.log(`server: listening on 127.0.0.1:${port}, one generated user "${username}" in realm ${REALM} (crypto backend: ${cryptoBackend})`);

const client = await connectProtocolClient({
  port,
  sasl: { username, password, host: 'localhost', qop: ['auth-conf'] }, // auth-conf or nothing
});
console.log(`client: greeting "${client.greeting}"`);
console.log(`client: authenticated; negotiated qop=${client.qop} cipher=${client.cipher} ssf=${client.ssf}; everything below is wrapped`);

const layer = client.secureStream!;
let ok = client.qop === 'auth-conf';
for (const command of ['CAPABILITY', 'WHOAMI', 'ECHO hello through the security layer', 'PUT colour ultramarine', 'GET colour', 'GET shape', 'QUIT']) {
  const before = layer.stats;
  const reply = command === 'QUIT' ? await client.quit() : await client.command(command);
  const after = layer.stats;
  const sent = `${after.plainOut - before.plainOut} bytes -> ${after.wireOut - before.wireOut} on the wire`;
  const received = `${after.wireIn - before.wireIn} bytes on the wire -> ${after.plainIn - before.plainIn}`;
  console.log(`  C: ${command.padEnd(40)} [${sent}]`);
  for (const u of reply.untagged) console.log(`  S: * ${u}`);
  console.log(`  S: ${`${reply.ok ? 'OK' : 'NO'} ${reply.text}`.trimEnd().padEnd(40)} [${received}]`);
  if (command === 'GET colour') ok &&= reply.ok && reply.text === 'ultramarine';
}
const s = layer.stats;
console.log(`client: ${s.framesOut} buffers sent (${s.plainOut} bytes of commands, ${s.wireOut} on the wire), ${s.framesIn} received (${s.plainIn} -> ${s.wireIn})`);
await server.close();
process.exitCode = ok ? 0 : 1;
