// authentik speaks through three doors. Its API (/api/v3/…) is Django REST
// framework, so its refusals are DRF's {"detail": "…"} — the same words any DRF
// app sends; only the /api/v3/ layout, authentik's headers or its cookies say
// it is authentik. Its proxy outpost answers forward-auth checks on
// /outpost.goauthentik.io/auth/{nginx,traefik,caddy,envoy} with a bare 401
// (no session: the web server should redirect to sign-in) and renders denials
// with its own error page ("Powered by authentik"). Its flows and the outpost
// add X-authentik-* headers.
import { defineProducer, ev, jsonString, signals, type Context, type Fix } from '../define.ts';

const API_PATH = /^\/api\/v3\/([^?]*)/;
const OUTPOST_PATH = /^\/outpost\.goauthentik\.io\/(auth\/(nginx|traefik|caddy|envoy)|start|callback|sign_out)\b/;
const OUTPOST_PAGE =
  /goauthentik\.io\?utm_source=authentik_outpost|Powered by authentik|\/outpost\.goauthentik\.io\/static\//;
const RBAC_DOC = 'https://docs.goauthentik.io/docs/users-sources/access-control/';
const API_DOC = 'https://docs.goauthentik.io/developer-docs/api/';

const API_AREAS =
  /^(core|outposts|flows|providers|policies|rbac|admin|crypto|events|stages|sources|managed|propertymappings|authenticators|tenants|brands|root|enterprise)\//;
const ORIGIN = 'https://authentik.company';

/** Where authentik may have answered at all: its paths, its headers, or its name in the page. */
function mentionsAuthentik(ctx: Context, path: string): boolean {
  if (API_PATH.test(path) || OUTPOST_PATH.test(path) || /authentik/i.test(ctx.body.text.slice(0, 20000))) return true;
  return ctx.exchange.response.headers.some((h) => /^x-authentik-/i.test(h.name));
}

const permFixes = (ctx: Context): Fix[] => [
  {
    title:
      'Grant the user (or the token’s user, or the outpost’s service account) the permission through a role, globally or on this object',
    difficulty: 'medium',
    commands: [
      '# authentik Admin interface → Directory → Roles → (role) → Permissions → Assign permission (e.g. authentik_core.view_user); add the user or group to the role',
      `curl -s -H "Authorization: Bearer $AK_TOKEN" ${ctx.url?.origin ?? ORIGIN}/api/v3/rbac/permissions/users/?user_id=USER_PK   # what the user holds`,
    ],
    verify: `curl -s -o /dev/null -w "%{http_code}\\n" -H "Authorization: Bearer $AK_TOKEN" ${ctx.url?.href ?? `${ORIGIN}/api/v3/…`} prints 200.`,
    docs: RBAC_DOC,
  },
];

const SIGNIN_FIX: Fix = {
  title:
    'Let the web server turn the 401 into a redirect to /outpost.goauthentik.io/start (nginx: error_page 401 = @goauthentik_proxy_signin), or send the session cookie / a Bearer token the provider accepts',
  difficulty: 'medium',
  commands: [
    '# nginx: auth_request /outpost.goauthentik.io/auth/nginx; error_page 401 = @goauthentik_proxy_signin;',
    '# location @goauthentik_proxy_signin { internal; return 302 /outpost.goauthentik.io/start?rd=$scheme://$http_host$request_uri; }',
  ],
  verify: 'An unauthenticated browser visit ends at authentik’s login page instead of a bare 401.',
  docs: 'https://docs.goauthentik.io/add-secure-apps/providers/proxy/server_nginx',
};

const bearerFix = (ctx: Context): Fix => ({
  title: 'Send Authorization: Bearer <API token> (Directory → Tokens and App passwords → Create, intent API)',
  difficulty: 'easy',
  commands: [`curl -s -H "Authorization: Bearer $AK_TOKEN" ${ctx.url?.origin ?? ORIGIN}/api/v3/core/users/me/`],
  verify: 'GET /api/v3/core/users/me/ answers 200 with your user.',
  docs: API_DOC,
});

const POLICY_FIX: Fix = {
  title: 'Check the application’s policy bindings and the user’s groups; the event log shows which policy denied',
  difficulty: 'medium',
  commands: [
    '# authentik Admin interface → Applications → (app) → Policy / Group / User Bindings',
    '# Events → Logs → filter action "authorize_application" / policy results',
  ],
  verify: 'Applications → (app) → Check access for the user passes.',
  docs: 'https://docs.goauthentik.io/docs/add-secure-apps/applications/manage_apps#policy-driven-authorization',
};

export default defineProducer({
  meta: {
    id: 'authentik',
    product: 'authentik',
    layer: 'identity-provider',
    description:
      'authentik API refusals (DRF {"detail"} on /api/v3/: missing RBAC permission, missing or invalid token) and proxy-outpost denials (forward-auth 401 without a session, the outpost’s "Permission denied" page), recognised by authentik’s paths, X-authentik-* headers, cookies and page — not by the DRF body alone.',
    docs: [
      API_DOC,
      RBAC_DOC,
      'https://docs.goauthentik.io/add-secure-apps/providers/proxy/server_nginx',
      'https://www.django-rest-framework.org/api-guide/exceptions/#permissiondenied',
    ],
    causes: [
      'insufficient-role',
      'credential-missing',
      'credential-malformed',
      'credential-invalid',
      'credential-expired',
      'resource-policy',
    ],
    statuses: [401, 403],
    messages: {
      noSession:
        'The authentik outpost found no session for this request: its forward-auth endpoint answers 401 so the web server redirects the browser to authentik’s sign-in flow. For an API client or a non-browser check this is the final answer.',
      permission:
        'authentik knows who you are but your user (or the token’s user) lacks the RBAC permission for this API object or action.',
      notRead:
        'A credential was sent but authentik’s API did not read it as one: it expects "Authorization: Bearer <token>".',
      noCredential:
        'No credential reached authentik’s API: send an API token or an OAuth access token with the goauthentik.io/api scope as "Authorization: Bearer …".',
      tokenRejected: 'authentik did not accept the token ("{{detail}}"): unknown, revoked, or not an API-intent token.',
      tokenExpired:
        'authentik uses the same answer for an expired token; tokens with "Expiring" set stop working at their expiry.',
      policy:
        'authentik’s policies bound to this application denied the user (a group, expression or reputation policy), so the outpost refused the request.',
    },
  },
  recognise(ctx) {
    const path = ctx.url?.pathname ?? '';
    if (!mentionsAuthentik(ctx, path)) return undefined;
    const found = signals();
    const api = API_PATH.exec(path);
    const outpost = OUTPOST_PATH.exec(path);
    const detail = jsonString(ctx.body.json, 'detail');
    const akHeaders = ctx.exchange.response.headers.filter((h) => /^x-authentik-/i.test(h.name));
    for (const h of akHeaders.slice(0, 3)) found.add(0.9, ev(`header:${h.name.toLowerCase()}`, h.value || '(empty)'));
    const akCookie = /\bauthentik_(session|csrf|proxy_[a-z0-9]+)=/.exec(ctx.requestHeader('cookie') ?? '');
    if (akCookie) found.add(0.75, ev('request-header:cookie', `${akCookie[0]}… (authentik’s cookie)`));
    if (api && (detail !== undefined || akHeaders.length || akCookie)) {
      // /api/v3/ plus a DRF body is how authentik's API answers; the path alone is too common to decide.
      const sure = akCookie || akHeaders.length || API_AREAS.test(api[1]);
      found.add(sure ? 0.85 : 0.45, ev('request:url', `authentik API path ${path}`));
    }
    if (outpost) found.add(0.95, ev('request:url', `authentik outpost endpoint ${path}`));
    if (OUTPOST_PAGE.test(ctx.body.text))
      found.add(0.95, ev('body', `authentik outpost page${ctx.body.htmlTitle ? `: "${ctx.body.htmlTitle}"` : ''}`));
    return found.result({ api, outpost, detail });
  },
  explain(ctx, { api, outpost, detail }, report) {
    const d = detail ?? '';
    const detailEv = d ? [ev('body:detail', d)] : [];
    const sentAuth = Boolean(ctx.requestHeader('authorization'));
    const sentSession = /\bauthentik_session=/.test(ctx.requestHeader('cookie') ?? '');

    if (outpost && ctx.status === 401) {
      const cookieEv = ev(
        'request-header:cookie',
        sentSession ? 'an authentik session cookie was sent' : 'no authentik_proxy_* session cookie sent',
      );
      report.claim('credential-missing', 'noSession', 0.85, {
        evidence: [ev('request:url', ctx.url?.pathname ?? ''), cookieEv],
        fixes: [SIGNIN_FIX],
      });
    }

    if (/You do not have permission to perform this action/i.test(d))
      report.claim('insufficient-role', 'permission', 0.85, {
        evidence: [...detailEv, ev('request:url', `${ctx.method} ${ctx.url?.pathname ?? ''}`)],
        fixes: permFixes(ctx),
      });

    if (/Authentication credentials were not provided/i.test(d)) {
      report.claim(
        sentAuth ? 'credential-malformed' : 'credential-missing',
        sentAuth ? 'notRead' : 'noCredential',
        0.85,
        {
          evidence: [...detailEv, ev('request-header:authorization', sentAuth ? 'sent' : 'not sent')],
          fixes: [bearerFix(ctx)],
        },
      );
    }

    if (/^Token invalid\/expired$/i.test(d) || /Invalid token/i.test(d)) {
      const newToken: Fix = {
        title: 'Create a new API token (intent API) and send it as Bearer',
        difficulty: 'easy',
        docs: API_DOC,
      };
      report.claim('credential-invalid', 'tokenRejected', 0.75, {
        data: { detail: d },
        evidence: detailEv,
        fixes: [newToken],
      });
      const expiry: Fix = {
        title: 'Check the token’s expiry in Directory → Tokens and App passwords',
        difficulty: 'easy',
      };
      report.claim('credential-expired', 'tokenExpired', 0.55, { evidence: detailEv, fixes: [expiry] });
    }

    const page = `${ctx.body.htmlTitle ?? ''} ${ctx.body.text.slice(0, 20000)}`;
    if (!api && !outpost && /Permission denied|Request has been denied/i.test(page))
      report.claim('resource-policy', 'policy', 0.75, {
        evidence: [ev('body', ctx.body.htmlTitle ?? 'authentik denial page')],
        fixes: [POLICY_FIX],
      });
  },
});
