// authentik speaks through three doors. Its API (/api/v3/…) is Django REST
// framework, so its refusals are DRF's {"detail": "…"} — the same words any DRF
// app sends; only the /api/v3/ layout, authentik's headers or its cookies say
// it is authentik. Its proxy outpost answers forward-auth checks on
// /outpost.goauthentik.io/auth/{nginx,traefik,caddy,envoy} with a bare 401
// (no session: the web server should redirect to sign-in) and renders denials
// with its own error page ("Powered by authentik"). Its flows and the outpost
// add X-authentik-* headers.
import { defineProducer, ev, jsonString, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const API_PATH = /^\/api\/v3\/([^?]*)/;
const OUTPOST_PATH = /^\/outpost\.goauthentik\.io\/(auth\/(nginx|traefik|caddy|envoy)|start|callback|sign_out)\b/;
const OUTPOST_PAGE =
  /goauthentik\.io\?utm_source=authentik_outpost|Powered by authentik|\/outpost\.goauthentik\.io\/static\//;

const API_AREAS =
  /^(core|outposts|flows|providers|policies|rbac|admin|crypto|events|stages|sources|managed|propertymappings|authenticators|tenants|brands|root|enterprise)\//;
const ORIGIN = 'https://authentik.company';

/** Where authentik may have answered at all: its paths, its headers, or its name in the page. */
function mentionsAuthentik(ctx: Context, path: string): boolean {
  if (API_PATH.test(path) || OUTPOST_PATH.test(path) || /authentik/i.test(ctx.body.text.slice(0, 20000))) return true;
  return ctx.exchange.response.headers.some((h) => /^x-authentik-/i.test(h.name));
}

export default defineProducer({
  meta: {
    id: 'authentik',
    product: 'authentik',
    layer: 'identity-provider',
    causes: [
      'insufficient-role',
      'credential-missing',
      'credential-malformed',
      'credential-invalid',
      'credential-expired',
      'resource-policy',
    ],
    statuses: [401, 403],
    ...texts,
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
    const origin = ctx.url?.origin ?? ORIGIN;

    if (outpost && ctx.status === 401) {
      const cookieEv = ev(
        'request-header:cookie',
        sentSession ? 'an authentik session cookie was sent' : 'no authentik_proxy_* session cookie sent',
      );
      report.claim('credential-missing', 'noSession', 0.85, {
        evidence: [ev('request:url', ctx.url?.pathname ?? ''), cookieEv],
        fixes: ['signIn'],
      });
    }

    if (/You do not have permission to perform this action/i.test(d))
      report.claim('insufficient-role', 'permission', 0.85, {
        data: { origin, url: ctx.url?.href ?? `${ORIGIN}/api/v3/…` },
        evidence: [...detailEv, ev('request:url', `${ctx.method} ${ctx.url?.pathname ?? ''}`)],
        fixes: ['grantPermission'],
      });

    if (/Authentication credentials were not provided/i.test(d)) {
      report.claim(
        sentAuth ? 'credential-malformed' : 'credential-missing',
        sentAuth ? 'notRead' : 'noCredential',
        0.85,
        {
          data: { origin },
          evidence: [...detailEv, ev('request-header:authorization', sentAuth ? 'sent' : 'not sent')],
          fixes: ['bearer'],
        },
      );
    }

    if (/^Token invalid\/expired$/i.test(d) || /Invalid token/i.test(d)) {
      report.claim('credential-invalid', 'tokenRejected', 0.75, {
        data: { detail: d },
        evidence: detailEv,
        fixes: ['newToken'],
      });
      report.claim('credential-expired', 'tokenExpired', 0.55, { evidence: detailEv, fixes: ['expiry'] });
    }

    const page = `${ctx.body.htmlTitle ?? ''} ${ctx.body.text.slice(0, 20000)}`;
    if (!api && !outpost && /Permission denied|Request has been denied/i.test(page))
      report.claim('resource-policy', 'policy', 0.75, {
        evidence: [ev('body', ctx.body.htmlTitle ?? 'authentik denial page')],
        fixes: ['policy'],
      });
  },
});
