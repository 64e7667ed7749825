/**
 * Sites (docs/behaviour.md §10): every row belongs to one site, and keys are
 * unique per site. Frozen: later changes go in new migration files.
 *
 * - `sites` replaces the single `site` row; an existing database's site
 *   becomes the default site, named `default`, and keeps its id, cloudId,
 *   base URL, settings and first-start mark.
 * - `server` holds what belongs to the server rather than a site: which site
 *   is the default, and the operator token's digest.
 * - Every other table gains `site_id` as the first column of its primary key
 *   and of each unique key. Every row already stored is moved into the
 *   default site, nothing dropped. Ids that are random or generated (group,
 *   token and space ids, property ids) stay unique across the server; the
 *   natural keys of §8 (accountId, app key, content id, label name, email,
 *   group name…) are unique per site only.
 * - Foreign keys name the site too, so no row can point into another site,
 *   and deleting a site removes everything of it (cascades). A personal
 *   space's owner has no `ON DELETE SET NULL` (it would null the site too):
 *   store/users.ts clears the owner before it deletes a user.
 *
 * Each table is built anew as `X_next`, filled from `X`, and renamed once
 * the old tables are gone (SQLite cannot change a primary key in place).
 */
import { type CreateTableBuilder, type Kysely, type Migration, type RawBuilder, sql } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

interface TableDef {
  name: string;
  /** Columns after `site_id`, in order, as they are copied. */
  columns: string[];
  build(table: CreateTableBuilder<string, never>, ordered: RawBuilder<unknown>): CreateTableBuilder<string, never>;
}

const SITE = 'site_id';
const next = (name: string) => `${name}_next`;

/** A foreign key on (site_id, …columns) to a parent's (site_id, …columns). */
function siteKey(
  table: CreateTableBuilder<string, never>,
  name: string,
  columns: string[],
  parent: string,
  parentColumns: string[],
  onDelete: 'cascade' | 'no action' = 'cascade',
): CreateTableBuilder<string, never> {
  return table.addForeignKeyConstraint(
    name,
    [SITE, ...columns] as never[],
    next(parent),
    [SITE, ...parentColumns],
    (c) => c.onDelete(onDelete),
  );
}

function idColumn(dialect: Dialect, kind: 'small' | 'big'): 'bigserial' | 'serial' | 'integer' {
  return dialect === 'postgres' ? (kind === 'big' ? 'bigserial' : 'serial') : 'integer';
}

/** Parents before children: the order tables are made and filled in. */
function tables(dialect: Dialect): TableDef[] {
  const autoId = (kind: 'small' | 'big') => ({
    type: idColumn(dialect, kind),
    modify: (c: any) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()),
  });
  return [
    {
      name: 'users',
      columns: [
        'account_id',
        'account_type',
        'email',
        'email_lower',
        'display_name',
        'public_name',
        'time_zone',
        'email_visibility',
        'username',
        'user_key',
        'external_collaborator',
        'active',
        'created_at',
      ],
      build: (t, ordered) =>
        t
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('account_type', 'text', (c) => c.notNull())
          .addColumn('email', 'text', (c) => c.notNull())
          .addColumn('email_lower', 'text')
          .addColumn('display_name', ordered, (c) => c.notNull())
          .addColumn('public_name', 'text', (c) => c.notNull())
          .addColumn('time_zone', 'text', (c) => c.notNull())
          .addColumn('email_visibility', 'text', (c) => c.notNull())
          .addColumn('username', 'text')
          .addColumn('user_key', 'text')
          .addColumn('external_collaborator', 'integer', (c) => c.notNull())
          .addColumn('active', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('users_site_pk', [SITE, 'account_id'] as never[])
          .addUniqueConstraint('users_site_email', [SITE, 'email_lower'] as never[])
          .addUniqueConstraint('users_site_username', [SITE, 'username'] as never[])
          .addUniqueConstraint('users_site_user_key', [SITE, 'user_key'] as never[]),
    },
    {
      name: 'groups',
      columns: ['id', 'name'],
      build: (t, ordered) =>
        t
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('name', ordered, (c) => c.notNull())
          .addPrimaryKeyConstraint('groups_site_pk', [SITE, 'id'] as never[])
          .addUniqueConstraint('groups_site_name', [SITE, 'name'] as never[]),
    },
    {
      name: 'group_members',
      columns: ['group_id', 'account_id'],
      build: (t) => {
        t = t
          .addColumn('group_id', 'text', (c) => c.notNull())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('group_members_site_pk', [SITE, 'group_id', 'account_id'] as never[]);
        t = siteKey(t, 'group_members_group', ['group_id'], 'groups', ['id']);
        return siteKey(t, 'group_members_user', ['account_id'], 'users', ['account_id']);
      },
    },
    {
      name: 'api_tokens',
      columns: ['id', 'account_id', 'name', 'digest', 'created_at', 'expires_at'],
      build: (t) =>
        siteKey(
          t
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('account_id', 'text', (c) => c.notNull())
            .addColumn('name', 'text', (c) => c.notNull())
            .addColumn('digest', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addColumn('expires_at', 'text')
            .addUniqueConstraint('api_tokens_site_digest', [SITE, 'digest'] as never[]),
          'api_tokens_user',
          ['account_id'],
          'users',
          ['account_id'],
        ),
    },
    {
      name: 'apps',
      columns: [
        'key',
        'name',
        'client_key',
        'shared_secret',
        'oauth_client_id',
        'client_secret_digest',
        'scopes',
        'email_access',
        'account_id',
        'created_at',
      ],
      build: (t) =>
        siteKey(
          t
            .addColumn('key', 'text', (c) => c.notNull())
            .addColumn('name', 'text', (c) => c.notNull())
            .addColumn('client_key', 'text', (c) => c.notNull())
            .addColumn('shared_secret', 'text', (c) => c.notNull())
            .addColumn('oauth_client_id', 'text')
            .addColumn('client_secret_digest', 'text')
            .addColumn('scopes', 'text', (c) => c.notNull())
            .addColumn('email_access', 'integer', (c) => c.notNull())
            .addColumn('account_id', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('apps_site_pk', [SITE, 'key'] as never[])
            .addUniqueConstraint('apps_site_client_key', [SITE, 'client_key'] as never[])
            .addUniqueConstraint('apps_site_oauth_client_id', [SITE, 'oauth_client_id'] as never[])
            .addUniqueConstraint('apps_site_account', [SITE, 'account_id'] as never[]),
          'apps_bot',
          ['account_id'],
          'users',
          ['account_id'],
          'no action',
        ),
    },
    {
      name: 'properties',
      columns: ['id', 'product', 'namespace', 'account_id', 'key', 'value', 'version', 'created_at', 'updated_at'],
      build: (t, ordered) => {
        const id = autoId('big');
        return siteKey(
          t
            .addColumn('id', id.type, id.modify)
            .addColumn('product', 'text', (c) => c.notNull())
            .addColumn('namespace', 'text', (c) => c.notNull())
            .addColumn('account_id', 'text', (c) => c.notNull())
            .addColumn('key', ordered, (c) => c.notNull())
            .addColumn('value', 'text', (c) => c.notNull())
            .addColumn('version', 'integer', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addColumn('updated_at', 'text', (c) => c.notNull())
            .addUniqueConstraint('properties_site_identity', [
              SITE,
              'product',
              'namespace',
              'account_id',
              'key',
            ] as never[]),
          'properties_user',
          ['account_id'],
          'users',
          ['account_id'],
        );
      },
    },
    {
      name: 'oauth_tokens',
      columns: ['id', 'digest', 'app_key', 'account_id', 'scopes', 'created_at', 'expires_at'],
      build: (t) => {
        t = t
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('app_key', 'text', (c) => c.notNull())
          .addColumn('account_id', 'text')
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addUniqueConstraint('oauth_tokens_site_digest', [SITE, 'digest'] as never[]);
        t = siteKey(t, 'oauth_tokens_app', ['app_key'], 'apps', ['key']);
        return siteKey(t, 'oauth_tokens_user', ['account_id'], 'users', ['account_id']);
      },
    },
    {
      name: 'spaces',
      columns: ['id', 'key', 'name', 'type', 'owner_account_id', 'view_anonymous', 'created_at'],
      build: (t, ordered) => {
        const id = autoId('small');
        return siteKey(
          t
            .addColumn('id', id.type, id.modify)
            .addColumn('key', ordered, (c) => c.notNull())
            .addColumn('name', 'text', (c) => c.notNull())
            .addColumn('type', 'text', (c) => c.notNull())
            .addColumn('owner_account_id', 'text')
            .addColumn('view_anonymous', 'integer', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addUniqueConstraint('spaces_site_id', [SITE, 'id'] as never[])
            .addUniqueConstraint('spaces_site_key', [SITE, 'key'] as never[])
            // One personal space per owner; ownerless ones may be many (NULLs are distinct).
            .addUniqueConstraint('spaces_site_owner', [SITE, 'owner_account_id'] as never[]),
          'spaces_owner',
          ['owner_account_id'],
          'users',
          ['account_id'],
          'no action',
        );
      },
    },
    {
      name: 'space_view_groups',
      columns: ['space_id', 'group_id'],
      build: (t) => {
        t = t
          .addColumn('space_id', 'integer', (c) => c.notNull())
          .addColumn('group_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('space_view_groups_site_pk', [SITE, 'space_id', 'group_id'] as never[]);
        t = siteKey(t, 'space_view_groups_space', ['space_id'], 'spaces', ['id']);
        return siteKey(t, 'space_view_groups_group', ['group_id'], 'groups', ['id']);
      },
    },
    {
      name: 'space_view_users',
      columns: ['space_id', 'account_id'],
      build: (t) => {
        t = t
          .addColumn('space_id', 'integer', (c) => c.notNull())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('space_view_users_site_pk', [SITE, 'space_id', 'account_id'] as never[]);
        t = siteKey(t, 'space_view_users_space', ['space_id'], 'spaces', ['id']);
        return siteKey(t, 'space_view_users_user', ['account_id'], 'users', ['account_id']);
      },
    },
    {
      name: 'content',
      columns: ['id', 'space_id', 'type', 'title', 'restricted', 'created_at'],
      build: (t) =>
        siteKey(
          t
            .addColumn('id', 'text', (c) => c.notNull())
            .addColumn('space_id', 'integer', (c) => c.notNull())
            .addColumn('type', 'text', (c) => c.notNull())
            .addColumn('title', 'text', (c) => c.notNull())
            .addColumn('restricted', 'integer', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('content_site_pk', [SITE, 'id'] as never[]),
          'content_space',
          ['space_id'],
          'spaces',
          ['id'],
        ),
    },
    {
      name: 'content_view_users',
      columns: ['content_id', 'account_id'],
      build: (t) => {
        t = t
          .addColumn('content_id', 'text', (c) => c.notNull())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('content_view_users_site_pk', [SITE, 'content_id', 'account_id'] as never[]);
        t = siteKey(t, 'content_view_users_content', ['content_id'], 'content', ['id']);
        return siteKey(t, 'content_view_users_user', ['account_id'], 'users', ['account_id']);
      },
    },
    {
      name: 'content_view_groups',
      columns: ['content_id', 'group_id'],
      build: (t) => {
        t = t
          .addColumn('content_id', 'text', (c) => c.notNull())
          .addColumn('group_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('content_view_groups_site_pk', [SITE, 'content_id', 'group_id'] as never[]);
        t = siteKey(t, 'content_view_groups_content', ['content_id'], 'content', ['id']);
        return siteKey(t, 'content_view_groups_group', ['group_id'], 'groups', ['id']);
      },
    },
    {
      name: 'labels',
      columns: ['name', 'created_at'],
      build: (t, ordered) =>
        t
          .addColumn('name', ordered, (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('labels_site_pk', [SITE, 'name'] as never[]),
    },
    {
      name: 'content_labels',
      columns: ['content_id', 'label'],
      build: (t, ordered) => {
        t = t
          .addColumn('content_id', 'text', (c) => c.notNull())
          .addColumn('label', ordered, (c) => c.notNull())
          .addPrimaryKeyConstraint('content_labels_site_pk', [SITE, 'content_id', 'label'] as never[]);
        t = siteKey(t, 'content_labels_content', ['content_id'], 'content', ['id']);
        return siteKey(t, 'content_labels_label', ['label'], 'labels', ['name']);
      },
    },
    {
      name: 'content_watches',
      columns: ['account_id', 'content_id', 'created_at'],
      build: (t) => {
        t = t
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('content_id', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('content_watches_site_pk', [SITE, 'account_id', 'content_id'] as never[]);
        t = siteKey(t, 'content_watches_user', ['account_id'], 'users', ['account_id']);
        return siteKey(t, 'content_watches_content', ['content_id'], 'content', ['id']);
      },
    },
    {
      name: 'space_watches',
      columns: ['account_id', 'space_id', 'created_at'],
      build: (t) => {
        t = t
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('space_id', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('space_watches_site_pk', [SITE, 'account_id', 'space_id'] as never[]);
        t = siteKey(t, 'space_watches_user', ['account_id'], 'users', ['account_id']);
        return siteKey(t, 'space_watches_space', ['space_id'], 'spaces', ['id']);
      },
    },
    {
      name: 'label_watches',
      columns: ['account_id', 'label', 'created_at'],
      build: (t, ordered) => {
        t = t
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('label', ordered, (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('label_watches_site_pk', [SITE, 'account_id', 'label'] as never[]);
        t = siteKey(t, 'label_watches_user', ['account_id'], 'users', ['account_id']);
        return siteKey(t, 'label_watches_label', ['label'], 'labels', ['name']);
      },
    },
  ];
}

/** Secondary indexes, for the lookups and cascades that do not lead with a key's columns. */
const INDEXES: ReadonlyArray<[name: string, table: string, columns: string[]]> = [
  ['group_members_by_user', 'group_members', [SITE, 'account_id']],
  ['api_tokens_by_user', 'api_tokens', [SITE, 'account_id']],
  ['properties_by_user', 'properties', [SITE, 'account_id']],
  ['oauth_tokens_by_app', 'oauth_tokens', [SITE, 'app_key']],
  ['oauth_tokens_by_user', 'oauth_tokens', [SITE, 'account_id']],
  ['oauth_tokens_by_expiry', 'oauth_tokens', ['expires_at']],
  ['space_view_groups_by_group', 'space_view_groups', [SITE, 'group_id']],
  ['space_view_users_by_user', 'space_view_users', [SITE, 'account_id']],
  ['content_by_space', 'content', [SITE, 'space_id']],
  ['content_view_users_by_user', 'content_view_users', [SITE, 'account_id']],
  ['content_view_groups_by_group', 'content_view_groups', [SITE, 'group_id']],
  ['content_labels_by_label', 'content_labels', [SITE, 'label']],
  ['content_watches_by_content', 'content_watches', [SITE, 'content_id']],
  ['space_watches_by_space', 'space_watches', [SITE, 'space_id']],
  ['label_watches_by_label', 'label_watches', [SITE, 'label']],
];

/** store/site.ts's rule as this migration applies it: frozen with the migration. */
function hostOfBaseUrl(baseUrl: string | null): string | null {
  if (baseUrl === null) return null;
  try {
    const url = new URL(baseUrl);
    return url.pathname === '/' || url.pathname === '' ? url.host.toLowerCase() : null;
  } catch {
    return null;
  }
}

export function sites(dialect: Dialect): Migration {
  const ordered = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<any>) {
      const siteId = dialect === 'postgres' ? 'serial' : 'integer';
      await db.schema
        .createTable('sites')
        .addColumn('id', siteId, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('cloud_id', 'text', (c) => c.notNull().unique())
        .addColumn('base_url', 'text')
        // The base URL's host:port, lower-cased, when it names no path: how rule 3 finds a site by Host.
        .addColumn('host', 'text', (c) => c.unique())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('first_started_at', 'text')
        .execute();
      await db.schema
        .createTable('server')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('default_site_id', 'integer', (c) => c.references('sites.id'))
        .addColumn('operator_token_digest', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      const old = (await db.selectFrom('site').selectAll().execute()) as Array<{
        id: number;
        cloud_id: string;
        base_url: string | null;
        settings: string;
        created_at: string;
        first_started_at: string | null;
      }>;
      for (const row of old) {
        await db
          .insertInto('sites')
          .values({ ...row, name: 'default', host: hostOfBaseUrl(row.base_url) })
          .execute();
        await db
          .insertInto('server')
          .values({ id: 1, default_site_id: row.id, operator_token_digest: null, created_at: row.created_at })
          .execute();
      }
      if (dialect === 'postgres' && old.length > 0) {
        await sql`select setval(pg_get_serial_sequence('sites', 'id'), (select max(id) from sites))`.execute(db);
      }
      // Rows of a database from before sites belong to its one site.
      const into = old[0]?.id ?? 1;

      const defs = tables(dialect);
      for (const def of defs) {
        let table = db.schema
          .createTable(next(def.name))
          .addColumn(SITE, 'integer', (c) => c.notNull().references('sites.id').onDelete('cascade'));
        table = def.build(table as never, ordered) as never;
        await table.execute();
      }
      for (const def of defs) {
        const columns = sql.join(def.columns.map((c) => sql.ref(c)));
        await sql`insert into ${sql.table(next(def.name))} (${sql.ref(SITE)}, ${columns}) select ${sql.lit(into)}, ${columns} from ${sql.table(def.name)}`.execute(
          db,
        );
      }
      for (const def of [...defs].reverse()) await db.schema.dropTable(def.name).execute();
      await db.schema.dropTable('site').execute();
      for (const def of defs) await db.schema.alterTable(next(def.name)).renameTo(def.name).execute();
      if (dialect === 'postgres') {
        // Generated ids continue after the rows moved in.
        for (const table of ['properties', 'spaces']) {
          await sql`select setval(pg_get_serial_sequence(${table}, 'id'), coalesce((select max(id) from ${sql.table(table)}), 0) + 1, false)`.execute(
            db,
          );
        }
      }
      for (const [name, table, columns] of INDEXES) {
        await db.schema.createIndex(name).on(table).columns(columns).execute();
      }
    },
  };
}
