// A separate authd process for the tests (src/cli.ts does not route `authd` yet): runs
// runAuthd with this process's arguments. It exits when its parent goes away (stdin
// closes) or after AUTHD_TEST_LIFETIME_MS, so a hung test cannot leave it running.
import { runAuthd } from '../../dist/node/cli-authd.js';

const lifetime = Number(process.env.AUTHD_TEST_LIFETIME_MS ?? 60_000);
setTimeout(() => process.exit(3), lifetime).unref();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

runAuthd(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`authd-main: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(70);
  },
);
