/**
 * Bearer tokens issued by `POST /oauth2/token` (docs/behaviour.md §3). Frozen: later
 * changes go in new migration files.
 * - Only an HMAC digest of the token is stored, and tokens are looked up by it.
 * - Deleting an app or a user removes their tokens (foreign-key cascades);
 *   deactivating a user is checked when a token is presented.
 */
import type { Kysely, Migration } from 'kysely';

export function oauthTokens(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('oauth_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('digest', 'text', (c) => c.notNull().unique())
        .addColumn('app_key', 'text', (c) => c.notNull().references('apps.key').onDelete('cascade'))
        // The impersonated user of a JWT-bearer grant; null for client_credentials (asApp).
        .addColumn('account_id', 'text', (c) => c.references('users.account_id').onDelete('cascade'))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('oauth_tokens_app').on('oauth_tokens').column('app_key').execute();
      await db.schema.createIndex('oauth_tokens_account').on('oauth_tokens').column('account_id').execute();
      await db.schema.createIndex('oauth_tokens_expiry').on('oauth_tokens').column('expires_at').execute();
    },
  };
}
