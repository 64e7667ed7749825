/**
 * What the site tests share (docs/behaviour.md §10): an app with an operator
 * token on a store holding the fixture's default site, and the fixture seed
 * shaped for making more sites from it.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { loadSeed } from '../../src/domain/seed.ts';
import type { SeedFile } from '../../src/schemas/seed.ts';
import type { Store } from '../../src/store/database.ts';
import type { Headers } from './credentials.ts';
import { BASE_URL, fixtureSeed, oauthSeed, SECRET_KEY, UNTHROTTLED } from './fixture.ts';
import { freshStore, type StoreKind } from './stores.ts';

export const OPERATOR_TOKEN = 'operator-token-of-at-least-32-characters';

/**
 * The fixture seed with the OAuth apps and without a `site` section, so any
 * number of sites can be made from it, each with every secret suffixed:
 * `''` gives a site the default site's very credentials, another suffix
 * credentials of its own for the same emails, app keys and client ids.
 */
export function siteSeed(suffix = ''): SeedFile {
  const { site: _site, ...rest } = fixtureSeed();
  return {
    ...rest,
    site: UNTHROTTLED,
    users: rest.users?.map((u) => ({ ...u, apiTokens: u.apiTokens?.map((t) => `${t}${suffix}`) })),
    apps: [...(rest.apps ?? []), ...(oauthSeed().apps ?? [])].map((a) => ({
      ...a,
      sharedSecret: `${a.sharedSecret}${suffix}`,
      ...(a.clientSecret !== undefined && { clientSecret: `${a.clientSecret}${suffix}` }),
    })),
  };
}

export interface SitesFixture {
  app: FastifyInstance;
  store: Store;
  close(): Promise<void>;
}

/** The fixture's default site served at BASE_URL, with the operator token set. */
export async function startSitesFixture(kind: StoreKind): Promise<SitesFixture> {
  const store = await freshStore(kind);
  const secrets = new Secrets(SECRET_KEY);
  await loadSeed(store.db, secrets, fixtureSeed(UNTHROTTLED));
  const app = await buildApp({
    db: store.db,
    secrets,
    logLevel: 'silent',
    baseUrl: BASE_URL,
    operatorToken: OPERATOR_TOKEN,
  });
  return {
    app,
    store,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/**
 * `call(method, url, headers?, payload?)` on the app `app()` answers when
 * called (tests build it in `before`): a payload goes as JSON (a string as
 * it is), with `content-type: application/json` unless `headers` name one.
 */
export function jsonCaller(app: () => FastifyInstance) {
  return (method: string, url: string, headers: Headers = {}, payload?: unknown) =>
    app().inject({
      method: method as 'GET',
      url,
      headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(payload !== undefined && { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
}
