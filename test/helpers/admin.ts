/**
 * Helpers for the administration API tests (docs/behaviour.md §9): requests as the
 * fixture's admin, and the wait past the one-second auth cache (docs/behaviour.md §7)
 * after which a revoked token or a deactivated user must fail. The wait is
 * a precondition, not a timing assertion.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LightMyRequestResponse } from 'fastify';
import { MAX_CACHE_AGE_MS } from '../../src/lib/ttl-cache.ts';
import { basic, type Fixture } from './fixture.ts';

export const ADMIN_API = '/admin/api';

export type Call = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<LightMyRequestResponse>;

/** `path` is relative to /admin/api; a body is sent as JSON. */
export function adminCaller(fx: () => Fixture): Call {
  return (method, path, body, headers = basic('admin')) =>
    fx().app.inject({
      method: method as 'GET',
      url: `${ADMIN_API}${path}`,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
}

export function basicFor(email: string, token: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${email}:${token}`).toString('base64')}` };
}

export async function pastAuthCache(): Promise<void> {
  await sleep(MAX_CACHE_AGE_MS + 150);
}

export const ACCOUNT_ID = /^712020:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
