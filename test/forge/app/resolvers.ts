/**
 * A Forge app's resolver functions, written against `@forge/api` exactly as
 * in a Forge app (docs/forge.md): nothing here knows userplane. The tests in
 * test/forge/forge-api.test.ts call them with `forgeRuntime` installed.
 */
import api, { getAppContext, route } from '@forge/api';

/** The invoking user, as Confluence sees them. */
export async function currentUser(): Promise<{ accountId: string; displayName: string; accountType: string }> {
  const response = await api.asUser().requestConfluence(route`/wiki/rest/api/user/current`);
  if (!response.ok) throw new Error(`user/current answered ${response.status}`);
  return response.json();
}

/** Saves the invoking user's theme in the app's Confluence property, creating it or replacing it. */
export async function saveTheme(theme: string): Promise<number> {
  const { accountId } = await currentUser();
  const path = route`/wiki/rest/api/user/${accountId}/property/theme`;
  const body = JSON.stringify({ value: { theme } });
  const headers = { 'content-type': 'application/json' };
  const created = await api.asUser().requestConfluence(path, { method: 'POST', headers, body });
  if (created.status !== 409) return created.status;
  const replaced = await api.asUser().requestConfluence(path, { method: 'PUT', headers, body });
  return replaced.status;
}

/** The invoking user's theme, or null when none is saved. */
export async function readTheme(): Promise<string | null> {
  const { accountId } = await currentUser();
  const response = await api.asUser().requestConfluence(route`/wiki/rest/api/user/${accountId}/property/theme`);
  if (response.status === 404) return null;
  const property = (await response.json()) as { value: { theme: string } };
  return property.value.theme;
}

/** Which app this is, from the invocation context. */
export function whoAmI(): string {
  return getAppContext().appAri.toString();
}
