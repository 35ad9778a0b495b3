// Stripe's API (api.stripe.com) answers every error as
// {"error":{"type","message","code"?,"doc_url"?}} with a Request-Id (req_…)
// and, on most responses, a Stripe-Version header; a request without a key
// gets a Basic challenge with realm="Stripe". A restricted key (rk_…) that
// lacks a permission names both sides of the gap in one sentence: the key and
// the rak_* permission "that would allow this request to continue".
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence } from '../../model/report.ts';

const KEYS_DOC = 'https://docs.stripe.com/keys/restricted-api-keys';
const ERRORS_DOC = 'https://docs.stripe.com/error-handling';

interface StripeError {
  type?: string;
  code?: string;
  message: string;
  docUrl?: string;
}

function readError(ctx: Context): StripeError | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const inner = (j as Record<string, unknown>).error;
  if (!inner || typeof inner !== 'object') return undefined;
  const message = jsonString(inner, 'message');
  if (message === undefined) return undefined;
  return { type: jsonString(inner, 'type'), code: jsonString(inner, 'code'), message, docUrl: jsonString(inner, 'doc_url') };
}

const STRIPE_TYPES = /^(invalid_request_error|api_error|card_error|idempotency_error|rate_limit_error|authentication_error)$/;
const STRIPE_SENTENCE = /The provided key '(?:sk|rk|pk)_(?:test|live)_|You did not provide an API key|Invalid API Key provided: |Having the '[a-z_]+' permission would allow this request to continue/;

function signature(ctx: Context, err: StripeError | undefined) {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  const host = ctx.url?.hostname ?? '';
  if (/^(api|files|connect|uploads)\.stripe\.com$/i.test(host)) bump(0.9, ev('request:url', `Stripe API host ${host}`));
  const version = ctx.header('stripe-version');
  if (version) bump(0.95, ev('header:stripe-version', version));
  const reqId = ctx.header('request-id');
  if (reqId && /^req_[A-Za-z0-9]+$/.test(reqId)) bump(err || version ? 0.9 : 0.6, ev('header:request-id', reqId));
  const realm = ctx.challenges.find((c) => c.params.realm === 'Stripe');
  if (realm) bump(0.95, ev('header:www-authenticate', `${realm.scheme} realm="Stripe"`));
  if (err && STRIPE_SENTENCE.test(err.message)) bump(0.92, ev('body:error.message', err.message));
  if (err?.docUrl && /^https:\/\/(docs\.)?stripe\.com\//.test(err.docUrl)) bump(0.92, ev('body:error.doc_url', err.docUrl));
  else if (err?.type && STRIPE_TYPES.test(err.type) && confidence === 0) bump(0.35, ev('body:error.type', err.type));
  return { confidence, evidence };
}

function keyKind(ctx: Context): string | undefined {
  const auth = ctx.requestHeader('authorization') ?? '';
  let key = /^Bearer\s+(\S+)/i.exec(auth)?.[1];
  if (!key && /^Basic\s+/i.test(auth)) {
    try {
      key = Buffer.from(auth.replace(/^Basic\s+/i, ''), 'base64').toString('utf8').split(':')[0];
    } catch {
      key = undefined;
    }
  }
  const m = /^(sk|rk|pk)_(test|live)_/.exec(key ?? '');
  return m ? `${m[1]}_${m[2]}` : undefined;
}

const dashboard = (mode: string | undefined) => `https://dashboard.stripe.com/${mode === 'test' ? 'test/' : ''}apikeys`;

export default defineRule({
  meta: {
    id: 'stripe',
    kind: 'producer',
    product: 'stripe',
    layer: 'application',
    description: 'Stripe API authentication and permission errors: restricted keys missing a rak_* permission, invalid or missing API keys, test/live key mix-ups, and rate limits, recognised by Stripe-Version, Request-Id and Stripe’s own messages.',
    docs: [KEYS_DOC, ERRORS_DOC, 'https://docs.stripe.com/api/authentication', 'https://docs.stripe.com/rate-limits'],
    causes: ['insufficient-scope', 'credential-missing', 'credential-invalid', 'wrong-audience', 'rate-limited', 'account-state'],
  },
  applies: (ctx) => ctx.body.json !== undefined || /stripe\.com$/i.test(ctx.url?.hostname ?? '') || Boolean(ctx.header('stripe-version') || ctx.header('request-id') || ctx.challenges.length),
  run(ctx) {
    const err = readError(ctx);
    const sig = signature(ctx, err);
    if (!sig.confidence) return undefined;
    const producer = { product: 'stripe' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403 && ctx.status !== 429) return { producer };
    const msg = err?.message ?? '';
    const msgEv = msg ? [ev('body:error.message', msg)] : [];
    const causes: CauseClaim[] = [];
    const sent = keyKind(ctx);
    const mode = sent?.split('_')[1] ?? /_(test|live)_/.exec(msg)?.[1];

    const perm = /The provided key '([^']+)' does not have the required permissions for this endpoint(?: on account '([^']+)')?\.\s*Having the '([^']+)' permission would allow this request to continue/.exec(msg);
    if (perm || (ctx.status === 403 && /does not have the required permissions/.test(msg))) {
      const [, key, account, permission] = perm ?? [];
      causes.push({
        id: 'insufficient-scope',
        weight: 0.93,
        summary: `The restricted key ${key ?? ''} is valid but lacks a permission for this endpoint${permission ? `: Stripe names ${permission}` : ''}${account ? ` (account ${account})` : ''}.`,
        evidence: [...msgEv, ...(ctx.header('request-id') ? [ev('header:request-id', ctx.header('request-id')!)] : [])],
        ...(permission ? { gap: { required: [permission], held: key ? [`restricted key ${key} without it`] : [] } } : {}),
        fixes: [
          {
            title: `Edit the restricted key and set the resource ${permission ? `behind ${permission} (${permission.replace(/^rak_/, '').replace(/_(read|write)$/, '')} → ${/_write$/.test(permission) ? 'Write' : 'Read'})` : 'this endpoint uses'} to the level it needs`,
            difficulty: 'easy',
            commands: [`# Stripe Dashboard → Developers → API keys → Restricted keys → ${key ?? 'the key'} → ⋯ → Edit key → set the permission → Apply changes`, `open ${dashboard(mode)}`],
            verify: `Repeat the request with the same key; Stripe answers 200 instead of the permission message${ctx.header('request-id') ? ` (compare with the failed request ${ctx.header('request-id')} in Dashboard → Developers → Logs)` : ''}.`,
            docs: KEYS_DOC,
          },
        ],
      });
    }

    if (/You did not provide an API key/i.test(msg) || (ctx.status === 401 && !err && !ctx.requestHeader('authorization'))) {
      causes.push({
        id: 'credential-missing',
        weight: 0.9,
        summary: 'No API key reached Stripe: the request carried no Authorization header (Basic with the key as user name, or Bearer).',
        evidence: [...msgEv, ...(ctx.header('www-authenticate') ? [ev('header:www-authenticate', ctx.header('www-authenticate')!)] : []), ev('request-header:authorization', ctx.exchange.request ? 'none sent' : 'unknown (no request in the input)')],
        fixes: [
          {
            title: 'Send the secret or restricted key: curl -u "$STRIPE_SECRET_KEY:" or Authorization: Bearer',
            difficulty: 'easy',
            commands: [`curl -s -u "$STRIPE_SECRET_KEY:" ${ctx.url?.origin ?? 'https://api.stripe.com'}/v1/balance`],
            verify: 'The call answers 200; Dashboard → Developers → Logs shows it under the key you meant.',
            docs: 'https://docs.stripe.com/api/authentication',
          },
        ],
      });
    }

    const invalid = /Invalid API Key provided: (\S+)/.exec(msg);
    if (invalid || err?.type === 'authentication_error') {
      causes.push({
        id: 'credential-invalid',
        weight: 0.88,
        summary: `Stripe does not know this key${invalid ? ` (${invalid[1]})` : ''}: mistyped, rolled or deleted, or from another account.`,
        evidence: msgEv,
        fixes: [{ title: 'Copy the current key from the Dashboard (a rolled key stops working when its expiry passes)', difficulty: 'easy', commands: [`open ${dashboard(mode)}`], verify: `curl -s -o /dev/null -w "%{http_code}\\n" -u "$STRIPE_SECRET_KEY:" https://api.stripe.com/v1/balance prints 200.` }],
      });
      if (/_(test|live)_/.test(invalid?.[1] ?? '')) {
        causes.push({ id: 'wrong-audience', weight: 0.3, summary: 'A test key used where the object lives in live mode (or the reverse) reads as another key; check the prefix against the mode you expect.', evidence: msgEv, fixes: [] });
      }
    }

    if (ctx.status === 429 || err?.type === 'rate_limit_error') {
      causes.push({ id: 'rate-limited', weight: 0.9, summary: 'Stripe’s rate limiter refused the request.', evidence: msgEv, fixes: [{ title: 'Retry with exponential backoff and lower concurrency', difficulty: 'medium', docs: 'https://docs.stripe.com/rate-limits' }] });
    }

    return causes.length ? { producer, causes } : { producer };
  },
});
