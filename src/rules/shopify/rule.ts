// Shopify's Admin API lives on {shop}.myshopify.com/admin/api/{version}/ and
// marks its responses with X-Shopify-* headers (X-Shopify-Shop-Api-Call-Limit,
// X-Shopify-API-Version, X-Request-Id). REST errors are {"errors": "[API] …"}
// — the "[API]" prefix is Shopify's — and a missing access scope is named in
// the sentence ("requires merchant approval for read_orders scope"). GraphQL
// answers 200 with errors[].extensions.code ACCESS_DENIED and, since 2020-07,
// "Required access: <scope>" in the message.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const SCOPES_DOC = 'https://shopify.dev/docs/api/usage/access-scopes';
const SHOP_HOST = /^([a-z0-9][a-z0-9-]*)\.myshopify\.com$/i;

interface ShopifyError {
  messages: string[];
  graphqlDenied: boolean;
}

function readError(ctx: Context): ShopifyError {
  const j = ctx.body.json;
  const out: ShopifyError = { messages: [], graphqlDenied: false };
  if (!j || typeof j !== 'object' || Array.isArray(j)) return out;
  const errors = (j as Record<string, unknown>).errors;
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
  else if (errors && typeof errors === 'object') for (const v of Object.values(errors)) if (typeof v === 'string') out.messages.push(v);
  return out;
}

function signature(ctx: Context, err: ShopifyError) {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  const host = ctx.url?.hostname ?? '';
  if (SHOP_HOST.test(host)) bump(/^\/admin\//.test(ctx.url?.pathname ?? '') ? 0.93 : 0.8, ev('request:url', `Shopify store ${host}`));
  for (const h of ['x-shopify-shop-api-call-limit', 'x-shopify-api-version', 'x-shopify-stage', 'x-shopify-api-deprecated-reason']) {
    const v = ctx.header(h);
    if (v) bump(0.95, ev(`header:${h}`, v));
  }
  const api = err.messages.find((m) => /^\[API\] /.test(m));
  if (api) bump(0.85, ev('body:errors', api));
  if (err.graphqlDenied && /shopify\.dev\//.test(ctx.body.text)) bump(0.85, ev('body:errors.extensions', 'ACCESS_DENIED with a shopify.dev documentation link'));
  return { confidence, evidence };
}

function scopeFixes(ctx: Context, scope: string | undefined): Fix[] {
  const s = scope ?? 'the scope the endpoint lists';
  const shop = SHOP_HOST.test(ctx.url?.hostname ?? '') ? ctx.url!.hostname : 'your-store.myshopify.com';
  return [
    {
      title: `Add ${s} to the app’s access scopes and have the merchant approve it (reinstall or re-authorize)`,
      difficulty: 'medium',
      commands: [
        `# shopify.app.toml: [access_scopes] scopes = "…,${scope ?? 'read_orders'}"  then: shopify app deploy   (Partner/Dev Dashboard apps)`,
        `# custom app in the admin: Settings → Apps and sales channels → Develop apps → your app → Configuration → Admin API integration → Edit → tick ${s} → Save → reinstall`,
      ],
      verify: `curl -s -H "X-Shopify-Access-Token: $TOKEN" https://${shop}/admin/oauth/access_scopes.json lists ${s}.`,
      docs: SCOPES_DOC,
    },
  ];
}

export default defineRule({
  meta: {
    id: 'shopify',
    kind: 'producer',
    product: 'shopify',
    layer: 'application',
    description: 'Shopify Admin API refusals: missing access scopes ("requires merchant approval for … scope", GraphQL ACCESS_DENIED with the required access), invalid API keys or access tokens, recognised by the myshopify.com store host, X-Shopify-* headers and Shopify’s "[API]" messages.',
    docs: [SCOPES_DOC, 'https://shopify.dev/changelog/new-error-messages-for-graphql-operations-without-necessary-access-scopes', 'https://shopify.dev/docs/api/admin-rest/usage/response-codes'],
    causes: ['insufficient-scope', 'credential-invalid', 'credential-missing', 'rate-limited', 'account-state'],
  },
  applies: (ctx) => ctx.body.json !== undefined || SHOP_HOST.test(ctx.url?.hostname ?? '') || Boolean(ctx.header('x-shopify-api-version') || ctx.header('x-shopify-shop-api-call-limit')),
  run(ctx) {
    const err = readError(ctx);
    const sig = signature(ctx, err);
    if (!sig.confidence) return undefined;
    const producer = { product: 'shopify' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    const denial = ctx.status === 401 || ctx.status === 403 || ctx.status === 429;
    // GraphQL answers 200; its ACCESS_DENIED still says which scope is missing.
    if (!denial && !err.graphqlDenied) return { producer };
    const causes: CauseClaim[] = [];
    const all = err.messages.join(' ');
    const msgEv = err.messages.slice(0, 3).map((m) => ev('body:errors', m));

    const approval = /requires merchant approval for (\w+) scope/i.exec(all);
    const required = /Required access:\s*`?(\w+(?:,? \w+|,\w+)*?)`?\s+access scope/i.exec(all);
    if (approval || required || err.graphqlDenied || (ctx.status === 403 && /access scope|\bscope\b/i.test(all))) {
      const scope = approval?.[1] ?? required?.[1]?.split(/[,\s]+/).filter(Boolean)[0];
      causes.push({
        id: 'insufficient-scope',
        weight: 0.92,
        summary: `The app’s access token does not carry the access scope this call needs${scope ? `: ${scope}` : ''}. Scopes are granted when the merchant installs or re-authorizes the app.`,
        evidence: msgEv,
        ...(scope ? { gap: { required: [scope], held: [] } } : {}),
        fixes: scopeFixes(ctx, scope),
      });
    }

    if (/Invalid API key or access token/i.test(all)) {
      causes.push({
        id: 'credential-invalid',
        weight: 0.88,
        summary: 'Shopify did not recognise the credential: a wrong or revoked Admin API access token (the app was uninstalled or the token rotated), the API key sent where the token belongs, or a token for another store.',
        evidence: msgEv,
        fixes: [
          {
            title: 'Send the Admin API access token (shpat_…/shpca_…) in X-Shopify-Access-Token, for the store it was issued for',
            difficulty: 'easy',
            commands: [`curl -s -o /dev/null -w "%{http_code}\\n" -H "X-Shopify-Access-Token: $TOKEN" https://${SHOP_HOST.test(ctx.url?.hostname ?? '') ? ctx.url!.hostname : 'your-store.myshopify.com'}/admin/api/2024-10/shop.json`],
            verify: 'GET /admin/api/{version}/shop.json answers 200.',
            docs: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens',
          },
        ],
      });
    }

    if (ctx.status === 401 && !err.messages.length && !ctx.requestHeader('x-shopify-access-token') && !ctx.requestHeader('authorization')) {
      causes.push({ id: 'credential-missing', weight: 0.75, summary: 'No access token was sent (X-Shopify-Access-Token).', evidence: [ev('request-header:x-shopify-access-token', 'not sent')], fixes: [{ title: 'Send X-Shopify-Access-Token: <token>', difficulty: 'easy' }] });
    }

    if (ctx.status === 429 || /Exceeded \d+ calls per second|Throttled/i.test(all)) {
      causes.push({ id: 'rate-limited', weight: 0.9, summary: `Shopify throttled the app${ctx.header('x-shopify-shop-api-call-limit') ? ` (bucket ${ctx.header('x-shopify-shop-api-call-limit')})` : ''}.`, evidence: msgEv, fixes: [{ title: 'Honour Retry-After and pace calls to the leaky-bucket rate', difficulty: 'medium', docs: 'https://shopify.dev/docs/api/usage/rate-limits' }] });
    }

    if (/Unavailable Shop|shop is (frozen|closed|locked)/i.test(all)) {
      causes.push({ id: 'account-state', weight: 0.8, summary: 'The store itself is unavailable (frozen, closed or locked for unpaid bills).', evidence: msgEv, fixes: [] });
    }

    return causes.length ? { producer, causes } : { producer };
  },
});
