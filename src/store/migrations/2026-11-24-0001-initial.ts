/**
 * Initial schema. Frozen: later changes go in new migration files.
 * `dialect` only picks the id column and the text collation; PostgreSQL keys
 * use COLLATE "C" so every ordering is by code point, as SQLite's BINARY is.
 */
import { type Kysely, type Migration, sql } from 'kysely';

export function initial(dialect: 'sqlite' | 'postgres'): Migration {
  const ordered = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('site')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('cloud_id', 'text', (c) => c.notNull())
        .addColumn('base_url', 'text')
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('account_id', 'text', (c) => c.primaryKey())
        .addColumn('account_type', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('email_lower', 'text', (c) => c.unique())
        .addColumn('display_name', ordered, (c) => c.notNull())
        .addColumn('public_name', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('email_visibility', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.unique())
        .addColumn('user_key', 'text', (c) => c.unique())
        .addColumn('external_collaborator', 'integer', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('groups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', ordered, (c) => c.notNull().unique())
        .execute();

      await db.schema
        .createTable('group_members')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull().references('users.account_id').onDelete('cascade'))
        .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'account_id'])
        .execute();
      await db.schema.createIndex('group_members_account').on('group_members').column('account_id').execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('users.account_id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .execute();
      await db.schema.createIndex('api_tokens_account').on('api_tokens').column('account_id').execute();

      await db.schema
        .createTable('apps')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('client_key', 'text', (c) => c.notNull().unique())
        .addColumn('shared_secret', 'text', (c) => c.notNull())
        .addColumn('oauth_client_id', 'text', (c) => c.unique())
        .addColumn('client_secret_digest', 'text')
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('email_access', 'integer', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull().unique().references('users.account_id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('properties')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull().references('users.account_id').onDelete('cascade'))
        .addColumn('key', ordered, (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('properties_identity', ['product', 'namespace', 'account_id', 'key'])
        .execute();
    },
  };
}
