/** The user record as the domain sees it (docs/behaviour.md §2). */
import { randomUUID } from 'node:crypto';

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

/** docs/behaviour.md §2: an accountId is well-formed when it matches this. */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9:_-]{1,128}$/;

export function isWellFormedAccountId(value: string): boolean {
  return ACCOUNT_ID_PATTERN.test(value);
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
