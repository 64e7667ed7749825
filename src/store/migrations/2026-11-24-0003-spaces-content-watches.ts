/**
 * Spaces, content, labels and watches (docs/behaviour.md §2). Frozen: later changes go in
 * new migration files.
 * - Removal cascades where docs/behaviour.md §2 says it does: a deleted user loses their
 *   watches and their places in view permissions and restrictions; a deleted
 *   space takes its content, and each deleted target its watches.
 * - A personal space stays when its owner is deleted, with no owner (SET NULL).
 * - Labels are never removed with their last content, so neither are their watches.
 * - Watches are one table per target kind, so every target is a real foreign key.
 * PostgreSQL text columns that are sorted use COLLATE "C" (code-point order,
 * as SQLite's BINARY).
 */
import { type Kysely, type Migration, sql } from 'kysely';

export function spacesContentWatches(dialect: 'sqlite' | 'postgres'): Migration {
  const ordered = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('spaces')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('key', ordered, (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        // One personal space per owner; several ownerless ones may remain (NULLs are distinct).
        .addColumn('owner_account_id', 'text', (c) => c.unique().references('users.account_id').onDelete('set null'))
        .addColumn('view_anonymous', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('space_view_groups')
        .addColumn('space_id', 'integer', (c) => c.notNull().references('spaces.id').onDelete('cascade'))
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('space_view_groups_pk', ['space_id', 'group_id'])
        .execute();
      await db.schema.createIndex('space_view_groups_group').on('space_view_groups').column('group_id').execute();

      await db.schema
        .createTable('space_view_users')
        .addColumn('space_id', 'integer', (c) => c.notNull().references('spaces.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull().references('users.account_id').onDelete('cascade'))
        .addPrimaryKeyConstraint('space_view_users_pk', ['space_id', 'account_id'])
        .execute();
      await db.schema.createIndex('space_view_users_account').on('space_view_users').column('account_id').execute();

      await db.schema
        .createTable('content')
        // A numeric string of up to 18 digits: text, since SQLite's driver reads integers beyond 2^53 imprecisely.
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('space_id', 'integer', (c) => c.notNull().references('spaces.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        // Set when a restriction was given; stays set when its users and groups are deleted, so it never opens up.
        .addColumn('restricted', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('content_space').on('content').column('space_id').execute();

      await db.schema
        .createTable('content_view_users')
        .addColumn('content_id', 'text', (c) => c.notNull().references('content.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull().references('users.account_id').onDelete('cascade'))
        .addPrimaryKeyConstraint('content_view_users_pk', ['content_id', 'account_id'])
        .execute();
      await db.schema.createIndex('content_view_users_account').on('content_view_users').column('account_id').execute();

      await db.schema
        .createTable('content_view_groups')
        .addColumn('content_id', 'text', (c) => c.notNull().references('content.id').onDelete('cascade'))
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('content_view_groups_pk', ['content_id', 'group_id'])
        .execute();
      await db.schema.createIndex('content_view_groups_group').on('content_view_groups').column('group_id').execute();

      await db.schema
        .createTable('labels')
        .addColumn('name', ordered, (c) => c.primaryKey())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('content_labels')
        .addColumn('content_id', 'text', (c) => c.notNull().references('content.id').onDelete('cascade'))
        .addColumn('label', ordered, (c) => c.notNull().references('labels.name').onDelete('cascade'))
        .addPrimaryKeyConstraint('content_labels_pk', ['content_id', 'label'])
        .execute();
      await db.schema.createIndex('content_labels_label').on('content_labels').column('label').execute();

      await db.schema
        .createTable('content_watches')
        .addColumn('account_id', 'text', (c) => c.notNull().references('users.account_id').onDelete('cascade'))
        .addColumn('content_id', 'text', (c) => c.notNull().references('content.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('content_watches_pk', ['account_id', 'content_id'])
        .execute();
      await db.schema.createIndex('content_watches_content').on('content_watches').column('content_id').execute();

      await db.schema
        .createTable('space_watches')
        .addColumn('account_id', 'text', (c) => c.notNull().references('users.account_id').onDelete('cascade'))
        .addColumn('space_id', 'integer', (c) => c.notNull().references('spaces.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('space_watches_pk', ['account_id', 'space_id'])
        .execute();
      await db.schema.createIndex('space_watches_space').on('space_watches').column('space_id').execute();

      await db.schema
        .createTable('label_watches')
        .addColumn('account_id', 'text', (c) => c.notNull().references('users.account_id').onDelete('cascade'))
        .addColumn('label', ordered, (c) => c.notNull().references('labels.name').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('label_watches_pk', ['account_id', 'label'])
        .execute();
      await db.schema.createIndex('label_watches_label').on('label_watches').column('label').execute();
    },
  };
}
