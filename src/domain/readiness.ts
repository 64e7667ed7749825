/** `/readyz` (docs/behaviour.md §7): whether the database answers. */
import type { Kysely } from 'kysely';
import { ping } from '../store/database.ts';
import type { Database } from '../store/schema.ts';

export class ReadinessCheck {
  constructor(private readonly db: Kysely<Database>) {}

  /** Resolves while the database answers a round trip; rejects with the driver's error otherwise. */
  async check(): Promise<void> {
    await ping(this.db);
  }
}
