#!/usr/bin/env node
// The `digest-md5` command: `serve` and `connect` (the sample protocol of docs/protocol.md),
// `peer` (the interop line protocol), `passwd` and `authd` (docs/authd.md), `version` and help.

import { createRequire } from 'node:module';
import { cryptoBackend } from './index.js';

const USAGE = `usage: digest-md5 <command> [options]

commands:
  serve --port P --users FILE   run the sample protocol's server (docs/protocol.md)
  connect HOST:PORT --user U    authenticate to it, then send stdin's lines as commands
  peer server|client            speak the interop line protocol on stdin/stdout (see shared/interop/README.md)
  passwd FILE USER --realm R    add or replace a user's precalculated hashes; --delete removes (docs/authd.md)
  authd --store FILE ...        run the authenticating server for originating servers (docs/authd.md)
  version                       print the version and the crypto backend in use

Run "digest-md5 <command> --help" for a command's options.`;

const VERSION_USAGE = `usage: digest-md5 version

Prints the package version and the crypto backend in use (node or portable).`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    // Each command loads only its own modules.
    case 'serve': {
      const { runServe } = await import('./node/serve.js');
      return runServe(rest, { stdout: process.stdout, stderr: process.stderr });
    }
    case 'connect': {
      const { runConnect } = await import('./node/connect.js');
      return runConnect(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
    }
    case 'peer': {
      const { runPeer } = await import('./node/peer.js');
      return runPeer(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    }
    case 'passwd': {
      const { runPasswd } = await import('./node/cli-passwd.js');
      return runPasswd(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    }
    case 'authd': {
      const { runAuthd } = await import('./node/cli-authd.js');
      return runAuthd(rest, { stdout: process.stdout, stderr: process.stderr });
    }
    case 'version':
    case '--version': {
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(VERSION_USAGE + '\n');
        return 0;
      }
      if (rest.length > 0) {
        process.stderr.write(`digest-md5 version: unexpected argument: ${rest[0]} (see digest-md5 version --help)\n`);
        return 2;
      }
      const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
      process.stdout.write(`digest-md5 ${version} (crypto backend: ${cryptoBackend})\n`);
      return 0;
    }
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return 0;
    case undefined:
      process.stderr.write('digest-md5: a command is required (see digest-md5 --help)\n');
      return 2;
    default:
      process.stderr.write(`digest-md5: unknown command "${command}" (see digest-md5 --help)\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // stdin may still hold the event loop open (a peer that ended on Q); leave once stdout is flushed.
    process.stdout.write('', () => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(`digest-md5: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(70);
  },
);
