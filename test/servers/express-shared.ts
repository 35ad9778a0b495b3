// What the Express test app and its callers agree on; kept apart from
// express-app.ts because importing that module starts the server.

/** The audience the API accepts: a token for any other audience is refused. */
export const EXPRESS_AUDIENCE = 'https://reports.example.test/api';
export const EXPRESS_KID = 'why403-test-key-1';
/** The scope GET /api/reports requires (requiredScopes). */
export const EXPRESS_REQUIRED_SCOPE = 'read:reports';
/** The scope GET /api/exports requires; that route answers errors with a bare JSON body, no challenge. */
export const EXPRESS_EXPORTS_SCOPE = 'read:exports';
/** The only origin /api/widgets (cors + an origin check) accepts. */
export const EXPRESS_ALLOWED_ORIGIN = 'https://app.example.test';

export interface TokenRequest {
  /** Space-separated scopes. */
  scope?: string;
  aud?: string;
  /** Seconds from now until exp; negative for an already expired token. */
  expiresIn?: number;
  /** Seconds from now until nbf. */
  notBefore?: number;
  sub?: string;
  /** "trusted" signs with the key the JWKS publishes; "stranger" with another key under the same kid (a bad signature). */
  key?: 'trusted' | 'stranger';
}
