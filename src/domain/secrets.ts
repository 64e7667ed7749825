/**
 * Everything the server keeps secret goes through here (docs/behaviour.md §2, §7):
 * - API tokens and OAuth client secrets are stored as HMAC-SHA256 digests
 *   keyed by the server's secret key, and looked up by digest;
 * - app shared secrets must be read back to verify HS256 JWTs, so they are
 *   encrypted (AES-256-GCM) instead.
 * Two sub-keys are derived from the one secret key, so a digest never
 * doubles as an encryption key.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export const MIN_SECRET_KEY_LENGTH = 32;

export class Secrets {
  readonly #digestKey: Buffer;
  readonly #encryptionKey: Buffer;

  constructor(secretKey: string) {
    if (secretKey.length < MIN_SECRET_KEY_LENGTH) {
      throw new Error(`the secret key must be at least ${MIN_SECRET_KEY_LENGTH} characters long`);
    }
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', secretKey, 'userplane', info, 32));
    this.#digestKey = derive('token-digest');
    this.#encryptionKey = derive('secret-encryption');
  }

  /** The stored form of a token or client secret. */
  digest(value: string): string {
    return createHmac('sha256', this.#digestKey).update(value).digest('hex');
  }

  /** Constant-time check of a presented value against a stored digest. */
  matchesDigest(value: string, storedDigest: string): boolean {
    return safeEqual(this.digest(value), storedDigest);
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#encryptionKey, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(
      '.',
    );
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unreadable encrypted secret');
    const decipher = createDecipheriv('aes-256-gcm', this.#encryptionKey, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** A fresh API token: 256 random bits, prefixed so it is recognisable in a leak scan. */
export function newApiToken(): string {
  return `upt_${randomBytes(32).toString('base64url')}`;
}

/**
 * A fresh bearer token for `POST /oauth2/token` (docs/behaviour.md §3): 256 random bits,
 * prefixed like API tokens so a leak scan finds it. Stored only as a digest.
 */
export function newBearerToken(): string {
  return `upb_${randomBytes(32).toString('base64url')}`;
}

/** What `newBearerToken` makes; anything else is refused without a lookup. */
export const BEARER_TOKEN_PATTERN = /^upb_[A-Za-z0-9_-]{43}$/;

/** A fresh secret key for a new embedded database. */
export function newSecretKey(): string {
  return randomBytes(32).toString('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
