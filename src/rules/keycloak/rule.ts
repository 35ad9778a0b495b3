// Keycloak's URLs carry its name: the OIDC endpoints live under
// /realms/{realm}/protocol/openid-connect/, the admin REST API under
// /admin/realms/{realm}/ (both behind /auth/ before Keycloak 17). Its admin
// API refuses a caller without the realm-management client role with a bare
// 403 whose body says nothing useful ({"error":"unknown_error"} or
// {"error":"HTTP 403 Forbidden"}); its token endpoint answers OAuth errors
// with descriptions only Keycloak writes ("Invalid client or Invalid client
// credentials", "Session not active", "Token is not active").
import { defineProducer, ev, jsonString, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const ADMIN_PATH = /^(?:\/auth)?\/admin\/realms\/([^/]+)(\/[^?]*)?/;
const OIDC_PATH = /^(?:\/auth)?\/realms\/([^/]+)\/protocol\/openid-connect\/([a-z_/-]+)/;
const KEYCLOAK_DESCRIPTIONS =
  /^(Invalid client or Invalid client credentials|Invalid client credentials|Session not active|Token is not active|Invalid user credentials|Account disabled|Account is not fully set up|Client not enabled to retrieve service account|Stale token|Invalid refresh token|Offline user session not found|Client secret not provided in request|Invalid client secret)$/;

interface KeycloakError {
  error?: string;
  description: string;
}

function readError(ctx: Context): KeycloakError | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const error = jsonString(j, 'error');
  const description = jsonString(j, 'error_description') ?? jsonString(j, 'errorMessage') ?? '';
  if (!error && !description) return undefined;
  return { error, description };
}

function recogniseKeycloak(ctx: Context) {
  const err = readError(ctx);
  const found = signals();
  const path = ctx.url?.pathname ?? '';
  const admin = ADMIN_PATH.exec(path);
  const oidc = OIDC_PATH.exec(path);
  if (admin) found.add(0.85, ev('request:url', `Keycloak admin REST API path ${path} (realm ${admin[1]})`));
  else if (oidc) found.add(0.85, ev('request:url', `Keycloak OpenID Connect endpoint ${oidc[2]} of realm ${oidc[1]}`));
  if (err && KEYCLOAK_DESCRIPTIONS.test(err.description))
    found.add(admin || oidc ? 0.95 : 0.6, ev('body:error_description', err.description));
  // Keycloak's Java adapters and Quarkus OIDC send a Bearer challenge naming the realm.
  const header = ctx.header('www-authenticate');
  const bearer = ctx.challenges.some(
    (c) => c.scheme.toLowerCase() === 'bearer' && c.params.realm && /\/realms\//.test(header ?? ''),
  );
  if (bearer) found.add(0, ev('header:www-authenticate', header!));
  return found.result({ err, admin, oidc });
}

/**
 * Which realm-management role the admin endpoint needs, from its path and
 * method (Keycloak's admin permission model).
 */
function neededRole(resource: string, method: string): string | undefined {
  const write = !['GET', 'HEAD', 'OPTIONS'].includes(method);
  const first = resource.split('/').filter(Boolean)[0] ?? '';
  if (first === 'users') return write ? 'manage-users' : 'view-users';
  if (first === 'groups') return write ? 'manage-users' : 'query-groups';
  if (first === 'clients' || first === 'client-scopes') return write ? 'manage-clients' : 'view-clients';
  if (first === 'events' || first === 'admin-events') return write ? 'manage-events' : 'view-events';
  if (first === 'identity-provider') return write ? 'manage-identity-providers' : 'view-identity-providers';
  if (first === 'roles' || first === 'components' || first === 'authentication' || first === '')
    return write ? 'manage-realm' : 'view-realm';
  return undefined;
}

export default defineProducer({
  meta: {
    id: 'keycloak',
    product: 'keycloak',
    layer: 'identity-provider',
    causes: [
      'insufficient-role',
      'credential-invalid',
      'credential-expired',
      'credential-missing',
      'account-state',
      'feature-disabled',
    ],
    // The token endpoint answers its OAuth errors with 400 as well.
    statuses: [400, 401, 403],
    ...texts,
  },
  recognise(ctx) {
    if (
      !ADMIN_PATH.test(ctx.url?.pathname ?? '') &&
      !OIDC_PATH.test(ctx.url?.pathname ?? '') &&
      ctx.body.json === undefined
    )
      return undefined;
    return recogniseKeycloak(ctx);
  },
  explain(ctx, { err, admin, oidc }, report) {
    const errEv = err
      ? [
          ev('body:error', err.error ?? ''),
          ...(err.description ? [ev('body:error_description', err.description)] : []),
        ].filter((e) => e.text)
      : [];
    const realm = (admin ?? oidc)?.[1] ?? 'REALM';
    const d = err?.description ?? '';
    const urlEv = ev('request:url', `${ctx.method} ${ctx.url?.pathname}`);

    if (admin && ctx.status === 403) {
      const role = neededRole(admin[2] ?? '', ctx.method);
      const prefix = 'realm-management:';
      const held = ctx.credential.items
        .flatMap((i) => i.roles ?? [])
        .filter((r) => r.startsWith(prefix))
        .map((r) => r.slice(prefix.length));
      report.claim('insufficient-role', 'adminRole', 0.85, {
        data: {
          role: role ? ` (${role} for ${ctx.method} …${admin[2] ?? ''})` : '',
          said: err?.error ? `"${err.error}"` : 'Forbidden',
          realm,
          roleTitle: role ?? '(view-users, manage-users, view-clients… as the endpoint needs)',
          roleName: role ?? 'view-users',
        },
        evidence: [
          urlEv,
          ...errEv,
          ...(held.length ? [ev('claim:resource_access.realm-management.roles', held.join(' '))] : []),
        ],
        ...(role
          ? { gap: { required: [`realm-management ${role}`], held: held.map((h) => `realm-management ${h}`) } }
          : {}),
        fixes: ['assignRole', 'newTokenAfterRole'],
      });
    }

    if (admin && ctx.status === 401) {
      report.claim('credential-expired', 'adminExpired', 0.6, {
        data: { realm },
        evidence: [urlEv, ...errEv],
        fixes: ['freshToken'],
      });
      report.claim('credential-invalid', 'adminOtherRealm', 0.45, {
        data: { realm },
        evidence: errEv,
        fixes: ['sameIssuer'],
      });
    }

    if (/^Invalid client or Invalid client credentials$|^Invalid client credentials$|^Invalid client secret$/.test(d))
      report.claim('credential-invalid', 'clientCredentials', 0.88, {
        data: { description: d, realm },
        evidence: errEv,
        fixes: ['clientCredentials'],
      });

    if (/^(Session not active|Token is not active|Stale token|Offline user session not found)$/.test(d))
      report.claim('credential-expired', 'sessionEnded', 0.85, {
        data: { description: d, realm },
        evidence: errEv,
        fixes: ['newSession'],
      });

    if (/^(Account disabled|Account is not fully set up)$/.test(d))
      report.claim('account-state', 'account', 0.88, {
        data: { description: d, realm },
        evidence: errEv,
        fixes: ['enableUser'],
      });

    if (/^Client not enabled to retrieve service account$/.test(d))
      report.claim('feature-disabled', 'noServiceAccount', 0.88, {
        data: { realm },
        evidence: errEv,
        fixes: ['serviceAccount'],
      });
  },
});
