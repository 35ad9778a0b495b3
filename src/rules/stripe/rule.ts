// Stripe's API (api.stripe.com) answers every error as
// {"error":{"type","message","code"?,"doc_url"?}} with a Request-Id (req_…)
// and, on most responses, a Stripe-Version header; a request without a key
// gets a Basic challenge with realm="Stripe". A restricted key (rk_…) that
// lacks a permission names both sides of the gap in one sentence: the key and
// the rak_* permission "that would allow this request to continue".
import { defineProducer, ev, jsonString, signals } from '../define.ts';
import type { Context } from '../define.ts';
import { headerEvidence, jsonObject } from '../_lib/saas-api.ts';
import texts from './texts.json' with { type: 'json' };

const STRIPE_TYPES =
  /^(invalid_request_error|api_error|card_error|idempotency_error|rate_limit_error|authentication_error)$/;
const STRIPE_SENTENCE =
  /The provided key '(?:sk|rk|pk)_(?:test|live)_|You did not provide an API key|Invalid API Key provided: |Having the '[a-z_]+' permission would allow this request to continue/;
const PERMISSION_SENTENCE =
  /The provided key '([^']+)' does not have the required permissions for this endpoint(?: on account '([^']+)')?\.\s*Having the '([^']+)' permission would allow this request to continue/;

// ---- Fixes -------------------------------------------------------------------------------------

const dashboard = (mode: string | undefined) => `https://dashboard.stripe.com/${mode === 'test' ? 'test/' : ''}apikeys`;

/** The restricted key's permission Stripe named, as the Dashboard shows it: rak_charge_write → "charge" at Write. */
function resourceOf(permission: string | undefined): string {
  if (!permission) return 'this endpoint uses';
  const area = permission.replace(/^rak_/, '').replace(/_(read|write)$/, '');
  return `behind ${permission} (${area} → ${/_write$/.test(permission) ? 'Write' : 'Read'})`;
}

// ---- Reading the request and the response ------------------------------------------------------

interface StripeError {
  type?: string;
  code?: string;
  message: string;
  docUrl?: string;
}

function readError(ctx: Context): StripeError | undefined {
  const inner = jsonObject(ctx)?.error;
  if (!inner || typeof inner !== 'object') return undefined;
  const message = jsonString(inner, 'message');
  if (message === undefined) return undefined;
  return {
    type: jsonString(inner, 'type'),
    code: jsonString(inner, 'code'),
    message,
    docUrl: jsonString(inner, 'doc_url'),
  };
}

/** The kind of key sent ("sk_test", "rk_live"…), as a Bearer token or as Basic's user name. */
function keyKind(ctx: Context): string | undefined {
  const auth = ctx.requestHeader('authorization') ?? '';
  let key = /^Bearer\s+(\S+)/i.exec(auth)?.[1];
  if (!key && /^Basic\s+/i.test(auth)) {
    try {
      key = Buffer.from(auth.replace(/^Basic\s+/i, ''), 'base64')
        .toString('utf8')
        .split(':')[0];
    } catch {
      key = undefined;
    }
  }
  const m = /^(sk|rk|pk)_(test|live)_/.exec(key ?? '');
  return m ? `${m[1]}_${m[2]}` : undefined;
}

export default defineProducer({
  meta: {
    id: 'stripe',
    product: 'stripe',
    layer: 'application',
    causes: [
      'insufficient-scope',
      'credential-missing',
      'credential-invalid',
      'wrong-audience',
      'rate-limited',
      'account-state',
    ],
    statuses: [401, 403, 429],
    ...texts,
  },
  recognise(ctx) {
    const err = readError(ctx);
    const found = signals();
    const host = ctx.url?.hostname ?? '';
    if (/^(api|files|connect|uploads)\.stripe\.com$/i.test(host))
      found.add(0.9, ev('request:url', `Stripe API host ${host}`));
    const version = ctx.header('stripe-version');
    if (version) found.add(0.95, ev('header:stripe-version', version));
    const reqId = ctx.header('request-id');
    if (reqId && /^req_[A-Za-z0-9]+$/.test(reqId))
      found.add(err || version ? 0.9 : 0.6, ev('header:request-id', reqId));
    const realm = ctx.challenges.find((c) => c.params.realm === 'Stripe');
    if (realm) found.add(0.95, ev('header:www-authenticate', `${realm.scheme} realm="Stripe"`));
    if (err && STRIPE_SENTENCE.test(err.message)) found.add(0.92, ev('body:error.message', err.message));
    if (err?.docUrl && /^https:\/\/(docs\.)?stripe\.com\//.test(err.docUrl))
      found.add(0.92, ev('body:error.doc_url', err.docUrl));
    // Stripe's error types are common words other APIs answer with too (Anthropic's
    // {"type":"error","error":{"type":"authentication_error"}}): they prove nothing alone, and
    // only add their evidence to a response something else shows to be Stripe's.
    if (err?.type && STRIPE_TYPES.test(err.type) && found.confidence > 0) found.add(0, ev('body:error.type', err.type));
    return found.result({ err });
  },
  explain(ctx, { err }, report) {
    const msg = err?.message ?? '';
    const msgEv = msg ? [ev('body:error.message', msg)] : [];
    const mode = keyKind(ctx)?.split('_')[1] ?? /_(test|live)_/.exec(msg)?.[1];

    const perm = PERMISSION_SENTENCE.exec(msg);
    if (perm || (ctx.status === 403 && /does not have the required permissions/.test(msg))) {
      const [, key, account, permission] = perm ?? [];
      const requestId = ctx.header('request-id');
      report.claim(
        'insufficient-scope',
        perm ? (account ? 'restrictedKeyAccount' : 'restrictedKey') : 'restrictedKeyUnnamed',
        0.93,
        {
          data: {
            key: key ?? 'the key',
            account,
            permission,
            resource: resourceOf(permission),
            dashboard: dashboard(mode),
            logs: requestId ? ` (compare with the failed request ${requestId} in Dashboard → Developers → Logs)` : '',
          },
          evidence: [...msgEv, ...headerEvidence(ctx, ['request-id'])],
          ...(permission
            ? { gap: { required: [permission], held: key ? [`restricted key ${key} without it`] : [] } }
            : {}),
          fixes: ['editRestrictedKey'],
        },
      );
    }

    if (
      /You did not provide an API key/i.test(msg) ||
      (ctx.status === 401 && !err && !ctx.requestHeader('authorization'))
    )
      report.claim('credential-missing', 'noKey', 0.9, {
        data: { origin: ctx.url?.origin ?? 'https://api.stripe.com' },
        evidence: [
          ...msgEv,
          ...headerEvidence(ctx, ['www-authenticate']),
          ev('request-header:authorization', ctx.exchange.request ? 'none sent' : 'unknown (no request in the input)'),
        ],
        fixes: ['sendKey'],
      });

    const invalid = /Invalid API Key provided: (\S+)/.exec(msg);
    if (invalid || err?.type === 'authentication_error') {
      report.claim('credential-invalid', invalid ? 'unknownKeyNamed' : 'unknownKey', 0.88, {
        data: { key: invalid?.[1], dashboard: dashboard(mode) },
        evidence: msgEv,
        fixes: ['copyCurrentKey'],
      });
      if (/_(test|live)_/.test(invalid?.[1] ?? ''))
        report.claim('wrong-audience', 'testLiveMixUp', 0.3, { evidence: msgEv });
    }

    if (ctx.status === 429 || err?.type === 'rate_limit_error')
      report.claim('rate-limited', 'rateLimited', 0.9, { evidence: msgEv, fixes: ['backOff'] });
  },
});
