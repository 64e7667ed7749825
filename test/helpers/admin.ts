/**
 * Helpers for the administration API tests (docs/behaviour.md §9): requests as the
 * fixture's admin. A revoked token or a deactivated user must fail once the
 * one-second auth cache (docs/behaviour.md §7) has passed: `fx.clock.pastCacheLifetime()`.
 */
import type { LightMyRequestResponse } from 'fastify';
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

export const ACCOUNT_ID = /^712020:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
