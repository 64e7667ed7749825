/** atlassian-oauth2 ships no types: the one function atlassian-connect-express calls to impersonate users. */
declare module 'atlassian-oauth2' {
  export interface AccessTokenOptions {
    /** The site (`tnt`). */
    hostBaseUrl: string;
    oauthClientId: string;
    sharedSecret: string;
    userAccountId?: string;
    userKey?: string;
    /** Sent upper-cased, space-separated. */
    scopes?: string[];
    /** Where the token is asked for; also the assertion's `aud` when given. */
    authorizationServerBaseUrl?: string;
    authorizationPath?: string;
  }
  export interface AccessToken {
    access_token: string;
    token_type: string;
    expires_in: number;
    scope?: string;
  }
  const oauth2: {
    getAccessToken(options: AccessTokenOptions): Promise<AccessToken>;
  };
  export default oauth2;
}
