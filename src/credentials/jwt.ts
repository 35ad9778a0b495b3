// JWTs are decoded, never verified: the claims say what the token asks for and
// when it is good; whether its signature holds is the server's to say. Claims
// are not secret and are shown; the signature is.
// The two decoding entry points alone: jose's index loads all of JOSE (signing,
// encryption, key import), 45 ms and 16 MB at every start.
import { decodeJwt } from 'jose/jwt/decode';
import { decodeProtectedHeader } from 'jose/decode/protected_header';

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A JOSE header is base64url JSON starting with `{"`, which always encodes to "eyJ". */
export function looksLikeJwt(s: string): boolean {
  return s.startsWith('eyJ') && (JWS.test(s) || JWE.test(s));
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  /** Absent for an encrypted token (JWE): its claims are not readable without the key. */
  claims?: Record<string, unknown>;
  encrypted: boolean;
}

/** How deep decoded JSON is kept: deeper values could not be shown, and walking them would overflow the stack. */
export const MAX_JSON_DEPTH = 16;
const TOO_DEEP = '(nested too deeply to show)';

/** `v` with everything below MAX_JSON_DEPTH levels replaced by a note; own "__proto__" keys stay keys. */
export function pruneDeep<T>(v: T, depth = 0): T {
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_JSON_DEPTH) return TOO_DEEP as T;
  if (Array.isArray(v)) return v.map((x) => pruneDeep(x, depth + 1)) as T;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pruneDeep(x, depth + 1)])) as T;
}

export function decodeJwtToken(token: string): DecodedJwt | { error: string } {
  let header: Record<string, unknown>;
  try {
    header = pruneDeep(decodeProtectedHeader(token) as Record<string, unknown>);
  } catch (e) {
    return { error: `its header does not decode (${(e as Error).message})` };
  }
  if (JWE.test(token)) return { header, encrypted: true };
  try {
    return { header, claims: pruneDeep(decodeJwt(token) as Record<string, unknown>), encrypted: false };
  } catch (e) {
    return { error: `its claims do not decode (${(e as Error).message})` };
  }
}

const strings = (v: unknown): string[] => {
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
};

const field = (obj: unknown, key: string): unknown =>
  obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined;

export interface ClaimSummary {
  scopes: string[];
  roles: string[];
  issuer?: string;
  audience?: string[];
  subject?: string;
  tenant?: string;
  exp?: number;
  nbf?: number;
  iat?: number;
}

/**
 * The scopes and roles alone, each once: what a guard checks on every
 * request (src/middleware/guards.ts), without the rest of the summary.
 */
export function grantsOfClaims(claims: Record<string, unknown>): { scopes: string[]; roles: string[] } {
  const scopes = [...strings(claims.scope), ...strings(claims.scp), ...strings(claims.permissions)];
  const roles = [
    ...strings(claims.roles),
    ...strings(claims.groups),
    ...strings(claims['cognito:groups']),
    ...strings(field(claims.realm_access, 'roles')),
  ];
  const resourceAccess = claims.resource_access;
  if (resourceAccess && typeof resourceAccess === 'object')
    for (const [client, access] of Object.entries(resourceAccess as Record<string, unknown>))
      for (const r of strings(field(access, 'roles'))) roles.push(`${client}:${r}`);
  return {
    scopes: scopes.length > 1 ? [...new Set(scopes)] : scopes,
    roles: roles.length > 1 ? [...new Set(roles)] : roles,
  };
}

/**
 * Scopes are what the client was granted (OAuth `scope`, Microsoft `scp`,
 * Auth0 RBAC `permissions`); roles are what the principal is (`roles`,
 * `groups`, Keycloak realm/client roles, Cognito groups). Servers check one or
 * the other, so they stay apart.
 */
export function summariseClaims(claims: Record<string, unknown>): ClaimSummary {
  const { scopes, roles } = grantsOfClaims(claims);
  const aud = claims.aud;
  const iss = typeof claims.iss === 'string' ? claims.iss : undefined;
  // Keycloak issues from .../realms/<realm>; elsewhere the tenant is a claim of its own.
  const realm = iss ? /\/realms\/([^/]+)\/?$/.exec(iss)?.[1] : undefined;
  const tenant = [claims.tid, claims.tenant, claims.tenant_id, claims.tenantId, realm].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    scopes,
    roles,
    ...(iss ? { issuer: iss } : {}),
    ...(typeof aud === 'string' ? { audience: [aud] } : Array.isArray(aud) ? { audience: strings(aud) } : {}),
    ...(typeof claims.sub === 'string' ? { subject: claims.sub } : {}),
    ...(tenant ? { tenant } : {}),
    ...(num(claims.exp) !== undefined ? { exp: num(claims.exp) } : {}),
    ...(num(claims.nbf) !== undefined ? { nbf: num(claims.nbf) } : {}),
    ...(num(claims.iat) !== undefined ? { iat: num(claims.iat) } : {}),
  };
}

/** NumericDate is seconds; a value this large is milliseconds written by mistake. */
export const looksLikeMilliseconds = (n: number): boolean => n > 1e11;
