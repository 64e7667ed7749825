/**
 * The email API, `/user/email` and `/user/email/bulk` (docs/behaviour.md §3 "Email"):
 * parse → domain/email.ts → shape. Never open to anonymous callers.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { EmailService } from '../../domain/email.ts';
import { errorResponses } from '../../schemas/errors.ts';
import {
  AccountIdEmailRecordArraySchema,
  AccountIdEmailRecordSchema,
  EmailBulkQuerySchema,
  EmailQuerySchema,
} from '../../schemas/users.ts';

const TAGS = ['Confluence users'];

export interface EmailRoutesOptions {
  email: EmailService;
}

export const emailRoutes: FastifyPluginAsyncTypebox<EmailRoutesOptions> = async (app, { email }) => {
  app.get(
    '/user/email',
    {
      schema: {
        tags: TAGS,
        summary: 'Get user email address',
        querystring: EmailQuerySchema,
        response: {
          200: AccountIdEmailRecordSchema,
          ...errorResponses('confluence', {
            400: 'Only apps with emailAccess may read email addresses.',
            404: 'No user has this accountId.',
            501: "The site's emailApi setting is disabled.",
          }),
        },
      },
      config: { access: { kind: 'product', operation: 'confluence.getPrivacyUnsafeUserEmail' } },
    },
    async (request) => email.emailOf(request.principal, request.site, request.query.accountId),
  );

  app.get(
    '/user/email/bulk',
    {
      schema: {
        tags: TAGS,
        summary: 'Get user email addresses in batch',
        querystring: EmailBulkQuerySchema,
        response: {
          200: AccountIdEmailRecordArraySchema,
          ...errorResponses('confluence', {
            400: 'Only apps with emailAccess may read email addresses.',
            501: "The site's emailApi setting is disabled.",
          }),
        },
      },
      config: { access: { kind: 'product', operation: 'confluence.getPrivacyUnsafeUserEmailBulk' } },
    },
    async (request) => email.emailsOf(request.principal, request.site, request.query.accountId),
  );
};
