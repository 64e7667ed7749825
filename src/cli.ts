/**
 * The `userplane` process: runs the command line (cli/main.ts) on this
 * process's arguments and streams, and stops a running server gracefully on
 * SIGINT or SIGTERM, within its shutdown timeout (server.ts).
 */
import { runCli } from './cli/main.ts';
import { closeOnSignals } from './server.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  serving(server) {
    closeOnSignals(server, { stderr: process.stderr, exit: (code) => process.exit(code) });
  },
});
