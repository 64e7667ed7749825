/**
 * API tokens (docs/behaviour.md §2, §9): a random value of at least 256 bits, shown once
 * at creation; only its HMAC digest is stored. Listing shows ids and names,
 * never a token or a digest. A revoked or expired token, or one of a
 * deactivated user, stops authenticating within the auth cache's second
 * (domain/authenticate.ts).
 */
import type { Kysely } from 'kysely';
import type { AdminNewToken, AdminToken, AdminTokenCreate } from '../../schemas/admin.ts';
import type { Database } from '../../store/schema.ts';
import { deleteToken, insertToken, listTokens } from '../../store/tokens.ts';
import { findUser } from '../../store/users.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { newApiToken, type Secrets } from '../secrets.ts';
import { checkAccountId, noSuchUser } from '../users.ts';
import { type AdminList, listOf, type PageRequest, pageOf } from './common.ts';

export const DEFAULT_TOKEN_NAME = 'API token';
/** API tokens and bearer tokens alike are identified by UUIDs. */
export const TOKEN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The administration API's API tokens (docs/behaviour.md §9); the CLI's `tokens` command uses it too. */
export class TokenAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly siteId: number,
    private readonly secrets: Secrets,
  ) {}

  /** `now` is when the token is issued, which `expiresAt` must follow. */
  async create(accountId: string, input: AdminTokenCreate = {}, now: Date = new Date()): Promise<AdminNewToken> {
    checkAccountId(accountId);
    let expiresAt: string | null = null;
    if (input.expiresAt !== undefined) {
      const at = Date.parse(input.expiresAt);
      if (Number.isNaN(at)) throw badRequest(`expiresAt "${input.expiresAt}" is not an ISO-8601 date-time`);
      if (at <= now.getTime()) throw badRequest(`expiresAt ${input.expiresAt} is not in the future`);
      expiresAt = new Date(at).toISOString();
    }
    const user = await findUser(this.db, this.siteId, accountId);
    if (!user) throw noSuchUser(accountId);
    // docs/behaviour.md §2: an app's bot user cannot log in.
    if (user.accountType === 'app')
      throw conflict(`User ${accountId} is an app's bot user, which cannot log in: it gets no API tokens`);

    const token = newApiToken();
    const record = await insertToken(this.db, this.siteId, {
      accountId,
      name: input.name ?? DEFAULT_TOKEN_NAME,
      digest: this.secrets.digest(token),
      expiresAt,
    });
    return { ...record, token };
  }

  async list(accountId: string, request: PageRequest = {}): Promise<AdminList<AdminToken>> {
    checkAccountId(accountId);
    if (!(await findUser(this.db, this.siteId, accountId))) throw noSuchUser(accountId);
    const page = pageOf(request);
    return listOf((await listTokens(this.db, this.siteId, accountId, page)).items, page);
  }

  async revoke(id: string): Promise<void> {
    if (!TOKEN_ID.test(id)) throw badRequest(`"${id}" is not a token id: token ids are UUIDs`);
    if (!(await deleteToken(this.db, this.siteId, id.toLowerCase()))) throw notFound(`No API token with id ${id}`);
  }
}
