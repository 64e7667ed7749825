/**
 * The server's operator (docs/behaviour.md §10): one bearer token that
 * creates and deletes sites and counts as a site admin on every site's
 * `/admin/api`. Given as `--operator-token` / `USERPLANE_OPERATOR_TOKEN`, or
 * generated at first start and stored as a digest only; compared in
 * constant time; read at most once a second, so a rotation on one instance
 * ends the old token on the others within a second (docs/behaviour.md §7).
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { andThen, type MaybePromise } from '../lib/maybe-promise.ts';
import { type Clock, systemClock, TtlCache } from '../lib/ttl-cache.ts';
import type { Database } from '../store/schema.ts';
import { ensureServerRow, readOperatorTokenDigest, writeOperatorTokenDigest } from '../store/site.ts';
import { conflict } from './errors.ts';
import { type Secrets, safeEqual } from './secrets.ts';

/** A generated operator token: `upo_` and 256 random bits. */
export function newOperatorToken(): string {
  return `upo_${randomBytes(32).toString('base64url')}`;
}

export class OperatorCredential {
  readonly #stored: TtlCache<'digest', string | null>;
  /** The given token's digest; when a token is given, the stored one counts for nothing. */
  readonly #configuredDigest: string | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: Secrets,
    configured: string | undefined,
    clock: Clock = systemClock,
  ) {
    this.#configuredDigest = configured === undefined ? undefined : secrets.digest(configured);
    this.#stored = new TtlCache(clock, { maxEntries: 1 });
  }

  /** Whether `token` is the operator token. */
  verify(token: string): MaybePromise<boolean> {
    const digest = this.secrets.digest(token);
    if (this.#configuredDigest !== undefined) return safeEqual(digest, this.#configuredDigest);
    return andThen(
      this.#stored.get('digest', () => readOperatorTokenDigest(this.db)),
      (stored) => stored !== null && safeEqual(digest, stored),
    );
  }

  /** Drops the cached digest, after this process rotated the token. */
  invalidate(): void {
    this.#stored.clear();
  }
}

/**
 * First start's part (docs/behaviour.md §10): when no token is given and
 * none is stored, a new one is stored and returned, to be printed once.
 */
export async function ensureOperatorToken(
  db: Kysely<Database>,
  secrets: Secrets,
  configured: string | undefined,
): Promise<string | undefined> {
  if (configured !== undefined) return undefined;
  await ensureServerRow(db);
  const token = newOperatorToken();
  return (await writeOperatorTokenDigest(db, secrets.digest(token), false)) ? token : undefined;
}

/** `userplane operator-token rotate`: a new token, the old one ended. Refused while the token is given. */
export async function rotateOperatorToken(
  db: Kysely<Database>,
  secrets: Secrets,
  configured: string | undefined,
): Promise<string> {
  if (configured !== undefined) {
    throw conflict(
      'The operator token is given by --operator-token or USERPLANE_OPERATOR_TOKEN: change that value instead',
    );
  }
  await ensureServerRow(db);
  const token = newOperatorToken();
  await writeOperatorTokenDigest(db, secrets.digest(token), true);
  return token;
}
