/** The operations settings (docs/behaviour.md §7): switches, the CORS allow-list, and the command line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from 'node:util';
import { CONFIG_ARGS, ConfigError, configOptionsFrom, loadConfig, trustedProxies } from '../../src/config.ts';

const problems = (options: Record<string, string>, env: NodeJS.ProcessEnv = {}) => {
  try {
    loadConfig(options, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
};

test('off unless asked for: no metrics, no request lines, no CORS', () => {
  const config = loadConfig({}, {});
  assert.equal(config.metrics, undefined);
  assert.equal(config.logRequests, undefined);
  assert.equal(config.corsOrigin, undefined);
  assert.equal(config.trustProxy, undefined);
  assert.equal(trustedProxies(config.trustProxy), undefined);
});

test('switches from the environment: 1 or true on, 0 or false off, anything else refused', () => {
  assert.equal(loadConfig({}, { USERPLANE_METRICS: '1' }).metrics, true);
  assert.equal(loadConfig({}, { LOG_REQUESTS: 'true' }).logRequests, true);
  assert.equal(loadConfig({}, { USERPLANE_METRICS: '0', LOG_REQUESTS: 'false' }).metrics, false);
  assert.deepEqual(problems({}, { USERPLANE_METRICS: 'yes' }), ['USERPLANE_METRICS: must be a boolean']);
});

test('switches on the command line take no value, and beat the environment', () => {
  const { values } = parseArgs({
    args: ['--metrics', '--log-requests', '--cors-origin', 'http://localhost:3000', '--port', '9000'],
    options: CONFIG_ARGS,
  });
  const config = loadConfig(configOptionsFrom(values), { USERPLANE_METRICS: '0' });
  assert.equal(config.metrics, true);
  assert.equal(config.logRequests, true);
  assert.equal(config.corsOrigin, 'http://localhost:3000');
  assert.equal(config.port, 9000);
});

test('--cors-origin takes origins separated by commas, and nothing else', () => {
  assert.equal(
    loadConfig({}, { CORS_ORIGIN: 'http://localhost:3000,https://dev.example.com:8443' }).corsOrigin,
    'http://localhost:3000,https://dev.example.com:8443',
  );
  for (const bad of ['*', 'localhost:3000', 'http://localhost:3000/', 'http://a.example, http://b.example']) {
    assert.deepEqual(problems({ corsOrigin: bad }), [
      '--cors-origin: must be origins (scheme://host[:port]) separated by commas, e.g. http://localhost:3000',
    ]);
  }
});

test('--trust-proxy takes true, false, or addresses, CIDRs and named ranges, comma-separated; never a hop count', () => {
  const proxies = (value: string) => trustedProxies(loadConfig({}, { USERPLANE_TRUST_PROXY: value }).trustProxy);
  assert.equal(proxies('true'), true);
  assert.equal(proxies('false'), undefined);
  assert.deepEqual(proxies('10.0.0.0/8, 127.0.0.1,::1,fd00::/8,loopback'), [
    '10.0.0.0/8',
    '127.0.0.1',
    '::1',
    'fd00::/8',
    'loopback',
  ]);
  assert.deepEqual(
    loadConfig({ trustProxy: '192.168.1.1' }, { USERPLANE_TRUST_PROXY: 'true' }).trustProxy,
    '192.168.1.1',
  );
  const [hops] = problems({ trustProxy: '2' });
  assert.match(hops!, /^--trust-proxy: a hop count is not accepted: name the proxies' addresses or CIDRs/);
  for (const bad of ['proxy.example.com', '10.0.0.0/33', '::1/129', '10.0.0.1,', 'TRUE', '10.0.0.0/x']) {
    const found = problems({}, { USERPLANE_TRUST_PROXY: bad });
    assert.equal(found.length, 1, bad);
    assert.match(found[0]!, /^USERPLANE_TRUST_PROXY: ".*" is not an IP address, a CIDR or one of loopback/, bad);
  }
});
