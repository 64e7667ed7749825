/** Settings from options and the environment (docs/behaviour.md §7), and database URLs. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONFIG_ARGS, type Config, ConfigError, type ConfigOptions, loadConfig } from '../src/config.ts';
import { parseDatabaseUrl } from '../src/store/database.ts';

const SECRET = 'a-secret-key-of-at-least-32-characters!';

/** The problems a ConfigError lists, or a failure when loadConfig succeeds. */
function problemsOf(options: ConfigOptions, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig(options, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.match(error.message, /^invalid configuration:/);
    for (const problem of error.problems) assert.ok(error.message.includes(problem));
    return error.problems;
  }
  assert.fail(`expected ${JSON.stringify({ options, env })} to be rejected`);
}

describe('loadConfig', () => {
  test('defaults: 127.0.0.1:8080, SQLite under ./data, log level info', () => {
    assert.deepEqual(loadConfig({}, {}), {
      port: 8080,
      host: '127.0.0.1',
      database: 'sqlite:./data/userplane.db',
      logLevel: 'info',
      requestTimeout: 30,
      shutdownTimeout: 10,
      databaseWait: 30,
    });
  });

  test('durations are seconds, fractions allowed; a bad one names its option or variable', () => {
    const config = loadConfig(
      { requestTimeout: '1.5' },
      { USERPLANE_SHUTDOWN_TIMEOUT: '0', USERPLANE_DATABASE_WAIT: '120' },
    );
    assert.equal(config.requestTimeout, 1.5);
    assert.equal(config.shutdownTimeout, 0);
    assert.equal(config.databaseWait, 120);
    assert.deepEqual(problemsOf({ requestTimeout: '0' }), ['--request-timeout: must be > 0']);
    assert.deepEqual(problemsOf({}, { USERPLANE_DATABASE_WAIT: 'soon' }), [
      'USERPLANE_DATABASE_WAIT: must be a number',
    ]);
  });

  test('reads process.env by default, and only the environment it is given otherwise', () => {
    const saved = process.env.PORT;
    process.env.PORT = '8123';
    try {
      assert.equal(loadConfig({}).port, 8123);
      assert.equal(loadConfig({}, {}).port, 8080);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  test('each environment variable is read', () => {
    const config = loadConfig(
      {},
      {
        PORT: '9000',
        HOST: '0.0.0.0',
        DATABASE_URL: 'postgres://u:p@db:5432/userplane',
        BASE_URL: 'https://wiki.example.com',
        SEED: './seed.yaml',
        USERPLANE_SECRET_KEY: SECRET,
        LOG_LEVEL: 'warn',
        USERPLANE_REQUEST_TIMEOUT: '5',
        USERPLANE_SHUTDOWN_TIMEOUT: '20',
        USERPLANE_DATABASE_WAIT: '60',
      },
    );
    assert.deepEqual(config, {
      port: 9000,
      host: '0.0.0.0',
      database: 'postgres://u:p@db:5432/userplane',
      baseUrl: 'https://wiki.example.com',
      seed: './seed.yaml',
      secretKey: SECRET,
      logLevel: 'warn',
      requestTimeout: 5,
      shutdownTimeout: 20,
      databaseWait: 60,
    });
  });

  const cases: Array<{
    name: keyof Config;
    env: string;
    option: string;
    fromEnv: string;
    fromOption: string;
    expected: unknown;
  }> = [
    { name: 'port', env: 'PORT', option: '9001', fromEnv: '9000', fromOption: '9001', expected: 9001 },
    { name: 'host', env: 'HOST', option: '::1', fromEnv: '0.0.0.0', fromOption: '::1', expected: '::1' },
    {
      name: 'database',
      env: 'DATABASE_URL',
      option: 'sqlite::memory:',
      fromEnv: 'postgres://h/d',
      fromOption: 'sqlite::memory:',
      expected: 'sqlite::memory:',
    },
    {
      name: 'baseUrl',
      env: 'BASE_URL',
      option: 'http://opt.example',
      fromEnv: 'http://env.example',
      fromOption: 'http://opt.example',
      expected: 'http://opt.example',
    },
    {
      name: 'seed',
      env: 'SEED',
      option: 'opt.yaml',
      fromEnv: 'env.yaml',
      fromOption: 'opt.yaml',
      expected: 'opt.yaml',
    },
    {
      name: 'secretKey',
      env: 'USERPLANE_SECRET_KEY',
      option: `opt-${SECRET}`,
      fromEnv: `env-${SECRET}`,
      fromOption: `opt-${SECRET}`,
      expected: `opt-${SECRET}`,
    },
    { name: 'logLevel', env: 'LOG_LEVEL', option: 'debug', fromEnv: 'error', fromOption: 'debug', expected: 'debug' },
  ];
  for (const c of cases) {
    test(`the ${c.name} option beats ${c.env}`, () => {
      assert.equal(loadConfig({ [c.name]: c.fromOption }, { [c.env]: c.fromEnv })[c.name], c.expected);
      // And the environment beats the default.
      const fromEnv = loadConfig({}, { [c.env]: c.fromEnv })[c.name];
      assert.equal(fromEnv, c.name === 'port' ? Number(c.fromEnv) : c.fromEnv);
    });
  }

  test('an empty environment variable counts as unset', () => {
    assert.deepEqual(
      loadConfig({}, { PORT: '', HOST: '', DATABASE_URL: '', BASE_URL: '', USERPLANE_SECRET_KEY: '' }),
      loadConfig({}, {}),
    );
  });

  test('port 0 is accepted (the OS picks one)', () => {
    assert.equal(loadConfig({ port: '0' }, {}).port, 0);
    assert.equal(loadConfig({ port: '65535' }, {}).port, 65535);
  });

  test('a bad port names --port or PORT, whichever gave it', () => {
    assert.deepEqual(problemsOf({ port: 'abc' }), ['--port: must be an integer']);
    assert.deepEqual(problemsOf({}, { PORT: 'abc' }), ['PORT: must be an integer']);
    assert.deepEqual(problemsOf({ port: '1.5' }), ['--port: must be an integer']);
    assert.deepEqual(problemsOf({ port: '-1' }), ['--port: must be an integer']);
    const tooHigh = problemsOf({}, { PORT: '70000' });
    assert.equal(tooHigh.length, 1);
    assert.match(tooHigh[0]!, /^PORT: must be .*65535/);
    assert.match(problemsOf({ port: '70000' }, { PORT: '80' })[0]!, /^--port: /);
  });

  test('a bad base URL names --base-url or BASE_URL and says what is expected', () => {
    for (const [options, env, name] of [
      [{ baseUrl: 'ftp://example.com' }, {}, '--base-url'],
      [{}, { BASE_URL: 'not a url' }, 'BASE_URL'],
      [{ baseUrl: 'http://' }, {}, '--base-url'],
      [{ baseUrl: 'http://example.com/?q=1' }, {}, '--base-url'],
    ] as const) {
      const problems = problemsOf(options, env);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.startsWith(`${name}: must be `), problems[0]);
      assert.match(problems[0]!, /http:\/\/ or https:\/\//);
    }
    assert.equal(
      loadConfig({ baseUrl: 'https://example.com/confluence' }, {}).baseUrl,
      'https://example.com/confluence',
    );
    assert.equal(loadConfig({ baseUrl: 'http://127.0.0.1:8080' }, {}).baseUrl, 'http://127.0.0.1:8080');
  });

  test('OpenTelemetry: the standard variables only, with no option; a bad endpoint names its variable', () => {
    const config = loadConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'up-eu' });
    assert.equal(config.otlpEndpoint, 'http://collector:4318');
    assert.equal(config.otelServiceName, 'up-eu');
    assert.equal(loadConfig({}, {}).otlpEndpoint, undefined, 'tracing is off unless the endpoint is set');
    assert.equal(loadConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: '' }).otlpEndpoint, undefined);
    assert.equal(CONFIG_ARGS['otlp-endpoint'], undefined);
    assert.ok(!Object.keys(CONFIG_ARGS).some((option) => option.startsWith('otel')));
    assert.deepEqual(problemsOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), [
      'OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL with no query or fragment, e.g. http://127.0.0.1:4318',
    ]);
  });

  test('a short secret key names --secret-key or USERPLANE_SECRET_KEY and the minimum', () => {
    assert.deepEqual(problemsOf({ secretKey: 'short' }), ['--secret-key: must not have fewer than 32 characters']);
    assert.deepEqual(problemsOf({}, { USERPLANE_SECRET_KEY: 'x'.repeat(31) }), [
      'USERPLANE_SECRET_KEY: must not have fewer than 32 characters',
    ]);
    assert.equal(loadConfig({}, { USERPLANE_SECRET_KEY: 'x'.repeat(32) }).secretKey, 'x'.repeat(32));
  });

  test('the secret key from a file: --secret-key-file or USERPLANE_SECRET_KEY_FILE, kept off the command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'userplane-config-'));
    const file = join(dir, 'secret-key');
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    const fromOption = loadConfig({ secretKeyFile: file }, {});
    assert.equal(fromOption.secretKey, SECRET, 'the trailing line break is dropped');
    assert.equal('secretKeyFile' in fromOption, false);
    assert.equal(loadConfig({}, { USERPLANE_SECRET_KEY_FILE: file }).secretKey, SECRET);

    assert.deepEqual(problemsOf({ secretKeyFile: file, secretKey: SECRET }), [
      '--secret-key-file and --secret-key: give the secret key one way, not both',
    ]);
    assert.deepEqual(problemsOf({ secretKeyFile: join(dir, 'missing') }), [
      `--secret-key-file: cannot read ${join(dir, 'missing')} (ENOENT)`,
    ]);
    const short = join(dir, 'short');
    writeFileSync(short, 'short\n');
    assert.deepEqual(problemsOf({}, { USERPLANE_SECRET_KEY_FILE: short }), [
      'USERPLANE_SECRET_KEY_FILE: the key must not have fewer than 32 characters',
    ]);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    assert.deepEqual(problemsOf({ secretKeyFile: empty }), [`--secret-key-file: ${empty} is empty`]);
  });

  test('a bad log level lists the allowed ones', () => {
    assert.deepEqual(problemsOf({}, { LOG_LEVEL: 'loud' }), [
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  test('every problem is reported at once, each naming its source', () => {
    const problems = problemsOf({ port: 'abc' }, { USERPLANE_SECRET_KEY: 'short', LOG_LEVEL: 'loud' });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('--port: ')));
    assert.ok(problems.some((p) => p.startsWith('USERPLANE_SECRET_KEY: ')));
    assert.ok(problems.some((p) => p.startsWith('LOG_LEVEL: ')));
  });
});

describe('parseDatabaseUrl', () => {
  test('sqlite:PATH', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:./data/userplane.db'), {
      dialect: 'sqlite',
      path: './data/userplane.db',
    });
    assert.deepEqual(parseDatabaseUrl('sqlite:/var/lib/userplane/db.sqlite'), {
      dialect: 'sqlite',
      path: '/var/lib/userplane/db.sqlite',
    });
  });

  test('a bare file path is SQLite', () => {
    assert.deepEqual(parseDatabaseUrl('/tmp/userplane.db'), { dialect: 'sqlite', path: '/tmp/userplane.db' });
    assert.deepEqual(parseDatabaseUrl('userplane.db'), { dialect: 'sqlite', path: 'userplane.db' });
  });

  test('sqlite::memory: is an in-memory database', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite::memory:'), { dialect: 'sqlite', path: ':memory:' });
  });

  test('postgres:// and postgresql:// are PostgreSQL, kept whole', () => {
    const url = 'postgres://user:p%40ss@db.example:5432/userplane?sslmode=require';
    assert.deepEqual(parseDatabaseUrl(url), { dialect: 'postgres', url });
    assert.deepEqual(parseDatabaseUrl('postgresql://localhost/userplane'), {
      dialect: 'postgres',
      url: 'postgresql://localhost/userplane',
    });
  });

  test('an empty SQLite path is refused with a message naming the value', () => {
    assert.throws(() => parseDatabaseUrl('sqlite:'), /database "sqlite:": the SQLite file path is empty/);
  });
});
