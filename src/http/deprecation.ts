/**
 * The deprecation warning (docs/behaviour.md §4): `Warning: 299 - "Deprecated API"` on
 * every answer of a deprecated route, and on every answer to a request that
 * named a user by a legacy `key`, `userKey` or `username`, errors included.
 * Set here only: the domain decides nothing about headers.
 */
import type { FastifyReply, onSendHookHandler } from 'fastify';

export const DEPRECATION_WARNING = '299 - "Deprecated API"';

/** Marks this answer, success or error, as using a deprecated part of the API. */
export function warnDeprecated(reply: FastifyReply): void {
  reply.header('warning', DEPRECATION_WARNING);
}

/** For a deprecated route: every answer carries the warning, the auth hook's 401s and 403s included. */
export const deprecatedRoute: onSendHookHandler = (_request, reply, payload, done) => {
  warnDeprecated(reply);
  done(null, payload);
};
