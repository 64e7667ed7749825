/**
 * Run as a child process by tracing.test.ts: starts a server on an
 * in-memory SQLite database, with traces sent to the endpoint given as the
 * first argument or with none, answers one request that reads the database,
 * closes, and prints which OpenTelemetry modules the process loaded. Every
 * package involved is CommonJS, so each file loaded is in `require.cache`,
 * whether it came through `import()` or `require()`.
 */
import { createRequire } from 'node:module';
import { startServer } from '../../src/server.ts';
import { basicAuth } from '../helpers/credentials.ts';

const endpoint = process.argv[2];
const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  database: 'sqlite::memory:',
  logLevel: 'silent',
  ...(endpoint ? { otlpEndpoint: endpoint } : {}),
});
const admin = server.firstStart!;
const response = await fetch(`${server.url}/wiki/rest/api/user/current`, {
  headers: basicAuth(admin.email, admin.apiToken),
});
await response.text();
await server.close();

const OPENTELEMETRY = /[\\/]node_modules[\\/](@opentelemetry|@fastify[\\/]otel)[\\/]/;
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => OPENTELEMETRY.test(path));
process.stdout.write(`${JSON.stringify({ status: response.status, loaded })}\n`);
