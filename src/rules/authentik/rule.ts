// authentik speaks through three doors. Its API (/api/v3/…) is Django REST
// framework, so its refusals are DRF's {"detail": "…"} — the same words any DRF
// app sends; only the /api/v3/ layout, authentik's headers or its cookies say
// it is authentik. Its proxy outpost answers forward-auth checks on
// /outpost.goauthentik.io/auth/{nginx,traefik,caddy,envoy} with a bare 401
// (no session: the web server should redirect to sign-in) and renders denials
// with its own error page ("Powered by authentik"). Its flows and the outpost
// add X-authentik-* headers.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const API_PATH = /^\/api\/v3\/([^?]*)/;
const OUTPOST_PATH = /^\/outpost\.goauthentik\.io\/(auth\/(nginx|traefik|caddy|envoy)|start|callback|sign_out)\b/;
const OUTPOST_PAGE = /goauthentik\.io\?utm_source=authentik_outpost|Powered by authentik|\/outpost\.goauthentik\.io\/static\//;
const RBAC_DOC = 'https://docs.goauthentik.io/docs/users-sources/access-control/';
const API_DOC = 'https://docs.goauthentik.io/developer-docs/api/';

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  const path = ctx.url?.pathname ?? '';
  const api = API_PATH.exec(path);
  const outpost = OUTPOST_PATH.exec(path);
  const detail = jsonString(ctx.body.json, 'detail');
  const akHeaders = ctx.exchange.response.headers.filter((h) => /^x-authentik-/i.test(h.name));
  for (const h of akHeaders.slice(0, 3)) bump(0.9, ev(`header:${h.name.toLowerCase()}`, h.value || '(empty)'));
  const cookie = ctx.requestHeader('cookie') ?? '';
  const akCookie = /\bauthentik_(session|csrf|proxy_[a-z0-9]+)=/.exec(cookie);
  if (akCookie) bump(0.75, ev('request-header:cookie', `${akCookie[0]}… (authentik’s cookie)`));
  if (api && (detail !== undefined || akHeaders.length || akCookie)) {
    // /api/v3/ plus a DRF body is how authentik's API answers; the path alone is too common to decide.
    bump(akCookie || akHeaders.length || /^(core|outposts|flows|providers|policies|rbac|admin|crypto|events|stages|sources|managed|propertymappings|authenticators|tenants|brands|root|enterprise)\//.test(api[1]) ? 0.85 : 0.45, ev('request:url', `authentik API path ${path}`));
  }
  if (outpost) bump(0.95, ev('request:url', `authentik outpost endpoint ${path}`));
  if (OUTPOST_PAGE.test(ctx.body.text)) bump(0.95, ev('body', `authentik outpost page${ctx.body.htmlTitle ? `: "${ctx.body.htmlTitle}"` : ''}`));
  return { confidence, evidence, api, outpost, detail };
}

const permFixes = (ctx: Context): Fix[] => [
  {
    title: 'Grant the user (or the token’s user, or the outpost’s service account) the permission through a role, globally or on this object',
    difficulty: 'medium',
    commands: [
      '# authentik Admin interface → Directory → Roles → (role) → Permissions → Assign permission (e.g. authentik_core.view_user); add the user or group to the role',
      `curl -s -H "Authorization: Bearer $AK_TOKEN" ${ctx.url?.origin ?? 'https://authentik.company'}/api/v3/rbac/permissions/users/?user_id=USER_PK   # what the user holds`,
    ],
    verify: `curl -s -o /dev/null -w "%{http_code}\\n" -H "Authorization: Bearer $AK_TOKEN" ${ctx.url?.href ?? 'https://authentik.company/api/v3/…'} prints 200.`,
    docs: RBAC_DOC,
  },
];

export default defineRule({
  meta: {
    id: 'authentik',
    kind: 'producer',
    product: 'authentik',
    layer: 'identity-provider',
    description: 'authentik API refusals (DRF {"detail"} on /api/v3/: missing RBAC permission, missing or invalid token) and proxy-outpost denials (forward-auth 401 without a session, the outpost’s "Permission denied" page), recognised by authentik’s paths, X-authentik-* headers, cookies and page — not by the DRF body alone.',
    docs: [API_DOC, RBAC_DOC, 'https://docs.goauthentik.io/add-secure-apps/providers/proxy/server_nginx', 'https://www.django-rest-framework.org/api-guide/exceptions/#permissiondenied'],
    causes: ['insufficient-role', 'credential-missing', 'credential-malformed', 'credential-invalid', 'credential-expired', 'resource-policy'],
  },
  applies: (ctx) => API_PATH.test(ctx.url?.pathname ?? '') || OUTPOST_PATH.test(ctx.url?.pathname ?? '') || /authentik/i.test(ctx.body.text.slice(0, 20000)) || ctx.exchange.response.headers.some((h) => /^x-authentik-/i.test(h.name)),
  run(ctx) {
    const sig = signature(ctx);
    if (!sig.confidence) return undefined;
    const producer = { product: 'authentik' as const, layer: 'identity-provider' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const causes: CauseClaim[] = [];
    const d = sig.detail ?? '';
    const detailEv = d ? [ev('body:detail', d)] : [];
    const sentAuth = Boolean(ctx.requestHeader('authorization'));
    const sentSession = /\bauthentik_session=/.test(ctx.requestHeader('cookie') ?? '');

    if (sig.outpost && ctx.status === 401) {
      causes.push({
        id: 'credential-missing',
        weight: 0.85,
        summary: 'The authentik outpost found no session for this request: its forward-auth endpoint answers 401 so the web server redirects the browser to authentik’s sign-in flow. For an API client or a non-browser check this is the final answer.',
        evidence: [ev('request:url', ctx.url?.pathname ?? ''), ev('request-header:cookie', sentSession ? 'an authentik session cookie was sent' : 'no authentik_proxy_* session cookie sent')],
        fixes: [
          {
            title: 'Let the web server turn the 401 into a redirect to /outpost.goauthentik.io/start (nginx: error_page 401 = @goauthentik_proxy_signin), or send the session cookie / a Bearer token the provider accepts',
            difficulty: 'medium',
            commands: ['# nginx: auth_request /outpost.goauthentik.io/auth/nginx; error_page 401 = @goauthentik_proxy_signin;', '# location @goauthentik_proxy_signin { internal; return 302 /outpost.goauthentik.io/start?rd=$scheme://$http_host$request_uri; }'],
            verify: 'An unauthenticated browser visit ends at authentik’s login page instead of a bare 401.',
            docs: 'https://docs.goauthentik.io/add-secure-apps/providers/proxy/server_nginx',
          },
        ],
      });
    }

    if (/You do not have permission to perform this action/i.test(d)) {
      causes.push({
        id: 'insufficient-role',
        weight: 0.85,
        summary: 'authentik knows who you are but your user (or the token’s user) lacks the RBAC permission for this API object or action.',
        evidence: [...detailEv, ev('request:url', `${ctx.method} ${ctx.url?.pathname ?? ''}`)],
        fixes: permFixes(ctx),
      });
    }

    if (/Authentication credentials were not provided/i.test(d)) {
      causes.push({
        id: sentAuth ? 'credential-malformed' : 'credential-missing',
        weight: 0.85,
        summary: sentAuth
          ? 'A credential was sent but authentik’s API did not read it as one: it expects "Authorization: Bearer <token>".'
          : 'No credential reached authentik’s API: send an API token or an OAuth access token with the goauthentik.io/api scope as "Authorization: Bearer …".',
        evidence: [...detailEv, ev('request-header:authorization', sentAuth ? 'sent' : 'not sent')],
        fixes: [{ title: 'Send Authorization: Bearer <API token> (Directory → Tokens and App passwords → Create, intent API)', difficulty: 'easy', commands: [`curl -s -H "Authorization: Bearer $AK_TOKEN" ${ctx.url?.origin ?? 'https://authentik.company'}/api/v3/core/users/me/`], verify: 'GET /api/v3/core/users/me/ answers 200 with your user.', docs: API_DOC }],
      });
    }

    if (/^Token invalid\/expired$/i.test(d) || /Invalid token/i.test(d)) {
      causes.push({ id: 'credential-invalid', weight: 0.75, summary: `authentik did not accept the token ("${d}"): unknown, revoked, or not an API-intent token.`, evidence: detailEv, fixes: [{ title: 'Create a new API token (intent API) and send it as Bearer', difficulty: 'easy', docs: API_DOC }] });
      causes.push({ id: 'credential-expired', weight: 0.55, summary: 'authentik uses the same answer for an expired token; tokens with "Expiring" set stop working at their expiry.', evidence: detailEv, fixes: [{ title: 'Check the token’s expiry in Directory → Tokens and App passwords', difficulty: 'easy' }] });
    }

    if (!sig.api && !sig.outpost && /Permission denied|Request has been denied/i.test(`${ctx.body.htmlTitle ?? ''} ${ctx.body.text.slice(0, 20000)}`)) {
      causes.push({
        id: 'resource-policy',
        weight: 0.75,
        summary: 'authentik’s policies bound to this application denied the user (a group, expression or reputation policy), so the outpost refused the request.',
        evidence: [ev('body', ctx.body.htmlTitle ?? 'authentik denial page')],
        fixes: [{ title: 'Check the application’s policy bindings and the user’s groups; the event log shows which policy denied', difficulty: 'medium', commands: ['# authentik Admin interface → Applications → (app) → Policy / Group / User Bindings', '# Events → Logs → filter action "authorize_application" / policy results'], verify: 'Applications → (app) → Check access for the user passes.', docs: 'https://docs.goauthentik.io/docs/add-secure-apps/applications/manage_apps#policy-driven-authorization' }],
      });
    }

    return causes.length ? { producer, causes } : { producer };
  },
});
