/** The user record as the domain sees it (docs/behaviour.md §2). */
import { randomUUID } from 'node:crypto';
import { type ApiError, badRequest, notFound } from './errors.ts';

export type EmailVisibility = 'anyone' | 'admins' | 'private';

export interface User {
  accountId: string;
  accountType: 'atlassian' | 'app';
  email: string;
  displayName: string;
  publicName: string;
  timeZone: string;
  emailVisibility: EmailVisibility;
  username: string | null;
  userKey: string | null;
  externalCollaborator: boolean;
  active: boolean;
}

/** A group, as a user's memberships list it (docs/behaviour.md §2). */
export interface Group {
  id: string;
  name: string;
}

/** The longest accountId (docs/behaviour.md §2; the public schemas' `maxLength`). */
export const MAX_ACCOUNT_ID_LENGTH = 128;

/** docs/behaviour.md §2: an accountId is well-formed when it matches this. */
export const ACCOUNT_ID_PATTERN = new RegExp(`^[A-Za-z0-9:_-]{1,${MAX_ACCOUNT_ID_LENGTH}}$`);

export function isWellFormedAccountId(value: string): boolean {
  return ACCOUNT_ID_PATTERN.test(value);
}

/** A 400 unless `value` is a well-formed accountId; `field` is the parameter that carried it. */
export function checkAccountId(value: string, field = 'accountId'): void {
  if (!isWellFormedAccountId(value)) {
    throw badRequest(
      `${field} "${value}" is not a well-formed accountId: use 1 to ${MAX_ACCOUNT_ID_LENGTH} letters, digits, ':', '_' or '-'`,
    );
  }
}

/** The 404 for a user nobody is, named as the request named them: by accountId, or by a legacy parameter. */
export function noSuchUser(value: string, by = 'accountId'): ApiError {
  return notFound(`No user with ${by} ${value}`);
}

export function newAccountId(): string {
  return `712020:${randomUUID()}`;
}

/** An empty parameter counts as absent (docs/behaviour.md §4). */
export const given = (value: string | undefined): value is string => value !== undefined && value !== '';

/** The legacy ways a request may name a user (docs/behaviour.md §4); each route accepts some of them. */
export interface LegacyUserParameters {
  key?: string;
  userKey?: string;
  username?: string;
}

/** Whether the request named a user by a legacy parameter: its answer then carries the deprecation warning. */
export function usesLegacyUserParameter(query: LegacyUserParameters): boolean {
  return given(query.key) || given(query.userKey) || given(query.username);
}
