/**
 * Apps (docs/behaviour.md §2, §9). Secrets are write-only: the shared secret is stored
 * encrypted (it must be read back to verify HS256 JWTs), the OAuth client
 * secret as a digest, and neither is ever returned. Each app has a bot user,
 * created and removed with it; deleting an app also removes its Confluence
 * namespace's properties.
 */
import type { Kysely } from 'kysely';
import type { AdminApp, AdminAppCreate, AdminAppPatch } from '../../schemas/admin.ts';
import {
  deleteAppAndBot,
  findAppRecord,
  listApps,
  takenAppField,
  updateAppColumns,
  upsertApp,
} from '../../store/apps.ts';
import { type Db, isUniqueViolation } from '../../store/database.ts';
import type { Database } from '../../store/schema.ts';
import { lockSite } from '../../store/site.ts';
import { findUser, insertUser, renameUser } from '../../store/users.ts';
import {
  type App,
  type AppKind,
  appKeyProblem,
  botAccountId,
  botUser,
  clientKeyOf,
  defaultScopes,
  forgeScopeProblem,
  MIN_SHARED_SECRET_LENGTH,
  sealApp,
  type TakenAppField,
  whyTaken,
} from '../apps.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { endTokensOnRotation } from '../oauth.ts';
import type { Secrets } from '../secrets.ts';
import { checkAccountId } from '../users.ts';
import { type AdminList, listOf, type PageRequest, pageOf } from './common.ts';

const SCOPE = /^\S{1,255}$/;

const noSuchApp = (key: string) => notFound(`No app with key ${key}`);

export function checkAppKey(key: string, kind: AppKind = 'connect'): void {
  const problem = appKeyProblem(kind, key);
  if (problem) throw badRequest(problem);
}

function checkSharedSecret(secret: string | undefined): void {
  if (secret !== undefined && secret.length < MIN_SHARED_SECRET_LENGTH) {
    throw badRequest(`sharedSecret is too short: at least ${MIN_SHARED_SECRET_LENGTH} characters`);
  }
}

function checkScopes(scopes: readonly string[] | undefined, kind: AppKind): string[] | undefined {
  if (scopes === undefined) return undefined;
  for (const [i, scope] of scopes.entries()) {
    if (!SCOPE.test(scope))
      throw badRequest(`scopes[${i}]: "${scope}" is not a scope: no white space, at most 255 characters`);
  }
  const forgeProblem = kind === 'forge' ? forgeScopeProblem(scopes) : undefined;
  if (forgeProblem) throw badRequest(forgeProblem);
  return [...new Set(scopes)];
}

/** The 409 for an identifier another app (or user) already holds (store/apps.ts `takenAppField`). */
function explainTaken(field: TakenAppField, app: Pick<App, 'key' | 'clientKey' | 'oauthClientId' | 'accountId'>) {
  return conflict(`${field} "${app[field]}" ${whyTaken(field)}`);
}

/** The administration API's apps (docs/behaviour.md §9); the CLI's `apps` command uses it too. */
export class AppAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly siteId: number,
    private readonly secrets: Secrets,
  ) {}

  async list(request: PageRequest = {}): Promise<AdminList<AdminApp>> {
    const page = pageOf(request);
    return listOf((await listApps(this.db, this.siteId, page)).items, page);
  }

  async get(key: string): Promise<AdminApp> {
    const app = await findAppRecord(this.db, this.siteId, key);
    if (!app) throw noSuchApp(key);
    return app;
  }

  async create(input: AdminAppCreate): Promise<AdminApp> {
    const { db, secrets } = this;
    const kind = input.kind ?? 'connect';
    checkAppKey(input.key, kind);
    const clientKey = clientKeyOf(kind, input.key, input.clientKey);
    if (clientKey === undefined) throw badRequest('clientKey is missing: a Connect app needs its clientKey');
    checkSharedSecret(input.sharedSecret);
    if (input.accountId !== undefined) checkAccountId(input.accountId);
    const app: App = {
      key: input.key,
      name: input.name,
      clientKey,
      sharedSecret: input.sharedSecret,
      oauthClientId: input.oauthClientId ?? null,
      scopes: checkScopes(input.scopes, kind) ?? defaultScopes(kind),
      emailAccess: input.emailAccess ?? false,
      accountId: input.accountId ?? botAccountId(input.key),
      kind,
    };
    const check = async (trx: Db) => {
      if (await findAppRecord(trx, this.siteId, app.key)) throw conflict(`An app with key ${app.key} already exists`);
      const taken = await takenAppField(trx, this.siteId, app);
      if (taken) throw explainTaken(taken, app);
      // The bot user is new: an existing account of that id is someone else's.
      if (await findUser(trx, this.siteId, app.accountId)) throw explainTaken('accountId', app);
    };
    try {
      await db.transaction().execute(async (trx) => {
        // Serialises changes to apps' identifiers: no unique index spans a key and a clientKey.
        await lockSite(trx, this.siteId);
        await check(trx);
        await insertUser(trx, this.siteId, botUser(app));
        await upsertApp(trx, this.siteId, sealApp(secrets, app, input.clientSecret ?? null));
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await check(db);
      throw conflict(`App ${app.key} conflicts with another app created at the same time`);
    }
    return this.get(app.key);
  }

  /**
   * Reads, checks and writes in one transaction under the site row's lock
   * (which also serialises changes to apps' identifiers), writing only the
   * fields given: an app deleted meanwhile stays deleted (404).
   */
  async update(key: string, patch: AdminAppPatch): Promise<AdminApp> {
    const { db, secrets } = this;
    checkSharedSecret(patch.sharedSecret);
    let next: Pick<App, 'key' | 'clientKey' | 'oauthClientId' | 'accountId'> | undefined;
    try {
      await db.transaction().execute(async (trx) => {
        await lockSite(trx, this.siteId);
        const current = await findAppRecord(trx, this.siteId, key);
        if (!current) throw noSuchApp(key);
        const scopes = checkScopes(patch.scopes, current.kind);
        next = {
          key,
          clientKey: patch.clientKey ?? current.clientKey,
          oauthClientId: patch.oauthClientId === undefined ? current.oauthClientId : patch.oauthClientId,
          accountId: current.accountId,
        };
        const taken = await takenAppField(trx, this.siteId, next);
        if (taken) throw explainTaken(taken, next);
        // docs/behaviour.md §9: a new shared or client secret ends the app's bearer tokens.
        await endTokensOnRotation(trx, this.siteId, secrets, key, patch);
        await updateAppColumns(trx, this.siteId, key, {
          name: patch.name,
          clientKey: patch.clientKey,
          sharedSecretSealed: patch.sharedSecret === undefined ? undefined : secrets.encrypt(patch.sharedSecret),
          oauthClientId: patch.oauthClientId,
          clientSecretDigest:
            patch.clientSecret === undefined
              ? undefined
              : patch.clientSecret === null
                ? null
                : secrets.digest(patch.clientSecret),
          scopes,
          emailAccess: patch.emailAccess,
        });
        if (patch.name !== undefined) await renameUser(trx, this.siteId, current.accountId, patch.name);
      });
    } catch (error) {
      if (!isUniqueViolation(error) || !next) throw error;
      const again = await takenAppField(db, this.siteId, next);
      throw again
        ? explainTaken(again, next)
        : conflict(`App ${key} conflicts with another app changed at the same time`);
    }
    return this.get(key);
  }

  /** docs/behaviour.md §2: removes the app's bot user (with its memberships and tokens) and its Confluence namespace's properties. */
  async delete(key: string): Promise<void> {
    const app = await this.get(key);
    await this.db.transaction().execute((trx) => deleteAppAndBot(trx, this.siteId, app));
  }
}
