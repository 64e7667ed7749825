/**
 * Bearer tokens of `POST /oauth2/token` (docs/behaviour.md §9): listed per app with
 * their user, scopes and lifetime, never the token or its digest; revoked
 * one by one or all of an app's at once. A revoked token stops
 * authenticating within the auth cache's second (domain/authenticate.ts).
 */
import type { Kysely } from 'kysely';
import type { AdminOAuthToken } from '../../schemas/admin-oauth-tokens.ts';
import { appExists } from '../../store/apps.ts';
import { deleteAppOAuthTokens, deleteOAuthToken, listOAuthTokens } from '../../store/oauth-tokens.ts';
import type { Database } from '../../store/schema.ts';
import { badRequest, notFound } from '../errors.ts';
import { type AdminList, listOf, type PageRequest, pageOf } from './common.ts';
import { TOKEN_ID } from './tokens.ts';

const noSuchApp = (key: string) => notFound(`No app with key ${key}`);

/** The administration API's bearer tokens (docs/behaviour.md §9); the CLI's `oauth-tokens` command uses it too. */
export class OAuthTokenAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly siteId: number,
  ) {}

  /** An app's tokens, oldest first, expired ones included until they are dropped. */
  async list(appKey: string, request: PageRequest = {}): Promise<AdminList<AdminOAuthToken>> {
    if (!(await appExists(this.db, this.siteId, appKey))) throw noSuchApp(appKey);
    const page = pageOf(request);
    return listOf((await listOAuthTokens(this.db, this.siteId, appKey, page)).items, page);
  }

  async revoke(id: string): Promise<void> {
    if (!TOKEN_ID.test(id)) throw badRequest(`"${id}" is not a bearer token id: token ids are UUIDs`);
    if (!(await deleteOAuthToken(this.db, this.siteId, id.toLowerCase())))
      throw notFound(`No bearer token with id ${id}`);
  }

  /** Ends every token of the app; returns how many there were. */
  async revokeAll(appKey: string): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await appExists(trx, this.siteId, appKey))) throw noSuchApp(appKey);
      return deleteAppOAuthTokens(trx, this.siteId, appKey);
    });
  }
}
