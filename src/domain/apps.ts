/** Connect / OAuth apps (docs/behaviour.md §2). */
import { v5 as uuidv5 } from 'uuid';
import type { User } from './users.ts';

export interface App {
  key: string;
  name: string;
  clientKey: string;
  /** Plain text, in memory only; stored encrypted (domain/secrets.ts). */
  sharedSecret: string;
  oauthClientId: string | null;
  scopes: string[];
  emailAccess: boolean;
  /** The app's bot user. */
  accountId: string;
}

export const MIN_SHARED_SECRET_LENGTH = 32;

// A fixed namespace makes a bot's accountId the same on every instance.
const BOT_NAMESPACE = '3b9e6e0c-5d0b-4d36-9c55-6b0c2f0b7a11';

export function botAccountId(appKey: string): string {
  return `557058:${uuidv5(appKey, BOT_NAMESPACE)}`;
}

/** An app's bot user (docs/behaviour.md §2): named after the app, no email, no groups, cannot log in. */
export function botUser(app: { accountId: string; name: string }): User {
  return {
    accountId: app.accountId,
    accountType: 'app',
    email: '',
    displayName: app.name,
    publicName: app.name,
    timeZone: 'UTC',
    emailVisibility: 'private',
    username: null,
    userKey: null,
    externalCollaborator: false,
    active: true,
  };
}
