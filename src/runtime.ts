/**
 * Opens what every command needs: the store (migrated) and the server's
 * secrets. On SQLite the secret key is generated once into a file beside the
 * database; on PostgreSQL every instance must be given the same one (docs/behaviour.md §7).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Config, ConfigError } from './config.ts';
import { newSecretKey, Secrets } from './domain/secrets.ts';
import { type DatabaseLocation, openStore, parseDatabaseUrl, type Store, type StoreOptions } from './store/database.ts';
import { DATA_FOLDER_MODE } from './store/sqlite.ts';

export interface Runtime {
  store: Store;
  secrets: Secrets;
}

export async function openRuntime(
  config: Pick<Config, 'database' | 'secretKey'>,
  storeOptions: StoreOptions = {},
): Promise<Runtime> {
  let location: DatabaseLocation;
  try {
    location = parseDatabaseUrl(config.database);
  } catch (error) {
    throw new ConfigError([`--database (DATABASE_URL): ${(error as Error).message}`]);
  }
  const secrets = new Secrets(config.secretKey ?? embeddedSecretKey(location));
  return { store: await openStore(location, storeOptions), secrets };
}

function embeddedSecretKey(location: DatabaseLocation): string {
  if (location.dialect === 'postgres') {
    throw new ConfigError([
      '--secret-key (USERPLANE_SECRET_KEY): required with PostgreSQL; give every instance the same value of at least 32 characters',
    ]);
  }
  if (location.path === ':memory:') return newSecretKey();
  mkdirSync(dirname(location.path), { recursive: true, mode: DATA_FOLDER_MODE });
  const file = `${location.path}.secret-key`;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  writeFileSync(file, `${newSecretKey()}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}
