/**
 * Applying injected faults (docs/behaviour.md §12; domain/faults.ts keeps
 * the rules) from the auth hook (auth.ts), once the principal is known and
 * credentials passed, before the step-3 checks. Product routes only.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FaultError, type FaultInjector, type FaultRequest, type FaultRule, faultError } from '../domain/faults.ts';
import type { Principal } from '../domain/principal.ts';
import { authModeOf, type RecordUnanswered } from './journal.ts';
import { isJiraPath } from './paths.ts';

/**
 * Runs the first rule of `rules` that applies to the request: throws a
 * status rule's error, returns a promise that resolves after a delay, or
 * destroys the connection and returns a promise that never settles (the
 * request ends there). Returns undefined when no rule applies.
 */
export function injectFault(
  faults: FaultInjector,
  rules: readonly FaultRule[],
  operation: string,
  reply: FastifyReply,
  recordUnanswered: RecordUnanswered | undefined,
): Promise<void> | undefined {
  const { request } = reply;
  const rule = faults.take(request.site.id, rules, describe(request, operation, request.principal));
  if (rule === undefined) return undefined;
  const { action } = rule;
  if ('status' in action) {
    const product = isJiraPath(request.url) ? 'jira' : 'confluence';
    throw faultError(rule, action, product, request.method, new Date());
  }
  if ('delayMs' in action) {
    return new Promise((resolve) => setTimeout(resolve, action.delayMs));
  }
  // `reset`: no answer at all. The hook's `done` is never called, so nothing else runs for it.
  // Journaled with status 0: there was no answer.
  request.failure = new FaultError(0, rule.id, 'The connection was destroyed with no answer', {});
  recordUnanswered?.(request);
  // Destroying the response destroys its socket (and ends an `inject()` with an error).
  reply.raw.destroy();
  return new Promise(() => {});
}

function describe(request: FastifyRequest, operation: string, principal: Principal): FaultRequest {
  let app: string | null = null;
  let accountId: string | null = null;
  switch (principal.kind) {
    case 'user':
      accountId = principal.user.accountId;
      break;
    case 'app':
      app = principal.app.key;
      accountId = principal.app.accountId;
      break;
    case 'asUser':
      app = principal.app.key;
      accountId = principal.user.accountId;
      break;
  }
  return { method: request.method, url: request.url, operation, app, accountId, authMode: authModeOf(request) };
}
