/**
 * The fixture's site (test/helpers/fixture.ts) served by an app built with
 * the operations options under test: metrics, request lines, CORS, shedding.
 */
import { type AppOptions, buildApp } from '../../src/app.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { loadSeed } from '../../src/domain/seed.ts';
import type { SeedFile } from '../../src/schemas/seed.ts';
import { TestClock } from '../helpers/clock.ts';
import { type Fixture, fixtureSeed, SECRET_KEY } from '../helpers/fixture.ts';
import { freshStore, type StoreKind } from '../helpers/stores.ts';

export type OperationsFixture = Omit<Fixture, 'clock'>;

export async function startOperationsFixture(
  kind: StoreKind,
  options: Omit<AppOptions, 'db' | 'secrets'>,
  site: SeedFile['site'] = {},
): Promise<OperationsFixture> {
  const store = await freshStore(kind);
  const secrets = new Secrets(SECRET_KEY);
  await loadSeed(store.db, secrets, fixtureSeed(site));
  const app = await buildApp({ logLevel: 'silent', clock: new TestClock(), ...options, db: store.db, secrets });
  return {
    app,
    store,
    secrets,
    async close() {
      await app.close();
      await store.close();
    },
  };
}
