// GitLab's REST API (Grape on Rails): errors are {"message": "401 Unauthorized"}
// style strings, except a token missing a scope, which Doorkeeper answers with
// {"error":"insufficient_scope", …, "scope":"api read_api"} naming the scopes
// that would do. GitLab-only request headers (PRIVATE-TOKEN, JOB-TOKEN) and the
// X-Gitlab-* response headers name the product when the body is this generic.
import { defineProducer, ev, signals } from '../define.ts';
import type { Context } from '../define.ts';
import { headerEvidence, jsonObject } from '../_lib/saas-api.ts';
import texts from './texts.json' with { type: 'json' };

/** The instance's REST API root, for the fixes' commands. */
function apiBase(ctx: Context): string {
  return ctx.url ? `${ctx.url.protocol}//${ctx.url.host}/api/v4` : 'https://gitlab.example.com/api/v4';
}

// ---- Reading the request and the response ------------------------------------------------------

/** The message GitLab puts in {"message": …}; it is sometimes an object of field errors. */
function message(ctx: Context): string | undefined {
  const m = jsonObject(ctx)?.message;
  return typeof m === 'string' ? m : undefined;
}

function isApiPath(ctx: Context): boolean {
  return /^\/api\/v[34]\//.test(ctx.url?.pathname ?? '');
}

function tokenSent(ctx: Context): 'yes' | 'no' | 'unknown' {
  if (!ctx.exchange.request) return 'unknown';
  if (ctx.requestHeader('private-token') || ctx.requestHeader('job-token') || ctx.requestHeader('authorization'))
    return 'yes';
  if (ctx.url?.searchParams.has('private_token') || ctx.url?.searchParams.has('access_token')) return 'yes';
  return 'no';
}

export default defineProducer({
  meta: {
    id: 'gitlab',
    product: 'gitlab',
    layer: 'application',
    causes: [
      'credential-missing',
      'credential-invalid',
      'credential-expired',
      'insufficient-scope',
      'insufficient-role',
      'resource-policy',
      'ip-restricted',
      'rate-limited',
    ],
    statuses: [401, 403, 429],
    ...texts,
  },
  recognise(ctx) {
    const found = signals().headers(ctx, 0.95, ['x-gitlab-meta', 'x-gitlab-feature-category'], (v) => v.slice(0, 200));
    for (const h of ['private-token', 'job-token'])
      if (ctx.requestHeader(h) !== undefined)
        found.add(0.85, ev(`request-header:${h}`, 'a GitLab-only token header was sent'));
    const host = ctx.url?.hostname ?? '';
    if (host === 'gitlab.com' || host.endsWith('.gitlab.com')) found.add(0.9, ev('request:url', `host ${host}`));
    const o = jsonObject(ctx);
    // Doorkeeper's insufficient_scope body with a top-level "scope" under /api/v4 is GitLab's shape.
    if (o?.error === 'insufficient_scope' && typeof o.scope === 'string' && isApiPath(ctx))
      found.add(0.75, ev('body:error', 'insufficient_scope with a scope list, on an /api/v4 path'));
    // Grape's "<code> <reason>" message on an /api/v4 path.
    const m = message(ctx);
    if (m && /^\d{3} [A-Z]/.test(m) && isApiPath(ctx)) found.add(0.6, ev('body:message', m));
    const limit = ctx.header('ratelimit-name');
    if (limit && /throttle/.test(limit)) found.add(0.7, ev('header:ratelimit-name', limit));
    return found.result();
  },
  explain(ctx, _recognised, report) {
    const o = jsonObject(ctx);
    const api = apiBase(ctx);
    const msg = message(ctx) ?? '';
    const msgEv = msg ? [ev('body:message', msg)] : [];

    const insufficientScope = o?.error === 'insufficient_scope';
    if (insufficientScope) {
      const accepted = typeof o.scope === 'string' ? o.scope.split(/\s+/).filter(Boolean) : [];
      report.claim('insufficient-scope', accepted.length ? 'scopeNamed' : 'scope', 0.9, {
        data: {
          accepted: accepted.join(', '),
          scope: accepted[0],
          anyOf: accepted.join(' or '),
          host: ctx.url?.host ?? 'gitlab.com',
          api,
        },
        evidence: [
          ev('body:error', 'insufficient_scope'),
          ...(accepted.length ? [ev('body:scope', String(o.scope))] : []),
          ...(typeof o.error_description === 'string' ? [ev('body:error_description', o.error_description)] : []),
        ],
        ...(accepted.length ? { gap: { required: [accepted.join(' or ')], held: [] } } : {}),
        fixes: [accepted.length ? 'tokenWithNamedScope' : 'tokenWithScope', 'selfCheck'],
      });
    }

    if (ctx.status === 401 && /^401\b/.test(msg)) {
      if (tokenSent(ctx) === 'no')
        report.claim('credential-missing', 'noToken', 0.85, {
          data: {
            url: ctx.url?.href ?? `${api}/projects`,
            glabPath: ctx.url?.pathname.replace(/^\/api\/v4\//, '') ?? 'projects',
          },
          evidence: [...msgEv, ev('request-header:private-token', 'absent')],
          fixes: ['sendToken'],
        });
      else {
        report.claim('credential-invalid', 'unknownToken', 0.7, {
          data: { api },
          evidence: msgEv,
          fixes: ['selfCheck', 'newToken'],
        });
        report.claim('credential-expired', 'expiredToken', 0.35, {
          data: { api },
          evidence: msgEv,
          fixes: ['rotateToken'],
        });
        // Some endpoints answer 401 to a valid token that lacks permission (merge, approvals reset).
        report.claim('insufficient-role', 'unauthorizedForRole', 0.15, {
          data: { api },
          evidence: msgEv,
          fixes: ['tellApart'],
        });
      }
    }

    if (/not allowed to push|protected branch|not allowed to (force )?push into this branch/i.test(msg))
      report.claim('resource-policy', 'protectedBranch', 0.85, { evidence: msgEv, fixes: ['protectedBranch'] });
    else if (/\bIP\b.*(not allowed|restricted)|restricted.*\bIP\b/i.test(msg))
      report.claim('ip-restricted', 'ipRestricted', 0.8, { evidence: msgEv, fixes: ['ipRestriction'] });
    else if (ctx.status === 403 && !insufficientScope)
      report.claim('insufficient-role', msg && !/^403\b/.test(msg) ? 'roleSaid' : 'role', 0.6, {
        data: { message: msg, api },
        evidence: msgEv,
        fixes: ['checkRole', 'selfCheck'],
      });

    if (ctx.status === 429 || /^Retry later/i.test(ctx.body.text.trim())) {
      const retry = ctx.header('retry-after');
      const name = ctx.header('ratelimit-name');
      const id = name ? (retry ? 'namedRateLimitRetry' : 'namedRateLimit') : retry ? 'rateLimitRetry' : 'rateLimit';
      report.claim('rate-limited', id, 0.85, {
        data: { name, retry },
        evidence: headerEvidence(ctx, ['ratelimit-name', 'ratelimit-remaining', 'retry-after']),
        fixes: [retry ? 'waitRetryAfter' : 'backOff'],
      });
    }
  },
});
