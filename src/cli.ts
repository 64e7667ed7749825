/**
 * The `userplane` process: runs the command line (cli/main.ts) on this
 * process's arguments and streams, and stops a running server gracefully on
 * SIGINT or SIGTERM.
 */
import { runCli } from './cli/main.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  serving(server) {
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
});
