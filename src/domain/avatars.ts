/**
 * Whose picture an avatar path shows (docs/behaviour.md §1, §3 "Always public").
 * Unknown and malformed ids get the silhouette, exactly as the anonymous
 * user does, so no answer tells whether an account exists.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { findUser } from '../store/users.ts';
import { isWellFormedAccountId } from './users.ts';

/** The picture for an avatar path: a user's initials, or the generic silhouette. */
export type Avatar =
  /** The public name: avatars are public, and the public name is the one meant for everyone. */
  { kind: 'initials'; accountId: string; publicName: string } | { kind: 'silhouette' };

const SILHOUETTE: Avatar = { kind: 'silhouette' };

export class AvatarService {
  constructor(private readonly db: Kysely<Database>) {}

  async avatarOf(siteId: number, accountId: string): Promise<Avatar> {
    const user = isWellFormedAccountId(accountId) ? await findUser(this.db, siteId, accountId) : undefined;
    return user ? { kind: 'initials', accountId: user.accountId, publicName: user.publicName } : SILHOUETTE;
  }
}
