// Shopify's Admin API lives on {shop}.myshopify.com/admin/api/{version}/ and
// marks its responses with X-Shopify-* headers (X-Shopify-Shop-Api-Call-Limit,
// X-Shopify-API-Version, X-Request-Id). REST errors are {"errors": "[API] …"}
// — the "[API]" prefix is Shopify's — and a missing access scope is named in
// the sentence ("requires merchant approval for read_orders scope"). GraphQL
// answers 200 with errors[].extensions.code ACCESS_DENIED and, since 2020-07,
// "Required access: <scope>" in the message.
import { defineProducer, ev, jsonString, signals } from '../define.ts';
import type { Context, Fix } from '../define.ts';
import { headerSignals, jsonObject } from '../_lib/saas-api.ts';

const SCOPES_DOC = 'https://shopify.dev/docs/api/usage/access-scopes';
const SHOP_HOST = /^([a-z0-9][a-z0-9-]*)\.myshopify\.com$/i;
const SHOPIFY_HEADERS = [
  'x-shopify-shop-api-call-limit',
  'x-shopify-api-version',
  'x-shopify-stage',
  'x-shopify-api-deprecated-reason',
];
/** The statuses Shopify's REST API refuses with; GraphQL's ACCESS_DENIED comes with any (200 above all). */
const REFUSALS = [401, 403, 429];

// ---- Fixes -------------------------------------------------------------------------------------

const shopOf = (ctx: Context) =>
  SHOP_HOST.test(ctx.url?.hostname ?? '') ? ctx.url!.hostname : 'your-store.myshopify.com';

/** Add the scope to the app and have the merchant approve it. */
function addScope(ctx: Context, scope: string | undefined): Fix {
  const s = scope ?? 'the scope the endpoint lists';
  return {
    title: `Add ${s} to the app’s access scopes and have the merchant approve it (reinstall or re-authorize)`,
    difficulty: 'medium',
    commands: [
      `# shopify.app.toml: [access_scopes] scopes = "…,${scope ?? 'read_orders'}"  then: shopify app deploy   (Partner/Dev Dashboard apps)`,
      `# custom app in the admin: Settings → Apps and sales channels → Develop apps → your app → Configuration → Admin API integration → Edit → tick ${s} → Save → reinstall`,
    ],
    verify: `curl -s -H "X-Shopify-Access-Token: $TOKEN" https://${shopOf(ctx)}/admin/oauth/access_scopes.json lists ${s}.`,
    docs: SCOPES_DOC,
  };
}

function sendAccessToken(ctx: Context): Fix {
  return {
    title:
      'Send the Admin API access token (shpat_…/shpca_…) in X-Shopify-Access-Token, for the store it was issued for',
    difficulty: 'easy',
    commands: [
      `curl -s -o /dev/null -w "%{http_code}\\n" -H "X-Shopify-Access-Token: $TOKEN" https://${shopOf(ctx)}/admin/api/2024-10/shop.json`,
    ],
    verify: 'GET /admin/api/{version}/shop.json answers 200.',
    docs: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens',
  };
}

const SEND_TOKEN: Fix = { title: 'Send X-Shopify-Access-Token: <token>', difficulty: 'easy' };
const PACE_CALLS: Fix = {
  title: 'Honour Retry-After and pace calls to the leaky-bucket rate',
  difficulty: 'medium',
  docs: 'https://shopify.dev/docs/api/usage/rate-limits',
};

// ---- Reading the response ----------------------------------------------------------------------

interface ShopifyError {
  messages: string[];
  graphqlDenied: boolean;
}

function readError(ctx: Context): ShopifyError {
  const out: ShopifyError = { messages: [], graphqlDenied: false };
  const errors = jsonObject(ctx)?.errors;
  if (typeof errors === 'string') out.messages.push(errors);
  else if (Array.isArray(errors))
    for (const e of errors) {
      if (typeof e === 'string') out.messages.push(e);
      else if (e && typeof e === 'object') {
        const m = jsonString(e, 'message');
        if (m) out.messages.push(m);
        if (jsonString(e, 'extensions.code') === 'ACCESS_DENIED') out.graphqlDenied = true;
      }
    }
  else if (errors && typeof errors === 'object')
    for (const v of Object.values(errors)) if (typeof v === 'string') out.messages.push(v);
  return out;
}

export default defineProducer({
  meta: {
    id: 'shopify',
    product: 'shopify',
    layer: 'application',
    description:
      'Shopify Admin API refusals: missing access scopes ("requires merchant approval for … scope", GraphQL ACCESS_DENIED with the required access), invalid API keys or access tokens, recognised by the myshopify.com store host, X-Shopify-* headers and Shopify’s "[API]" messages.',
    docs: [
      SCOPES_DOC,
      'https://shopify.dev/changelog/new-error-messages-for-graphql-operations-without-necessary-access-scopes',
      'https://shopify.dev/docs/api/admin-rest/usage/response-codes',
    ],
    causes: ['insufficient-scope', 'credential-invalid', 'credential-missing', 'rate-limited', 'account-state'],
    // REST refusals, and GraphQL's ACCESS_DENIED, which answers 200.
    statuses: [200, ...REFUSALS, 407],
    messages: {
      scope:
        'The app’s access token does not carry the access scope this call needs. Scopes are granted when the merchant installs or re-authorizes the app.',
      scopeNamed:
        'The app’s access token does not carry the access scope this call needs: {{scope}}. Scopes are granted when the merchant installs or re-authorizes the app.',
      invalidToken:
        'Shopify did not recognise the credential: a wrong or revoked Admin API access token (the app was uninstalled or the token rotated), the API key sent where the token belongs, or a token for another store.',
      noToken: 'No access token was sent (X-Shopify-Access-Token).',
      throttled: 'Shopify throttled the app.',
      throttledBucket: 'Shopify throttled the app (bucket {{bucket}}).',
      shopUnavailable: 'The store itself is unavailable (frozen, closed or locked for unpaid bills).',
    },
  },
  recognise(ctx) {
    const host = ctx.url?.hostname ?? '';
    // x-shopify-stage and x-shopify-api-deprecated-reason count only beside a JSON body, a store host or the
    // Admin API's version and call-limit headers.
    const apiHeader = ctx.header('x-shopify-api-version') || ctx.header('x-shopify-shop-api-call-limit');
    if (ctx.body.json === undefined && !SHOP_HOST.test(host) && !apiHeader) return undefined;
    const err = readError(ctx);
    const found = signals();
    if (SHOP_HOST.test(host))
      found.add(/^\/admin\//.test(ctx.url?.pathname ?? '') ? 0.93 : 0.8, ev('request:url', `Shopify store ${host}`));
    headerSignals(found, ctx, 0.95, SHOPIFY_HEADERS);
    const api = err.messages.find((m) => /^\[API\] /.test(m));
    if (api) found.add(0.85, ev('body:errors', api));
    if (err.graphqlDenied && /shopify\.dev\//.test(ctx.body.text))
      found.add(0.85, ev('body:errors.extensions', 'ACCESS_DENIED with a shopify.dev documentation link'));
    return found.result({ err });
  },
  explain(ctx, { err }, report) {
    if (!REFUSALS.includes(ctx.status) && !err.graphqlDenied) return;
    const all = err.messages.join(' ');
    const evidence = err.messages.slice(0, 3).map((m) => ev('body:errors', m));

    const approval = /requires merchant approval for (\w+) scope/i.exec(all);
    const required = /Required access:\s*`?(\w+(?:,? \w+|,\w+)*?)`?\s+access scope/i.exec(all);
    if (approval || required || err.graphqlDenied || (ctx.status === 403 && /access scope|\bscope\b/i.test(all))) {
      const scope = approval?.[1] ?? required?.[1]?.split(/[,\s]+/).filter(Boolean)[0];
      report.claim('insufficient-scope', scope ? 'scopeNamed' : 'scope', 0.92, {
        data: { scope },
        evidence,
        ...(scope ? { gap: { required: [scope], held: [] } } : {}),
        fixes: [addScope(ctx, scope)],
      });
    }

    if (/Invalid API key or access token/i.test(all))
      report.claim('credential-invalid', 'invalidToken', 0.88, { evidence, fixes: [sendAccessToken(ctx)] });

    const tokenSent = ctx.requestHeader('x-shopify-access-token') || ctx.requestHeader('authorization');
    if (ctx.status === 401 && !err.messages.length && !tokenSent)
      report.claim('credential-missing', 'noToken', 0.75, {
        evidence: [ev('request-header:x-shopify-access-token', 'not sent')],
        fixes: [SEND_TOKEN],
      });

    if (ctx.status === 429 || /Exceeded \d+ calls per second|Throttled/i.test(all)) {
      const bucket = ctx.header('x-shopify-shop-api-call-limit');
      report.claim('rate-limited', bucket ? 'throttledBucket' : 'throttled', 0.9, {
        data: { bucket },
        evidence,
        fixes: [PACE_CALLS],
      });
    }

    if (/Unavailable Shop|shop is (frozen|closed|locked)/i.test(all))
      report.claim('account-state', 'shopUnavailable', 0.8, { evidence });
  },
});
