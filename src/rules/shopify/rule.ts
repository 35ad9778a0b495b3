// Shopify's Admin API lives on {shop}.myshopify.com/admin/api/{version}/ and
// marks its responses with X-Shopify-* headers (X-Shopify-Shop-Api-Call-Limit,
// X-Shopify-API-Version, X-Request-Id). REST errors are {"errors": "[API] …"}
// — the "[API]" prefix is Shopify's — and a missing access scope is named in
// the sentence ("requires merchant approval for read_orders scope"). GraphQL
// answers 200 with errors[].extensions.code ACCESS_DENIED and, since 2020-07,
// "Required access: <scope>" in the message.
import { defineProducer, ev, jsonString, signals } from '../define.ts';
import type { Context } from '../define.ts';
import { jsonObject } from '../_lib/saas-api.ts';
import texts from './texts.json' with { type: 'json' };

const SHOP_HOST = /^([a-z0-9][a-z0-9-]*)\.myshopify\.com$/i;
const SHOPIFY_HEADERS = [
  'x-shopify-shop-api-call-limit',
  'x-shopify-api-version',
  'x-shopify-stage',
  'x-shopify-api-deprecated-reason',
];
/** The statuses Shopify's REST API refuses with; GraphQL's ACCESS_DENIED comes with any (200 above all). */
const REFUSALS = [401, 403, 429];

/** The store the request went to, for the fixes' commands. */
const shopOf = (ctx: Context) =>
  SHOP_HOST.test(ctx.url?.hostname ?? '') ? ctx.url!.hostname : 'your-store.myshopify.com';

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
    causes: ['insufficient-scope', 'credential-invalid', 'credential-missing', 'rate-limited', 'account-state'],
    // REST refusals, and GraphQL's ACCESS_DENIED, which answers 200.
    statuses: [200, ...REFUSALS, 407],
    ...texts,
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
    found.headers(ctx, 0.95, SHOPIFY_HEADERS);
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
        data: {
          scope: scope ?? 'the scope the endpoint lists',
          scopeExample: scope ?? 'read_orders',
          shop: shopOf(ctx),
        },
        evidence,
        ...(scope ? { gap: { required: [scope], held: [] } } : {}),
        fixes: ['addScope'],
      });
    }

    if (/Invalid API key or access token/i.test(all))
      report.claim('credential-invalid', 'invalidToken', 0.88, {
        data: { shop: shopOf(ctx) },
        evidence,
        fixes: ['sendAccessToken'],
      });

    const tokenSent = ctx.requestHeader('x-shopify-access-token') || ctx.requestHeader('authorization');
    if (ctx.status === 401 && !err.messages.length && !tokenSent)
      report.claim('credential-missing', 'noToken', 0.75, {
        evidence: [ev('request-header:x-shopify-access-token', 'not sent')],
        fixes: ['sendToken'],
      });

    if (ctx.status === 429 || /Exceeded \d+ calls per second|Throttled/i.test(all)) {
      const bucket = ctx.header('x-shopify-shop-api-call-limit');
      report.claim('rate-limited', bucket ? 'throttledBucket' : 'throttled', 0.9, {
        data: { bucket },
        evidence,
        fixes: ['paceCalls'],
      });
    }

    if (/Unavailable Shop|shop is (frozen|closed|locked)/i.test(all))
      report.claim('account-state', 'shopUnavailable', 0.8, { evidence });
  },
});
