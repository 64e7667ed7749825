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

/** One entry of `GET /oauth/token/accessible-resources` (docs/behaviour.md §10), as Atlassian answers it. */
export const AccessibleResourceSchema = Type.Object(
  {
    id: Type.String({ description: "The site's cloudId." }),
    name: Type.String({ description: "The site's name." }),
    url: Type.String({ description: "The site's base URL." }),
    scopes: Type.Array(Type.String(), { description: 'The scopes the token carries.' }),
    avatarUrl: Type.String(),
  },
  component('AccessibleResource'),
);
