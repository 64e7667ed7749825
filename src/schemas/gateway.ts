/** `/_edge/tenant_info` (docs/behaviour.md §1), as Atlassian serves it. */
import Type from 'typebox';
import { component } from './common.ts';

export const TenantInfoSchema = Type.Object(
  {
    cloudId: Type.String({
      description: 'The cloudId of this site, used in the `/ex/{product}/{cloudId}` gateway paths.',
    }),
  },
  component('TenantInfo'),
);
