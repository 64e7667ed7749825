/**
 * All settings, from command-line options and the environment (docs/behaviour.md §7).
 * The only file that reads process.env. Precedence: an explicit option, then
 * the environment, then the default; the seed and the stored site come after
 * these, where they apply (the base URL).
 */
import { readFileSync } from 'node:fs';
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
  logLevel: Type.Enum([...LOG_LEVELS]),
});
export type Config = Static<typeof ConfigSchema>;

/** Each setting: its option, its environment variable, its default. */
const SETTINGS = {
  port: { option: '--port', env: 'PORT', fallback: '8080' },
  host: { option: '--host', env: 'HOST', fallback: '127.0.0.1' },
  database: { option: '--database', env: 'DATABASE_URL', fallback: 'sqlite:./data/userplane.db' },
  baseUrl: { option: '--base-url', env: 'BASE_URL', fallback: undefined },
  seed: { option: '--seed', env: 'SEED', fallback: undefined },
  secretKey: { option: '--secret-key', env: 'USERPLANE_SECRET_KEY', fallback: undefined },
  secretKeyFile: { option: '--secret-key-file', env: 'USERPLANE_SECRET_KEY_FILE', fallback: undefined },
  logLevel: { option: '--log-level', env: 'LOG_LEVEL', fallback: 'info' },
} as const satisfies Record<keyof Config, { option: string; env: string; fallback: string | undefined }>;

export type ConfigOptions = Partial<Record<keyof Config, string>>;

/** Plain words for settings whose schema would otherwise print a regular expression. */
const EXPECTED: Partial<Record<string, string>> = {
  baseUrl: 'must be an http:// or https:// URL with no query or fragment, e.g. http://127.0.0.1:8080',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** The option names, for the command-line parser. */
export const CONFIG_OPTIONS = Object.fromEntries(
  Object.entries(SETTINGS).map(([name, s]) => [name, s.option.slice(2)]),
) as Record<keyof Config, string>;

export function loadConfig(options: ConfigOptions, env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as Array<[keyof Config, (typeof SETTINGS)[keyof Config]]>) {
    const fromOption = options[name];
    const fromEnv = env[setting.env] === '' ? undefined : env[setting.env];
    const value = fromOption ?? fromEnv ?? setting.fallback;
    if (value === undefined) continue;
    raw[name] = name === 'port' && /^\d+$/.test(value) ? Number(value) : value;
    origin[name] =
      fromOption !== undefined ? setting.option : fromEnv !== undefined ? setting.env : `${setting.option} (default)`;
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
  if (problems.length > 0) throw new ConfigError(problems);
  return raw as Config;
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
