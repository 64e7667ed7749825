/**
 * The process entry for `userplane serve`: open the store, load the seed,
 * run first start, build the app, listen, and close gracefully.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { bootstrap, type FirstStart } from './domain/bootstrap.ts';
import { loadSeed, readSeedFile } from './domain/seed.ts';
import { DEFAULT_LOAD_SHEDDING } from './http/load-shedding.ts';
import { openRuntime } from './runtime.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  firstStart: FirstStart | undefined;
  close(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const { store, secrets } = await openRuntime(config);
  try {
    if (config.seed) await loadSeed(store.db, secrets, await readSeedFile(config.seed), config.seed);
    const firstStart = await bootstrap(store.db, secrets);
    const app = await buildApp({
      db: store.db,
      secrets,
      baseUrl: config.baseUrl,
      logLevel: config.logLevel,
      metrics: config.metrics,
      logRequests: config.logRequests,
      corsOrigin: config.corsOrigin,
      loadShedding: DEFAULT_LOAD_SHEDDING,
    });
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    return {
      app,
      url: httpUrl(config.host, port),
      firstStart,
      async close() {
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function firstStartBanner(first: FirstStart, url: string): string {
  const basic = Buffer.from(`${first.email}:${first.apiToken}`).toString('base64');
  return [
    '',
    'userplane: first start. An admin was created; the API token is shown only this once.',
    `  email:     ${first.email}`,
    `  accountId: ${first.accountId}`,
    `  API token: ${first.apiToken}`,
    `  cloudId:   ${first.cloudId}`,
    '',
    'Try it:',
    `  curl -u '${first.email}:${first.apiToken}' ${url}/wiki/rest/api/user/${encodeURIComponent(first.accountId)}/property`,
    `  (or the header  Authorization: Basic ${basic})`,
    '',
  ].join('\n');
}
