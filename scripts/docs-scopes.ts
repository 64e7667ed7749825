/**
 * `npm run docs:scopes`: writes docs/scopes.md from the routes the app
 * serves and the scope table (src/http/scope-table.ts). The app is built on
 * a throw-away in-memory store; nothing is served.
 */
import { writeFileSync } from 'node:fs';
import { buildApp } from '../src/app.ts';
import { newSecretKey, Secrets } from '../src/domain/secrets.ts';
import { renderScopeTable } from '../src/http/scope-table.ts';
import { openStore } from '../src/store/database.ts';

export const SCOPES_DOC = new URL('../docs/scopes.md', import.meta.url);

const store = await openStore({ dialect: 'sqlite', path: ':memory:' });
const app = await buildApp({ db: store.db, secrets: new Secrets(newSecretKey()), logLevel: 'silent' });
try {
  writeFileSync(SCOPES_DOC, renderScopeTable(app.routeAccess));
  process.stdout.write(`wrote ${SCOPES_DOC.pathname}\n`);
} finally {
  await app.close();
  await store.close();
}
