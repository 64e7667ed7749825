/**
 * `userplane <command>`, callable in-process: `runCli` parses the arguments,
 * runs the command, writes to the streams it is given and answers the exit
 * code; src/cli.ts hands it the process's. Administration commands run
 * through cli/framework/runner.ts.
 *   serve            start the HTTP server (the default command)
 *   seed FILE        load a seed file into --database, then exit
 *   migrate          bring --database's schema up to date, then exit
 *   sites list|create [NAME] [--seed FILE]|delete NAME   the server's sites (docs/behaviour.md §10)
 *   operator-token rotate                               a new operator token; the old one ends
 *   export [--site NAME] [--format yaml|json]           the site as a seed document (docs/behaviour.md §11)
 *   import FILE [--site NAME]                           a seed document loaded into the site
 *   healthcheck [--url URL]                             0 when URL/readyz answers 200 within 2 s, else 1
 *   users | groups | tokens | apps | site …   administration (src/cli/commands.ts)
 *
 * Exit codes: 0 done (for serve: listening); 2 a usage or configuration
 * error, or a bad seed; 1 anything else.
 */
import { parseArgs } from 'node:util';
import { CONFIG_ARGS, type Config, ConfigError, configOptionsFrom, loadConfig } from '../config.ts';
import { SitesAdmin } from '../domain/admin/sites.ts';
import { ApiError } from '../domain/errors.ts';
import { rotateOperatorToken } from '../domain/operator.ts';
import { loadSeed, readSeedFile, SeedError } from '../domain/seed.ts';
import { SiteService } from '../domain/site.ts';
import { DEFAULT_LOAD_SHEDDING } from '../http/load-shedding.ts';
import { openRuntime } from '../runtime.ts';
import { firstStartBanner, operatorTokenBanner, type RunningServer, startServer } from '../server.ts';
import { ensureDefaultSite } from '../store/site.ts';
import { ADMIN_USAGE, findAdminCommand } from './commands.ts';
import { type CliIo, runCommand } from './framework/runner.ts';
import { runTransferCommand, TRANSFER_COMMANDS } from './transfer.ts';

export interface CliOptions extends CliIo {
  /**
   * `serve` hands over the server it started and answers 0 while it keeps
   * running: the process entry stops it on a signal, a test when it is done.
   */
  serving?(server: RunningServer): void;
}

const USAGE = `usage: userplane [serve|seed FILE|migrate] [options]
       userplane users|groups|tokens|oauth-tokens|apps|spaces|content|site <subcommand> [--site NAME] [options]
       userplane sites list|create [NAME] [--seed FILE]|delete NAME [options]
       userplane operator-token rotate [options]
       userplane export [--site NAME] [--format yaml|json] [options]
       userplane import FILE [--site NAME] [options]
       userplane healthcheck [--url URL]   exit 0 when URL/readyz answers 200 within 2 s, else 1;
                                           URL defaults to http://HOST:PORT

administration (works on --database directly; run "userplane users --help" and so on):
${ADMIN_USAGE}

options (each also read from the environment variable shown):
  --port N            PORT           default 8080
  --host HOST         HOST           default 127.0.0.1
  --database URL      DATABASE_URL   sqlite:PATH, sqlite::memory: or postgres://…; default sqlite:./data/userplane.db
  --base-url URL      BASE_URL       the URL clients use; default http://HOST:PORT
  --seed FILE         SEED           a YAML or JSON seed file to load at start
  --secret-key KEY    USERPLANE_SECRET_KEY   required with PostgreSQL; visible to local users in ps, so prefer
  --secret-key-file PATH  USERPLANE_SECRET_KEY_FILE   the key from a file, or "-" for standard input
  --operator-token T  USERPLANE_OPERATOR_TOKEN   the operator's bearer token (32+ characters); default:
                      one made at first start, shown once and stored as a digest
  --log-level LEVEL   LOG_LEVEL      fatal|error|warn|info|debug|trace|silent; default info
  --request-timeout S   USERPLANE_REQUEST_TIMEOUT   seconds for a request's headers and body to arrive; default 30
  --shutdown-timeout S  USERPLANE_SHUTDOWN_TIMEOUT  seconds to drain on SIGTERM/SIGINT before exiting anyway; default 10
  --database-wait S     USERPLANE_DATABASE_WAIT     seconds to wait at start for an unreachable database; default 30
  --metrics           USERPLANE_METRICS=1   serve Prometheus /metrics, without credentials
  --log-requests      LOG_REQUESTS=1        one JSON log line per request, credentials left out
  --cors-origin LIST  CORS_ORIGIN    origins allowed by CORS, comma-separated; default none
  --trust-proxy LIST  USERPLANE_TRUST_PROXY   proxies whose X-Forwarded-For names the client: addresses
                      and CIDRs, comma-separated, or true (any peer); default none
`;

class UsageError extends Error {}

/** `export` or `import` as the first positional argument, and the arguments without it. */
function findTransferCommand(argv: string[]) {
  const { tokens } = parseArgs({
    args: argv,
    options: CONFIG_ARGS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const first = tokens.find((t) => t.kind === 'positional');
  const command = TRANSFER_COMMANDS.find((name) => name === first?.value);
  if (!first || !command) return undefined;
  return { command, argv: [...argv.slice(0, first.index), ...argv.slice(first.index + 1)] };
}

/** `userplane sites …`: the operator's routes of docs/behaviour.md §10, on --database. */
async function sitesCommand(args: string[], config: Config, io: CliOptions): Promise<number> {
  const [sub, name, extra] = args;
  if (extra !== undefined || (sub !== 'list' && sub !== 'create' && sub !== 'delete'))
    throw new UsageError('sites: list, create [NAME] [--seed FILE] or delete NAME');
  if (sub === 'delete' && name === undefined) throw new UsageError('sites delete: name the site');
  const { store, secrets } = await openRuntime(config);
  try {
    const sites = new SiteService(store.db, config.baseUrl, () => `http://${config.host}:${config.port}`);
    const admin = new SitesAdmin(store.db, secrets, sites);
    await ensureDefaultSite(store.db);
    if (sub === 'list') {
      const { results } = await admin.list({ limit: 1000 });
      for (const site of results) io.stdout.write(`${site.name}\t${site.cloudId}\t${site.baseUrl}\n`);
    } else if (sub === 'create') {
      const seed = config.seed === undefined ? undefined : await readSeedFile(config.seed);
      const created = await admin.create({ ...(name !== undefined && { name }), ...(seed && { seed }) });
      io.stdout.write(`name: ${created.name}\ncloudId: ${created.cloudId}\nbaseUrl: ${created.baseUrl}\n`);
      if (created.admin) {
        io.stdout.write(
          `admin email: ${created.admin.email}\nadmin accountId: ${created.admin.accountId}\nadmin API token: ${created.admin.apiToken}\n`,
        );
      }
    } else {
      await admin.delete(name!);
      io.stdout.write(`deleted site ${name}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ApiError) {
      io.stderr.write(`userplane: sites ${sub}: ${error.message}\n`);
      return error.code === 'bad_request' ? 2 : 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}

/** How long `healthcheck` waits for /readyz (docs/behaviour.md §11). */
const HEALTHCHECK_TIMEOUT_MS = 2_000;

/**
 * `userplane healthcheck`: a container's health check that needs no curl.
 * 0 when `/readyz` answers 200 within 2 s; 1 on any other status, no
 * answer, or no answer in time.
 */
async function healthcheck(base: string, io: CliOptions): Promise<number> {
  let target: URL;
  try {
    target = new URL('readyz', base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new UsageError(`healthcheck: --url ${base} is not a URL`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw new UsageError(`healthcheck: --url ${base} is not an http:// or https:// URL`);
  try {
    const response = await fetch(target, { signal: AbortSignal.timeout(HEALTHCHECK_TIMEOUT_MS) });
    await response.arrayBuffer();
    if (response.status === 200) {
      io.stdout.write(`ready: ${target.href} answered 200\n`);
      return 0;
    }
    io.stderr.write(`userplane: healthcheck: ${target.href} answered ${response.status}\n`);
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${HEALTHCHECK_TIMEOUT_MS / 1000} s`
        : ((error as Error).cause as Error | undefined)?.message || (error as Error).message;
    io.stderr.write(`userplane: healthcheck: ${target.href}: ${reason}\n`);
  }
  return 1;
}

/** A listening address as a client connects to it: the wildcard addresses mean this machine. */
function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Runs `userplane …argv`; answers the exit code. Errors are reported on `io.stderr`, never thrown. */
export async function runCli(argv: string[], io: CliOptions): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof SeedError || error instanceof UsageError;
    const message = known || error instanceof Error ? (error as Error).message : String(error);
    io.stderr.write(`userplane: ${message}\n`);
    return known ? 2 : 1;
  }
}

async function run(argv: string[], io: CliOptions): Promise<number> {
  const admin = findAdminCommand(argv);
  if (admin) return runCommand(admin.command, admin.argv, io);
  const transfer = findTransferCommand(argv);
  if (transfer) return runTransferCommand(transfer.command, transfer.argv, io);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CONFIG_ARGS,
      help: { type: 'boolean', short: 'h' },
      url: { type: 'string' },
    },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const options = configOptionsFrom(values);

  const [command = 'serve', ...rest] = positionals;
  if (values.url !== undefined && command !== 'healthcheck') throw new UsageError('--url belongs to healthcheck');
  switch (command) {
    case 'healthcheck': {
      if (rest.length > 0) throw new UsageError('healthcheck: no arguments but --url URL');
      const config = values.url === undefined ? loadConfig(options, io.env) : undefined;
      return healthcheck(values.url ?? `http://${connectHost(config!.host)}:${config!.port}`, io);
    }
    case 'serve': {
      const server = await startServer(loadConfig(options, io.env), {
        waiting: (message) => io.stderr.write(`userplane: ${message}\n`),
        loadShedding: DEFAULT_LOAD_SHEDDING,
      });
      if (server.firstStart) io.stdout.write(firstStartBanner(server.firstStart, server.url));
      if (server.operatorToken) io.stdout.write(operatorTokenBanner(server.operatorToken, server.url));
      server.app.log.info(`userplane listening on ${server.url}`);
      io.serving?.(server);
      return 0;
    }
    case 'seed': {
      const file = rest[0] ?? options.seed;
      if (!file) throw new UsageError('seed: name the seed file, e.g. userplane seed seed.yaml');
      const { store, secrets } = await openRuntime(loadConfig(options, io.env));
      try {
        const summary = await loadSeed(store.db, secrets, await readSeedFile(file), file);
        io.stdout.write(
          `seeded ${file}: ${summary.users} users, ${summary.groups} groups, ${summary.apps} apps, ${summary.propertiesAdded} new properties, ` +
            `${summary.spaces} spaces, ${summary.content} content, ${summary.labels} labels, ${summary.watchesAdded} new watches\n`,
        );
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'sites':
      return sitesCommand(rest, loadConfig(options, io.env), io);
    case 'operator-token': {
      if (rest[0] !== 'rotate') throw new UsageError('operator-token: the subcommand is rotate');
      const config = loadConfig(options, io.env);
      const { store, secrets } = await openRuntime(config);
      try {
        const token = await rotateOperatorToken(store.db, secrets, config.operatorToken);
        io.stdout.write(`${token}\n`);
      } catch (error) {
        if (error instanceof ApiError) throw new UsageError(`operator-token rotate: ${error.message}`);
        throw error;
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'migrate': {
      const { store } = await openRuntime(loadConfig(options, io.env));
      await store.close();
      io.stdout.write('database schema is up to date\n');
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}
