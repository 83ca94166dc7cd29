// A sample-protocol server (docs/protocol.md) on 127.0.0.1. One account, from the
// environment or alice/wonderland; stops on Ctrl-C.
//
//   node build-examples/server.js [port]        (then: node build-examples/client.js <port>)

import { createProtocolServer, hashUserRealmPassword } from 'digest-md5';

const port = Number(process.argv[2] ?? 4190);
const realm = 'example.org';
const user = process.env.DEMO_USER ?? 'alice';
// Store H(user:realm:password) only; a real server would load these from a file or database.
const accounts = new Map([[user, hashUserRealmPassword(user, realm, process.env.DEMO_PASSWORD ?? 'wonderland')]]);

const server = createProtocolServer({
  name: 'example server',
  maxSessions: 16,
  sasl: {
    hosts: ['localhost', '127.0.0.1'],
    realms: [realm],
    qop: ['auth-conf', 'auth-int'], // a security layer or nothing
    credentials: {
      lookup: ({ username, realm: r }) => {
        const hashedSecret = r === realm ? accounts.get(username) : undefined;
        return hashedSecret ? { hashedSecret } : undefined;
      },
    },
  },
});

server.on('authenticated', (id, remote) => console.log(`${remote}: ${id.username} qop=${id.qop} cipher=${id.cipher ?? 'none'}`));
server.on('session-error', (e, remote) => console.log(`${remote}: ${e.message}`));

const address = await server.listen(port, '127.0.0.1');
console.log(`listening on ${address.address}:${address.port}`);
process.once('SIGINT', () => {
  console.log('closing');
  void server.close();
});
