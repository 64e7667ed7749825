/**
 * The real clients of the compat suites, traced: every method call is named
 * (`confluence.js users.getUser`, `jira.js Version3Client
 * userProperties.setUserProperty`, `atlassian-oauth2 getAccessToken`) for the
 * generated table of docs/compatibility.md (test/helpers/client-methods.ts).
 * Behaviour and types are the clients' own.
 */
import atlassianOAuth2 from 'atlassian-oauth2';
import * as confluence from 'confluence.js';
import * as jira from 'jira.js';
import { traced, tracedClass } from './client-methods.ts';

export const ConfluenceClient = tracedClass(confluence.ConfluenceClient, 'confluence.js');
export type ConfluenceClient = confluence.ConfluenceClient;
export const Version2Client = tracedClass(jira.Version2Client, 'jira.js Version2Client');
export type Version2Client = jira.Version2Client;
export const Version3Client = tracedClass(jira.Version3Client, 'jira.js Version3Client');
export type Version3Client = jira.Version3Client;
export const oauth2 = traced(atlassianOAuth2, 'atlassian-oauth2');
