/**
 * The email API, `/user/email` and `/user/email/bulk` (docs/behaviour.md §3 "Email"):
 * approved apps read any user's address, whatever the user's visibility
 * setting. Everything else about users is domain/directory.ts.
 */
import type { Kysely } from 'kysely';
import type { SiteSettings } from '../schemas/site.ts';
import { findUsersByAccountId } from '../store/directory.ts';
import type { Database } from '../store/schema.ts';
import { distinct, findOne, splitList } from './directory.ts';
import { ApiError, atStep, badRequest } from './errors.ts';
import type { Principal } from './principal.ts';
import type { Site } from './site.ts';
import { checkAccountId, type User } from './users.ts';

export interface EmailRecord {
  accountId: string;
  email: string;
}

/**
 * docs/behaviour.md §3 "Email", after the route's scope check (403): `accountId`
 * missing 400 → `emailApi: disabled` 501 → caller not approved 400. Only
 * an app acting as itself with `emailAccess` is approved; visibility
 * settings do not apply to it.
 */
function emailGates(principal: Principal, settings: SiteSettings, accountIds: string[]): void {
  if (accountIds.length === 0)
    throw badRequest('accountId is required: name the user (or users) whose email address to return');
  if (settings.emailApi === 'disabled') {
    throw new ApiError(
      'not_implemented_by_site',
      'The email API is not enabled on this site: its emailApi setting is disabled',
    );
  }
  if (principal.kind === 'app') {
    if (!principal.app.emailAccess) {
      throw gate(`App ${principal.app.key} is not approved to read email addresses: its emailAccess setting is off`);
    }
    return;
  }
  if (principal.kind === 'asUser') {
    throw gate(`Only apps acting as themselves may read email addresses: app ${principal.app.key} is acting as a user`);
  }
  throw gate('Only approved apps may read email addresses: users cannot use the email API');
}

/** A 400 of the email API's gates (docs/behaviour.md §3 step 5), not of syntax. */
const gate = (message: string) => atStep('gate', badRequest(message));

export class EmailService {
  constructor(private readonly db: Kysely<Database>) {}

  /** `GET /user/email`. */
  async emailOf(principal: Principal, site: Site, accountId: string | undefined): Promise<EmailRecord> {
    const id = accountId ?? '';
    if (id !== '') checkAccountId(id);
    emailGates(principal, site.settings, id === '' ? [] : [id]);
    const user = await findOne(this.db, site.id, id);
    return { accountId: user.accountId, email: user.email };
  }

  /** `GET /user/email/bulk`: in request order, duplicates removed, unknown users omitted. */
  async emailsOf(
    principal: Principal,
    site: Site,
    accountIdParams: readonly string[] | undefined,
  ): Promise<EmailRecord[]> {
    const ids = distinct(splitList(accountIdParams));
    emailGates(principal, site.settings, ids);
    const found = await findUsersByAccountId(this.db, site.id, ids);
    return ids
      .map((id) => found.get(id))
      .filter((u): u is User => u !== undefined)
      .map((u) => ({ accountId: u.accountId, email: u.email }));
  }
}
