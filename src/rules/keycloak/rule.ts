// Keycloak's URLs carry its name: the OIDC endpoints live under
// /realms/{realm}/protocol/openid-connect/, the admin REST API under
// /admin/realms/{realm}/ (both behind /auth/ before Keycloak 17). Its admin
// API refuses a caller without the realm-management client role with a bare
// 403 whose body says nothing useful ({"error":"unknown_error"} or
// {"error":"HTTP 403 Forbidden"}); its token endpoint answers OAuth errors
// with descriptions only Keycloak writes ("Invalid client or Invalid client
// credentials", "Session not active", "Token is not active").
import { defineProducer, ev, jsonString, signals, type Context, type Fix } from '../define.ts';

const ADMIN_PATH = /^(?:\/auth)?\/admin\/realms\/([^/]+)(\/[^?]*)?/;
const OIDC_PATH = /^(?:\/auth)?\/realms\/([^/]+)\/protocol\/openid-connect\/([a-z_/-]+)/;
const KEYCLOAK_DESCRIPTIONS =
  /^(Invalid client or Invalid client credentials|Invalid client credentials|Session not active|Token is not active|Invalid user credentials|Account disabled|Account is not fully set up|Client not enabled to retrieve service account|Stale token|Invalid refresh token|Offline user session not found|Client secret not provided in request|Invalid client secret)$/;
const ADMIN_DOC = 'https://www.keycloak.org/docs/latest/server_admin/#_admin_permissions';

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

function roleFixes(realm: string, role: string | undefined): Fix[] {
  const r = role ?? 'view-users';
  return [
    {
      title: `Give the calling user or service account the realm-management client role ${role ?? '(view-users, manage-users, view-clients… as the endpoint needs)'}`,
      difficulty: 'easy',
      commands: [
        `# Admin console → ${realm} → Clients → your client → Service account roles → Assign role → Filter by clients → realm-management ${r}`,
        `kcadm.sh add-roles -r ${realm} --uusername service-account-CLIENT_ID --cclientid realm-management --rolename ${r}`,
      ],
      verify: `kcadm.sh get-roles -r ${realm} --uusername service-account-CLIENT_ID --cclientid realm-management --effective lists ${r}; a new token’s resource_access.realm-management.roles contains it.`,
      docs: ADMIN_DOC,
    },
    {
      title: 'Request a new token after the change: roles are copied into the token when it is issued',
      difficulty: 'easy',
      commands: [`why403 token "$TOKEN"   # resource_access → realm-management → roles`],
    },
  ];
}

function clientCredentialsFix(realm: string): Fix {
  const token = `https://KEYCLOAK/realms/${realm}/protocol/openid-connect/token`;
  return {
    title:
      'Compare the client id and secret with the client’s Credentials tab (regenerated secrets invalidate the old one; URL-encode special characters)',
    difficulty: 'easy',
    commands: [
      `kcadm.sh get clients -r ${realm} -q clientId=CLIENT_ID --fields id,clientId,publicClient,clientAuthenticatorType`,
      `kcadm.sh get clients/INTERNAL_ID/client-secret -r ${realm}`,
    ],
    verify: `curl -s -d grant_type=client_credentials -d client_id=CLIENT_ID --data-urlencode client_secret="$SECRET" ${token} returns an access_token.`,
    docs: 'https://www.keycloak.org/docs/latest/server_admin/#_client-credentials',
  };
}

const sessionFix = (realm: string): Fix => ({
  title:
    'Log in again (a new session) instead of refreshing; raise SSO Session Idle / Max if sessions end sooner than the application expects',
  difficulty: 'easy',
  commands: [`kcadm.sh get realms/${realm} --fields ssoSessionIdleTimeout,ssoSessionMaxLifespan,accessTokenLifespan`],
  verify: 'A fresh login returns tokens whose refresh succeeds within the session lifespan.',
  docs: 'https://www.keycloak.org/docs/latest/server_admin/#_timeouts',
});

export default defineProducer({
  meta: {
    id: 'keycloak',
    product: 'keycloak',
    layer: 'identity-provider',
    description:
      'Keycloak admin REST API 403s (missing realm-management client roles) and token endpoint errors (invalid client credentials, inactive session or token, disabled account), recognised by Keycloak’s URL layout and its own error descriptions.',
    docs: [
      ADMIN_DOC,
      'https://www.keycloak.org/docs-api/latest/rest-api/index.html',
      'https://github.com/keycloak/keycloak/issues/18586',
      'https://github.com/keycloak/keycloak/issues/16923',
    ],
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
    messages: {
      adminRole:
        'Keycloak’s admin API refused the call: the token’s user or service account lacks the realm-management client role it needs{{role}}. Keycloak says only {{said}} here.',
      adminExpired:
        'Keycloak’s admin API did not accept the token: most often it expired (admin-cli tokens live 60 s by default) or its session ended ("Token is not active" in the server log).',
      adminOtherRealm: 'A token from another realm or another Keycloak hostname (iss mismatch) gets the same 401.',
      clientCredentials:
        'Keycloak did not authenticate the client at its token endpoint ("{{description}}"): the client_id is unknown in realm {{realm}}, the secret does not match, or the client authenticator expects something else (signed JWT, public client).',
      sessionEnded:
        'Keycloak refused the refresh or exchange ("{{description}}"): the SSO session behind the token ended (idle or max lifespan, logout, or the session was removed) or the token itself expired.',
      account:
        'The user cannot sign in: "{{description}}" (disabled, or required actions such as a password update are pending).',
      noServiceAccount: 'The client has no service account: the client_credentials grant is off for it.',
    },
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
        },
        evidence: [
          urlEv,
          ...errEv,
          ...(held.length ? [ev('claim:resource_access.realm-management.roles', held.join(' '))] : []),
        ],
        ...(role
          ? { gap: { required: [`realm-management ${role}`], held: held.map((h) => `realm-management ${h}`) } }
          : {}),
        fixes: roleFixes(realm, role),
      });
    }

    if (admin && ctx.status === 401) {
      const fresh: Fix = {
        title: 'Request a fresh token just before the admin calls, or refresh it',
        difficulty: 'easy',
        commands: [
          `kcadm.sh config credentials --server https://KEYCLOAK --realm ${realm} --client CLIENT_ID --secret "$SECRET"`,
        ],
        verify: `why403 token "$TOKEN" shows an exp in the future and iss …/realms/${realm}.`,
      };
      report.claim('credential-expired', 'adminExpired', 0.6, { evidence: [urlEv, ...errEv], fixes: [fresh] });
      const sameIssuer: Fix = {
        title:
          'Use a token issued by this Keycloak, for this realm (or master), under the hostname the admin API is called with',
        difficulty: 'easy',
        verify: `why403 token "$TOKEN" shows iss https://KEYCLOAK/realms/${realm}.`,
      };
      report.claim('credential-invalid', 'adminOtherRealm', 0.45, { evidence: errEv, fixes: [sameIssuer] });
    }

    if (/^Invalid client or Invalid client credentials$|^Invalid client credentials$|^Invalid client secret$/.test(d))
      report.claim('credential-invalid', 'clientCredentials', 0.88, {
        data: { description: d, realm },
        evidence: errEv,
        fixes: [clientCredentialsFix(realm)],
      });

    if (/^(Session not active|Token is not active|Stale token|Offline user session not found)$/.test(d))
      report.claim('credential-expired', 'sessionEnded', 0.85, {
        data: { description: d },
        evidence: errEv,
        fixes: [sessionFix(realm)],
      });

    if (/^(Account disabled|Account is not fully set up)$/.test(d)) {
      const enable: Fix = {
        title: 'Enable the user or clear the pending required actions',
        difficulty: 'easy',
        commands: [`kcadm.sh get users -r ${realm} -q username=USER --fields id,enabled,requiredActions`],
      };
      report.claim('account-state', 'account', 0.88, { data: { description: d }, evidence: errEv, fixes: [enable] });
    }

    if (/^Client not enabled to retrieve service account$/.test(d)) {
      const enable: Fix = {
        title: 'Turn on "Service accounts roles" (client authentication on) for the client',
        difficulty: 'easy',
        commands: [`kcadm.sh update clients/INTERNAL_ID -r ${realm} -s serviceAccountsEnabled=true`],
        verify: `kcadm.sh get clients/INTERNAL_ID -r ${realm} --fields serviceAccountsEnabled shows true.`,
      };
      report.claim('feature-disabled', 'noServiceAccount', 0.88, { evidence: errEv, fixes: [enable] });
    }
  },
});
