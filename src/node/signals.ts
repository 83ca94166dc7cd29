// Waiting for the end of a long-running command: SIGINT or SIGTERM.

/** Resolves on the first SIGINT or SIGTERM, then stops listening for both. */
export function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.removeListener('SIGINT', done);
      process.removeListener('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
