#!/usr/bin/env node
// The `digest-md5` command: `peer` (the interop line protocol) and help.

import { createRequire } from 'node:module';
import { cryptoBackend } from './index.js';
import { runPeer } from './node/peer.js';

const USAGE = `usage: digest-md5 <command> [options]

commands:
  peer server|client   speak the interop line protocol on stdin/stdout (see shared/interop/README.md)
  version              print the version and the crypto backend in use

Run "digest-md5 <command> --help" for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'peer':
      return runPeer(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    case 'version':
    case '--version': {
      const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
      process.stdout.write(`digest-md5 ${version} (crypto backend: ${cryptoBackend})\n`);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`digest-md5: unknown command "${command}"\n${USAGE}\n`);
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
    process.stderr.write(`digest-md5: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(70);
  },
);
