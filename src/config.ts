/**
 * All settings, from command-line options and the environment (docs/behaviour.md §7).
 * The only file that reads process.env. Precedence: an explicit option, then
 * the environment, then the default; the seed and the stored site come after
 * these, where they apply (the base URL).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import Type, { type Static } from 'typebox';
import { schemaProblems } from './lib/schema-errors.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  database: Type.String({ minLength: 1 }),
  baseUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$' })),
  seed: Type.Optional(Type.String({ minLength: 1 })),
  secretKey: Type.Optional(Type.String({ minLength: 32 })),
  /** Where to read the secret key from instead (`-`: standard input); resolved into `secretKey` by loadConfig. */
  secretKeyFile: Type.Optional(Type.String({ minLength: 1 })),
  /** The operator's bearer token (docs/behaviour.md §10); generated at first start and stored as a digest when not given. */
  operatorToken: Type.Optional(Type.String({ minLength: 32 })),
  logLevel: Type.Enum([...LOG_LEVELS]),
  metrics: Type.Optional(Type.Boolean()),
  logRequests: Type.Optional(Type.Boolean()),
  corsOrigin: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#,]+(,https?://[^\\s/?#,]+)*$' })),
  /** Which peers' `X-Forwarded-For` names the client: `true`, `false`, or addresses and CIDRs, comma-separated (`trustedProxies`). */
  trustProxy: Type.Optional(Type.String({ minLength: 1 })),
  /** Seconds a request, headers and body, has to arrive whole (docs/operations.md). */
  requestTimeout: Type.Number({ exclusiveMinimum: 0 }),
  /** Seconds a shutdown may take before the process exits anyway (docs/operations.md). */
  shutdownTimeout: Type.Number({ minimum: 0 }),
  /** Seconds start-up waits for an unreachable database (docs/operations.md). */
  databaseWait: Type.Number({ minimum: 0 }),
  /** Where OpenTelemetry traces go (OTLP over HTTP); tracing is off without it (docs/operations.md "Traces"). */
  otlpEndpoint: Type.Optional(Type.String({ pattern: '^https?://[^\\s?#]+$' })),
  /** The traces' `service.name`; `userplane` when not given. */
  otelServiceName: Type.Optional(Type.String({ minLength: 1 })),
});
export type Config = Static<typeof ConfigSchema>;

/**
 * Each setting: its option, its environment variable, its default. The
 * OpenTelemetry settings have no option: the standard variables are how
 * every OpenTelemetry SDK is configured.
 */
const SETTINGS = {
  port: { option: '--port', env: 'PORT', fallback: '8080' },
  host: { option: '--host', env: 'HOST', fallback: '127.0.0.1' },
  database: { option: '--database', env: 'DATABASE_URL', fallback: 'sqlite:./data/userplane.db' },
  baseUrl: { option: '--base-url', env: 'BASE_URL', fallback: undefined },
  seed: { option: '--seed', env: 'SEED', fallback: undefined },
  secretKey: { option: '--secret-key', env: 'USERPLANE_SECRET_KEY', fallback: undefined },
  secretKeyFile: { option: '--secret-key-file', env: 'USERPLANE_SECRET_KEY_FILE', fallback: undefined },
  operatorToken: { option: '--operator-token', env: 'USERPLANE_OPERATOR_TOKEN', fallback: undefined },
  logLevel: { option: '--log-level', env: 'LOG_LEVEL', fallback: 'info' },
  metrics: { option: '--metrics', env: 'USERPLANE_METRICS', fallback: undefined, switch: true },
  logRequests: { option: '--log-requests', env: 'LOG_REQUESTS', fallback: undefined, switch: true },
  corsOrigin: { option: '--cors-origin', env: 'CORS_ORIGIN', fallback: undefined },
  trustProxy: { option: '--trust-proxy', env: 'USERPLANE_TRUST_PROXY', fallback: undefined },
  requestTimeout: { option: '--request-timeout', env: 'USERPLANE_REQUEST_TIMEOUT', fallback: '30' },
  shutdownTimeout: { option: '--shutdown-timeout', env: 'USERPLANE_SHUTDOWN_TIMEOUT', fallback: '10' },
  databaseWait: { option: '--database-wait', env: 'USERPLANE_DATABASE_WAIT', fallback: '30' },
  otlpEndpoint: { option: undefined, env: 'OTEL_EXPORTER_OTLP_ENDPOINT', fallback: undefined },
  otelServiceName: { option: undefined, env: 'OTEL_SERVICE_NAME', fallback: undefined },
} as const satisfies Record<
  keyof Config,
  { option: string | undefined; env: string; fallback: string | undefined; switch?: true }
>;

/** Settings given as numbers: the port, and durations in seconds. */
const NUMBERS = new Set<keyof Config>(['port', 'requestTimeout', 'shutdownTimeout', 'databaseWait']);

type Duration = 'requestTimeout' | 'shutdownTimeout' | 'databaseWait';

/** The durations' defaults, in seconds, for callers that build a Config by hand. */
export const DURATION_DEFAULTS = {
  requestTimeout: Number(SETTINGS.requestTimeout.fallback),
  shutdownTimeout: Number(SETTINGS.shutdownTimeout.fallback),
  databaseWait: Number(SETTINGS.databaseWait.fallback),
} satisfies Record<Duration, number>;

/** A Config whose durations may be left out (tests and embedders); they take DURATION_DEFAULTS. */
export type ServerConfig = Omit<Config, Duration> & Partial<Pick<Config, Duration>>;

export type ConfigOptions = Partial<Record<keyof Config, string>>;

/** Plain words for settings whose schema would otherwise print a regular expression. */
const EXPECTED: Partial<Record<string, string>> = {
  baseUrl: 'must be an http:// or https:// URL with no query or fragment, e.g. http://127.0.0.1:8080',
  corsOrigin: 'must be origins (scheme://host[:port]) separated by commas, e.g. http://localhost:3000',
  otlpEndpoint: 'must be an http:// or https:// URL with no query or fragment, e.g. http://127.0.0.1:4318',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** The option names, for the command-line parser; settings read only from the environment have none. */
export const CONFIG_OPTIONS = Object.fromEntries(
  Object.entries(SETTINGS).flatMap(([name, s]) => (s.option === undefined ? [] : [[name, s.option.slice(2)]])),
) as Partial<Record<keyof Config, string>>;

/** Each option as `parseArgs` takes it: a switch (`--metrics`) takes no value. */
export const CONFIG_ARGS = Object.fromEntries(
  Object.values(SETTINGS).flatMap((s) =>
    s.option === undefined ? [] : [[s.option.slice(2), { type: 'switch' in s ? 'boolean' : 'string' }] as const],
  ),
) as Record<string, { type: 'string' | 'boolean' }>;

/** The settings a parsed command line gave (`parseArgs` values), as `loadConfig` takes them. */
export function configOptionsFrom(values: Record<string, unknown>): ConfigOptions {
  const options: ConfigOptions = {};
  for (const [name, option] of Object.entries(CONFIG_OPTIONS) as Array<[keyof Config, string]>) {
    const value = values[option];
    if (typeof value === 'string') options[name] = value;
    else if (value === true) options[name] = 'true';
  }
  return options;
}

/** A switch's text from the environment: `1`/`true` on, `0`/`false` off; anything else fails the schema. */
function switchValue(value: string): boolean | string {
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  return value;
}

export function loadConfig(options: ConfigOptions, env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as Array<[keyof Config, (typeof SETTINGS)[keyof Config]]>) {
    const fromOption = options[name];
    const fromEnv = env[setting.env] === '' ? undefined : env[setting.env];
    const value = fromOption ?? fromEnv ?? setting.fallback;
    if (value === undefined) continue;
    raw[name] =
      NUMBERS.has(name) && /^\d+(\.\d+)?$/.test(value)
        ? Number(value)
        : 'switch' in setting
          ? switchValue(value)
          : value;
    const option = setting.option ?? setting.env;
    origin[name] = fromOption !== undefined ? option : fromEnv !== undefined ? setting.env : `${option} (default)`;
  }
  const problems = schemaProblems(ConfigSchema, raw).map((line) => {
    const name = line.slice(0, line.indexOf(':'));
    const rest =
      EXPECTED[name] && line.startsWith(`${name}: must match pattern`)
        ? `: ${EXPECTED[name]}`
        : line.slice(name.length);
    return origin[name] ? `${origin[name]}${rest}` : `${name}${rest}`;
  });
  if (problems.length === 0 && raw.secretKeyFile !== undefined) {
    // A key on the command line is visible to every local user in `ps`; a file or standard input is not.
    if (raw.secretKey !== undefined) {
      problems.push(`${origin.secretKeyFile} and ${origin.secretKey}: give the secret key one way, not both`);
    } else {
      try {
        const key = readSecretFile(raw.secretKeyFile as string);
        if (key.length < 32) problems.push(`${origin.secretKeyFile}: the key must not have fewer than 32 characters`);
        raw.secretKey = key;
      } catch (error) {
        problems.push(`${origin.secretKeyFile}: ${(error as Error).message}`);
      }
    }
    delete raw.secretKeyFile;
  }
  if (typeof raw.trustProxy === 'string') {
    try {
      trustedProxies(raw.trustProxy);
    } catch (error) {
      problems.push(`${origin.trustProxy}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return raw as Config;
}

/** proxy-addr's names for address ranges, which Fastify's `trustProxy` accepts beside addresses. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * `--trust-proxy` as Fastify's `trustProxy` takes it (docs/operations.md,
 * "Behind a proxy"): `true` trusts every peer; addresses, CIDRs and
 * proxy-addr's named ranges, comma-separated, trust those peers; `false`, or
 * no setting, trusts none (undefined). Throws an Error naming what is wrong.
 * A hop count is refused: Fastify ignores it (it cannot tell a proxy from a
 * client that connects directly and sends the header itself), so accepting
 * it would silently trust nothing.
 */
export function trustedProxies(setting: string | undefined): true | string[] | undefined {
  if (setting === undefined || setting === 'false') return undefined;
  if (setting === 'true') return true;
  if (/^\d+$/.test(setting)) {
    throw new Error(
      "a hop count is not accepted: name the proxies' addresses or CIDRs, comma-separated (e.g. 10.0.0.0/8,127.0.0.1), or true to trust every peer",
    );
  }
  const entries = setting.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!isTrustedProxy(entry)) {
      throw new Error(
        `"${entry}" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal: give true, false, or addresses and CIDRs separated by commas, e.g. 10.0.0.0/8,127.0.0.1`,
      );
    }
  }
  return entries;
}

function isTrustedProxy(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const bits = entry.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * A secret read from a file, or from standard input when `path` is `-`, so
 * it never appears on a command line; trailing line breaks are dropped.
 * Throws an Error saying what is wrong, without the secret.
 */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Error(
      `cannot read ${path === '-' ? 'standard input' : path}${typeof code === 'string' ? ` (${code})` : ''}`,
    );
  }
  const secret = text.replace(/[\r\n]+$/, '');
  if (secret === '') throw new Error(`${path === '-' ? 'standard input' : path} is empty`);
  return secret;
}
