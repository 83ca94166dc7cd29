// A sample-protocol client (docs/protocol.md): authenticates with auth-conf, runs the
// commands given on the command line (or a few of its own), and quits.
//
//   node build-examples/client.js <port> ['ECHO hi' 'PUT k v' 'GET k' ...]

import { connectProtocolClient, DigestMD5Error, ProtocolError } from 'digest-md5';

const [portArg, ...commands] = process.argv.slice(2);
const port = Number(portArg ?? 4190);

try {
  const client = await connectProtocolClient({
    host: '127.0.0.1',
    port,
    sasl: {
      username: process.env.DEMO_USER ?? 'alice',
      password: process.env.DEMO_PASSWORD ?? 'wonderland',
      host: 'localhost', // digest-uri = sample/localhost
      qop: ['auth-conf'],
    },
  });
  console.log(`${client.greeting}; qop=${client.qop} cipher=${client.cipher}`);
  for (const command of commands.length > 0 ? commands : ['WHOAMI', 'ECHO hello', 'PUT greeting hi there', 'GET greeting']) {
    const reply = await client.command(command);
    for (const line of reply.untagged) console.log(`* ${line}`);
    console.log(`${command} -> ${reply.ok ? 'OK' : 'NO'} ${reply.text}`.trimEnd());
  }
  await client.quit();
} catch (e) {
  // Mechanism failures are DigestMD5Errors, protocol ones ProtocolErrors; both carry a code.
  if (e instanceof DigestMD5Error || e instanceof ProtocolError) console.error(`failed (${e.code}): ${e.message}`);
  else console.error(`failed: ${(e as Error).message}`);
  process.exitCode = 1;
}
