// Fastly's own denials come from its API (api.fastly.com, rt.fastly.com):
// errors there are a small JSON object {"msg": "...", "detail": "..."} and the
// credential travels in the proprietary Fastly-Key request header, which "has
// no special meaning outside of api.fastly.com". The msg is a fixed sentence
// per reason, so it names the cause: "Provided credentials are missing or
// invalid" (401; missing vs. invalid is told apart by whether Fastly-Key was
// sent), "Token <id> expired at <time>" (401), "Read only tokens are not
// allowed to access this endpoint" (403, a global:read token on a write call),
// "You are not authorized to perform this action" (a token limited to other
// services, or a wrong service id).
//
// At the edge Fastly adds X-Served-By: cache-<pop> and X-Timer to what it
// delivers; those alone only say the response passed through Fastly, so the
// claim stays below 0.5 and the 403 is left to the origin's own rule. Plain
// Varnish (Via: 1.1 varnish) is not Fastly and is never claimed here.
import { defineProducer, ev, signals, type Context, type Fix } from '../define.ts';
import { noteRelayed } from '../_lib/edge-block.ts';

const API_HOSTS = new Set(['api.fastly.com', 'rt.fastly.com']);
const MISSING_OR_INVALID = /^Provided credentials are missing or invalid\.?$/i;
const EXPIRED = /^Token (\S+) expired at (\S+)$/i;
const READ_ONLY = /^Read only tokens are not allowed to access this endpoint\.?$/i;
const NOT_AUTHORIZED = /^You are not authorized to perform this action\.?$/i;
// cache-<pop><digits>-<POP>, one per cache node that handled the request (shielding lists two).
const SERVED_BY = /^cache-[a-z]{3}\d+-[A-Z]{3}(\s*,\s*cache-[a-z]{3}\d+-[A-Z]{3})*$/;
const TIMER = /^S\d+\.\d+,VS\d+,VE\d+$/;

const API_DOCS = 'https://www.fastly.com/documentation/reference/api/';
const FASTLY_KEY_DOCS = 'https://www.fastly.com/documentation/reference/http/http-headers/Fastly-Key/';
const TOKENS_DOCS = 'https://www.fastly.com/documentation/reference/api/auth-tokens/user/';
const PERSONAL_TOKENS_DOCS =
  'https://www.fastly.com/documentation/guides/organizations-and-accounts/personal-user-profiles/managing-your-personal-api-tokens';
const AUTH_ERROR_DOCS = 'https://www.fastly.com/documentation/help/metrics/auth-error';
const PURGE_AUTH_DOCS =
  'https://www.fastly.com/documentation/guides/full-site-delivery/purging/authenticating-api-purge-requests';
const TOKENS_PAGE = 'https://manage.fastly.com/account/personal/tokens';
const SELF = 'curl -s -H "Fastly-Key: $FASTLY_API_TOKEN" https://api.fastly.com/tokens/self';

function apiMessage(ctx: Context): string | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j) || typeof j.msg !== 'string') return undefined;
  return j.msg.trim();
}

const newToken: Fix = {
  title: `Create a new API token in the Fastly control panel (Account → API tokens → Personal tokens, ${TOKENS_PAGE}) with the scope and services the call needs, then use it (FASTLY_API_TOKEN, or \`fastly profile create\` for the CLI)`,
  difficulty: 'easy',
  commands: [`xdg-open ${TOKENS_PAGE}`, 'export FASTLY_API_TOKEN=…   # the new token', 'fastly profile create'],
  verify: `\`${SELF}\` answers 200 with the token's scope, services and expires_at; the original call then succeeds.`,
  docs: PERSONAL_TOKENS_DOCS,
};

const checkToken: Fix = {
  title: 'Ask the API which token it sees and what it may do',
  difficulty: 'easy',
  commands: [SELF, 'fastly auth-token describe'],
  verify:
    'The answer is 200 and lists "scope" (global, global:read, purge_select, purge_all) and "services" (empty = all services).',
  docs: TOKENS_DOCS,
};

function sendKeyFix(ctx: Context): Fix {
  return {
    title: 'Send the API token in the Fastly-Key header (not Authorization)',
    difficulty: 'easy',
    commands: [`curl -H "Fastly-Key: $FASTLY_API_TOKEN" ${ctx.url?.href ?? 'https://api.fastly.com/service'}`],
    verify: `\`${SELF}\` answers 200; the same call with the header no longer answers 401.`,
    docs: FASTLY_KEY_DOCS,
  };
}

const globalTokenFix: Fix = {
  ...newToken,
  title: `Create a token with the "global" scope (Account → API tokens → Personal tokens → Create token → Scope: Global API access, ${TOKENS_PAGE}) and use it for writes; keep the read-only one for reads`,
  verify: `\`${SELF}\` shows "scope": "global"; the write call then succeeds.`,
};

function serviceFixes(service: string | undefined): Fix[] {
  return [
    {
      title:
        'List the services and versions the token can see; if the service is missing, create a token that includes it',
      difficulty: 'easy',
      commands: ['fastly service list', `fastly service-version list --service-id ${service ?? '$SERVICE_ID'}`, SELF],
      verify:
        'The service appears in the list and `fastly service-version list` answers for it; the "services" of /tokens/self is empty (all services) or contains its id.',
      docs: AUTH_ERROR_DOCS,
    },
    newToken,
  ];
}

const CHECK_SERVICE_ID_FIX: Fix = {
  title: 'Check the service id and the URL against the API reference',
  difficulty: 'easy',
  commands: ['fastly service list'],
  verify: 'The id in the URL is one the list shows.',
  docs: API_DOCS,
};

export default defineProducer({
  meta: {
    id: 'fastly',
    product: 'fastly',
    layer: 'cdn',
    description:
      'Fastly API (api.fastly.com) denials: {"msg"} errors for a missing or invalid Fastly-Key, an expired token, a read-only (global:read) token on a write endpoint, or a token not allowed on the service; Fastly edge headers (X-Served-By: cache-…, X-Timer, Fastly-Debug-*) are recognised as delivery only.',
    docs: [API_DOCS, FASTLY_KEY_DOCS, TOKENS_DOCS, AUTH_ERROR_DOCS, PURGE_AUTH_DOCS],
    causes: ['credential-missing', 'credential-invalid', 'credential-expired', 'insufficient-scope', 'wrong-endpoint'],
    statuses: [401, 403],
    messages: {
      noKey:
        'The Fastly API got no token: the request carries no Fastly-Key header. Some clients send the key only for some calls (fastly-js purge calls use the url_purge auth, not the token).',
      keyRejected:
        'The Fastly API does not accept the token in Fastly-Key: it is mistyped, revoked, deleted with its user, or belongs to another account.',
      expired:
        'The Fastly API token {{token}} expired at {{at}}; Fastly tokens stop working at their expires_at and cannot be extended.',
      readOnly:
        'The token has the read-only scope global:read, and this endpoint changes something: it needs a token with the global scope.',
      notOnService:
        'The token is not allowed on {{service}}: tokens can be limited to some services, and a purge_select token can only purge.',
      wrongServiceId:
        'Fastly gives the same answer for a wrong service id or a typo in the URL (for example a missing "?" that turns the query into part of the id).',
    },
  },
  recognise(ctx) {
    const found = signals();
    const host = ctx.url?.hostname.toLowerCase() ?? '';
    const apiHost = API_HOSTS.has(host);
    if (apiHost) found.add(0.9, ev('request:url', `host ${host} (the Fastly API)`));
    const msg = apiMessage(ctx);
    // Fastly's exact sentence; other APIs say "invalid credentials" in their own words.
    if (msg && MISSING_OR_INVALID.test(msg)) found.add(0.8, ev('body:msg', msg));
    else if (msg && apiHost) found.add(0, ev('body:msg', msg));
    const key = ctx.requestHeader('fastly-key');
    // The header means nothing outside the Fastly API, so sending it names the API being called.
    if (key !== undefined)
      found.add(msg ? 0.75 : 0.6, ev('request-header:fastly-key', 'present (the Fastly API token header)'));
    const api = found.confidence > 0;

    // Edge headers only say the response passed through Fastly: the claim stays below 0.5.
    const servedBy = ctx.header('x-served-by')?.trim();
    const timer = ctx.header('x-timer')?.trim();
    const debug = ctx.exchange.response.headers.filter((h) => /^fastly-debug-/i.test(h.name));
    const cache = Boolean(servedBy && SERVED_BY.test(servedBy));
    const edge = cache || debug.length > 0 ? 0.45 : 0;
    if (cache) found.add(edge, ev('header:x-served-by', servedBy!));
    if (timer && TIMER.test(timer)) found.add(edge, ev('header:x-timer', timer));
    for (const h of debug) found.add(edge, ev(`header:${h.name.toLowerCase()}`, h.value));
    return found.result({
      msg,
      keySent: key !== undefined && key.trim() !== '',
      ...(api ? { layer: 'application' as const } : {}),
    });
  },
  explain(ctx, { msg = '', keySent, confidence, evidence }, report) {
    const relayed = `The response passed through Fastly's edge (${evidence.map((e) => e.text).join(', ')}); Fastly's headers alone do not say that Fastly refused it: the ${ctx.status} most likely comes from the origin or from the service's own VCL.`;
    if (noteRelayed(confidence, report, relayed)) return;
    const msgEv = msg ? [ev('body:msg', msg)] : [];

    if (MISSING_OR_INVALID.test(msg) || (!msg && ctx.status === 401)) {
      if (!keySent)
        report.claim('credential-missing', 'noKey', 0.85, {
          evidence: [...msgEv, ev('request', 'no Fastly-Key header was sent')],
          fixes: [sendKeyFix(ctx), checkToken],
        });
      else
        report.claim('credential-invalid', 'keyRejected', 0.8, {
          evidence: [...msgEv, ev('request-header:fastly-key', 'a token was sent')],
          fixes: [checkToken, newToken],
        });
    }

    const expired = EXPIRED.exec(msg);
    if (expired)
      report.claim('credential-expired', 'expired', 0.92, {
        data: { token: expired[1], at: expired[2] },
        evidence: msgEv,
        fixes: [newToken, { ...checkToken, verify: 'The new token’s "expires_at" is empty or in the future.' }],
      });

    if (READ_ONLY.test(msg))
      report.claim('insufficient-scope', 'readOnly', 0.9, {
        evidence: msgEv,
        gap: { required: ['global'], held: ['global:read'] },
        fixes: [globalTokenFix, checkToken],
      });

    if (NOT_AUTHORIZED.test(msg)) {
      const service = /\/service\/([A-Za-z0-9]+)/.exec(ctx.url?.pathname ?? '')?.[1];
      report.claim('insufficient-scope', 'notOnService', 0.6, {
        data: { service: service ? `service ${service}` : 'this service' },
        evidence: msgEv,
        fixes: serviceFixes(service),
      });
      report.claim('wrong-endpoint', 'wrongServiceId', 0.3, { evidence: msgEv, fixes: [CHECK_SERVICE_ID_FIX] });
    }
  },
});
