// The X (Twitter) API: v2 answers errors as problem details whose type URIs
// live under https://api.twitter.com/2/problems/ (or api.x.com): client-forbidden
// with reason client-not-enrolled (the App is not in a Project, or its access
// level lacks the endpoint), unsupported-authentication (app-only token where
// user context is required, or the reverse; the detail lists what the
// endpoint supports), usage-capped. v1.1 answers {"errors":[{"message","code"}]},
// code 453 being "You currently have access to a subset of X API V2
// endpoints…": the plan, not the credential.
import { defineProducer, ev, signals } from '../define.ts';
import type { Context } from '../define.ts';
import { epochSeconds, jsonObject, rateLimited, stringOf } from '../_lib/saas-api.ts';
import texts from './texts.json' with { type: 'json' };

const HOST = /^api\.(twitter|x)\.com$/i;
const PROBLEMS = /^https:\/\/api\.(?:twitter|x)\.com\/2\/problems\/([\w-]+)/;
interface Problem {
  slug?: string;
  type?: string;
  title?: string;
  detail?: string;
  reason?: string;
  /** What a client-forbidden problem says the App must be enrolled in. */
  requiredEnrollment?: string;
}

function problem(ctx: Context): Problem | undefined {
  const j = jsonObject(ctx);
  if (!j) return undefined;
  const type = stringOf(j.type);
  const title = stringOf(j.title);
  if (!type && !title) return undefined;
  return {
    slug: type ? PROBLEMS.exec(type)?.[1] : undefined,
    type,
    title,
    detail: stringOf(j.detail),
    reason: stringOf(j.reason),
    requiredEnrollment: stringOf(j.required_enrollment),
  };
}

/** v1.1 errors: [{ message, code }] */
function v1Errors(ctx: Context): { message: string; code: number }[] {
  const j = jsonObject(ctx);
  if (!j || !Array.isArray(j.errors)) return [];
  return j.errors.flatMap((e) => {
    const o = e as Record<string, unknown>;
    return o && typeof o.message === 'string' && typeof o.code === 'number'
      ? [{ message: o.message, code: o.code }]
      : [];
  });
}

export default defineProducer({
  meta: {
    id: 'x-api',
    product: 'x-api',
    layer: 'application',
    causes: [
      'feature-disabled',
      'credential-malformed',
      'credential-invalid',
      'credential-missing',
      'rate-limited',
      'not-owner',
    ],
    // Its 429s too (usage caps, rate limits), though the engine reports only denials.
    statuses: [401, 403, 407, 429],
    ...texts,
  },
  recognise(ctx) {
    const p = problem(ctx);
    const found = signals();
    if (p?.slug) found.add(0.95, ev('body:type', `${p.type} (X API problem type)`));
    const host = ctx.url?.hostname ?? '';
    if (HOST.test(host)) found.add(0.9, ev('request:url', `host ${host}`));
    // v1.1's envelope is generic; X's own portal links in the message name it.
    const v1 = v1Errors(ctx).find((e) => /developer\.(twitter|x)\.com/.test(e.message));
    if (v1) found.add(0.85, ev('body:errors[].message', `code ${v1.code}, links developer.x.com`));
    const transaction = ctx.header('x-transaction-id');
    if (transaction && (ctx.header('x-rate-limit-limit') || ctx.header('x-access-level')))
      found.add(0.8, ev('header:x-transaction-id', transaction));
    return found.result({ p });
  },
  explain(ctx, recognised, report) {
    const { p } = recognised;
    const e453 = v1Errors(ctx).find((e) => e.code === 453);
    const pEv = p
      ? [
          ev('body:title', p.title ?? ''),
          ...(p.detail ? [ev('body:detail', p.detail)] : []),
          ...(p.reason ? [ev('body:reason', p.reason)] : []),
        ]
      : [];

    const notEnrolled = p?.slug === 'client-forbidden' || p?.reason === 'client-not-enrolled' || Boolean(e453);
    if (notEnrolled)
      report.claim('feature-disabled', e453 ? 'accessLevel' : 'notEnrolled', 0.9, {
        evidence: e453 ? [ev('body:errors[].code', `453: ${e453.message}`)] : pEv,
        gap: { required: [p?.requiredEnrollment ?? 'an access level that includes this endpoint'], held: [] },
        fixes: e453 ? ['upgrade', 'moveToV2'] : ['upgrade'],
      });

    const wrongKind = p?.slug === 'unsupported-authentication';
    if (wrongKind) {
      const used = /Authenticating with (.+?) is forbidden/i.exec(p.detail ?? '')?.[1];
      const supported =
        /Supported authentication types are \[([^\]]*)\]/i
          .exec(p.detail ?? '')?.[1]
          ?.split(/,\s*/)
          .filter(Boolean) ?? [];
      report.claim('credential-malformed', supported.length ? 'wrongKindSupported' : 'wrongKind', 0.9, {
        data: {
          used: used ?? 'this kind of authentication',
          supported: supported.join(' or ') || 'see its reference page',
        },
        evidence: pEv,
        gap: { required: supported, held: used ? [used] : [] },
        fixes: [/Application-Only/i.test(used ?? '') ? 'userContext' : 'authenticateAs'],
      });
    }

    const capped = p?.slug === 'usage-capped';
    const limited = rateLimited(ctx, recognised, capped);
    if (limited) {
      const reset = ctx.header('x-rate-limit-reset');
      report.claim('rate-limited', reset ? 'usedUpReset' : 'usedUp', 0.85, {
        data: {
          limit: capped ? 'monthly usage cap' : 'rate limit',
          reset: reset && (epochSeconds(reset) ?? reset),
        },
        evidence: [...pEv, ...(reset ? [ev('header:x-rate-limit-reset', reset)] : [])],
        fixes: ['waitForReset'],
      });
    }

    const notAuthorized = p?.slug === 'not-authorized-for-resource';
    if (notAuthorized) report.claim('not-owner', 'notAuthorized', 0.7, { evidence: pEv, fixes: ['ownerToken'] });

    // A plain 401 from a recognised X response is about the credential.
    if (ctx.status === 401 && recognised.confidence >= 0.5 && !(notEnrolled || wrongKind || limited || notAuthorized)) {
      const auth = ctx.requestHeader('authorization');
      if (auth) {
        const sent = ev('request-header:authorization', `${auth.split(/\s+/)[0]} …`);
        report.claim('credential-invalid', 'invalid', 0.75, { evidence: [...pEv, sent], fixes: ['regenerate'] });
      } else report.claim('credential-missing', 'missing', 0.8, { evidence: pEv, fixes: ['sendBearer'] });
    }
  },
});
