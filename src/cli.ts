/**
 * `userplane <command>`: thin wrappers over the same code the server runs.
 *   serve            start the HTTP server (the default command)
 *   seed FILE        load a seed file into --database, then exit
 *   migrate          bring --database's schema up to date, then exit
 *   users | groups | tokens | apps | site …   administration (src/cli/commands.ts)
 */
import { parseArgs } from 'node:util';
import { runAdminCommand } from './cli/admin.ts';
import { ADMIN_USAGE, findAdminCommand } from './cli/commands.ts';
import { CONFIG_OPTIONS, ConfigError, type ConfigOptions, loadConfig } from './config.ts';
import { loadSeed, readSeedFile, SeedError } from './domain/seed.ts';
import { openRuntime } from './runtime.ts';
import { firstStartBanner, startServer } from './server.ts';

const USAGE = `usage: userplane [serve|seed FILE|migrate] [options]
       userplane users|groups|tokens|apps|spaces|content|site <subcommand> [options]

administration (works on --database directly; run "userplane users --help" and so on):
${ADMIN_USAGE}

options (each also read from the environment variable shown):
  --port N            PORT           default 8080
  --host HOST         HOST           default 127.0.0.1
  --database URL      DATABASE_URL   sqlite:PATH, sqlite::memory: or postgres://…; default sqlite:./data/userplane.db
  --base-url URL      BASE_URL       the URL clients use; default http://HOST:PORT
  --seed FILE         SEED           a YAML or JSON seed file to load at start
  --secret-key KEY    USERPLANE_SECRET_KEY   required with PostgreSQL
  --log-level LEVEL   LOG_LEVEL      fatal|error|warn|info|debug|trace|silent; default info
`;

async function main(argv: string[]): Promise<number> {
  const admin = findAdminCommand(argv);
  if (admin) return runAdminCommand(admin.command, admin.argv);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(Object.values(CONFIG_OPTIONS).map((name) => [name, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const options: ConfigOptions = {};
  for (const [name, option] of Object.entries(CONFIG_OPTIONS) as Array<[keyof ConfigOptions, string]>) {
    const value = (values as Record<string, unknown>)[option];
    if (typeof value === 'string') options[name] = value;
  }

  const [command = 'serve', ...rest] = positionals;
  switch (command) {
    case 'serve': {
      const server = await startServer(loadConfig(options));
      if (server.firstStart) process.stdout.write(firstStartBanner(server.firstStart, server.url));
      server.app.log.info(`userplane listening on ${server.url}`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return -1; // keep running
    }
    case 'seed': {
      const file = rest[0] ?? options.seed;
      if (!file) throw new UsageError('seed: name the seed file, e.g. userplane seed seed.yaml');
      const { store, secrets } = await openRuntime(loadConfig(options));
      try {
        const summary = await loadSeed(store.db, secrets, await readSeedFile(file), file);
        process.stdout.write(
          `seeded ${file}: ${summary.users} users, ${summary.groups} groups, ${summary.apps} apps, ${summary.propertiesAdded} new properties, ` +
            `${summary.spaces} spaces, ${summary.content} content, ${summary.labels} labels, ${summary.watchesAdded} new watches\n`,
        );
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'migrate': {
      const { store } = await openRuntime(loadConfig(options));
      await store.close();
      process.stdout.write('database schema is up to date\n');
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof ConfigError || error instanceof SeedError || error instanceof UsageError;
    const message = known || error instanceof Error ? (error as Error).message : String(error);
    process.stderr.write(`userplane: ${message}\n`);
    process.exitCode = known ? 2 : 1;
  },
);
