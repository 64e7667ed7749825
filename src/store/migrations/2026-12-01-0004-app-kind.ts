/**
 * Forge apps (docs/behaviour.md §13). Frozen: later changes go in new
 * migration files.
 *
 * - `apps.kind`: `connect` (every app before this) or `forge`. A Forge
 *   app's key is its app id, the ARI `ari:cloud:ecosystem::app/<uuid>`.
 * - `snapshot_apps.kind` (2026-12-01-0003-site-seeds): the same column, so
 *   snapshots copy it; rows already in a snapshot are Connect apps.
 */
import type { Kysely, Migration } from 'kysely';

export function appKind(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('apps')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('connect'))
        .execute();
      await db.schema
        .alterTable('snapshot_apps')
        .addColumn('kind', 'text', (c) => c.defaultTo('connect'))
        .execute();
    },
  };
}
