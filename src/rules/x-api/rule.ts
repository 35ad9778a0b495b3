// The X (Twitter) API: v2 answers errors as problem details whose type URIs
// live under https://api.twitter.com/2/problems/ (or api.x.com): client-forbidden
// with reason client-not-enrolled (the App is not in a Project, or its access
// level lacks the endpoint), unsupported-authentication (app-only token where
// user context is required, or the reverse; the detail lists what the
// endpoint supports), usage-capped. v1.1 answers {"errors":[{"message","code"}]},
// code 453 being "You currently have access to a subset of X API V2
// endpoints…": the plan, not the credential.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const HOST = /^api\.(twitter|x)\.com$/i;
const PROBLEMS = /^https:\/\/api\.(?:twitter|x)\.com\/2\/problems\/([\w-]+)/;
const PORTAL = 'https://developer.x.com/en/portal/dashboard';

interface Problem {
  slug?: string;
  type?: string;
  title?: string;
  detail?: string;
  reason?: string;
  status?: number;
}

function problem(ctx: Context): Problem | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const type = typeof j.type === 'string' ? j.type : undefined;
  const title = typeof j.title === 'string' ? j.title : undefined;
  if (!type && !title) return undefined;
  return {
    slug: type ? PROBLEMS.exec(type)?.[1] : undefined,
    type,
    title,
    detail: typeof j.detail === 'string' ? j.detail : undefined,
    reason: typeof j.reason === 'string' ? j.reason : undefined,
    status: typeof j.status === 'number' ? j.status : undefined,
  };
}

/** v1.1 errors: [{ message, code }] */
function v1Errors(ctx: Context): { message: string; code: number }[] {
  const j = ctx.body.json as { errors?: unknown } | undefined;
  if (!j || typeof j !== 'object' || !Array.isArray(j.errors)) return [];
  return j.errors.flatMap((e) => {
    const o = e as Record<string, unknown>;
    return o && typeof o.message === 'string' && typeof o.code === 'number' ? [{ message: o.message, code: o.code }] : [];
  });
}

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const p = problem(ctx);
  if (p?.slug) {
    confidence = 0.95;
    evidence.push(ev('body:type', `${p.type} (X API problem type)`));
  }
  const host = ctx.url?.hostname ?? '';
  if (HOST.test(host)) {
    confidence = Math.max(confidence, 0.9);
    evidence.push(ev('request:url', `host ${host}`));
  }
  // v1.1's envelope is generic; X's own portal links in the message name it.
  const v1 = v1Errors(ctx).find((e) => /developer\.(twitter|x)\.com/.test(e.message));
  if (v1) {
    confidence = Math.max(confidence, 0.85);
    evidence.push(ev('body:errors[].message', `code ${v1.code}, links developer.x.com`));
  }
  if (ctx.header('x-transaction-id') && (ctx.header('x-rate-limit-limit') || ctx.header('x-access-level'))) {
    confidence = Math.max(confidence, 0.8);
    evidence.push(ev('header:x-transaction-id', ctx.header('x-transaction-id')!));
  }
  return { confidence, evidence };
}

const upgradeFix: Fix = {
  title: 'In the X developer portal, put the App in a Project whose access level (Free / Basic / Pro / Enterprise) includes this endpoint, then regenerate its keys and tokens',
  difficulty: 'medium',
  commands: [`open ${PORTAL}`],
  verify: 'The App is listed under a Project in the portal, with the access level the endpoint’s reference page requires; the same call with regenerated tokens succeeds.',
  docs: 'https://docs.x.com/x-api/getting-started/about-x-api',
};

export default defineRule({
  meta: {
    id: 'x-api',
    kind: 'producer',
    product: 'x-api',
    layer: 'application',
    description: 'X (Twitter) API errors: client-not-enrolled / access level (v2 client-forbidden, v1.1 code 453), unsupported authentication type, 401 Unauthorized, usage caps and rate limits.',
    docs: [
      'https://docs.x.com/x-api/fundamentals/response-codes-and-errors',
      'https://developer.x.com/en/support/x-api/error-troubleshooting',
      'https://docs.x.com/resources/fundamentals/authentication/overview',
      'https://docs.x.com/x-api/fundamentals/rate-limits',
    ],
    causes: ['feature-disabled', 'credential-malformed', 'credential-invalid', 'credential-missing', 'rate-limited', 'not-owner'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'x-api' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    const p = problem(ctx);
    const v1 = v1Errors(ctx);
    const causes: CauseClaim[] = [];
    const pEv = p ? [ev('body:title', p.title ?? ''), ...(p.detail ? [ev('body:detail', p.detail)] : []), ...(p.reason ? [ev('body:reason', p.reason)] : [])] : [];

    if (p?.slug === 'client-forbidden' || p?.reason === 'client-not-enrolled' || v1.some((e) => e.code === 453)) {
      const e453 = v1.find((e) => e.code === 453);
      causes.push({
        id: 'feature-disabled',
        weight: 0.9,
        summary: e453
          ? 'The App’s access level does not include this endpoint (X error 453): the Free tier reaches only a few v2 endpoints and almost no v1.1 ones. The credentials are fine.'
          : 'X refused the App itself (client-not-enrolled): it is not attached to a Project, or its access level does not include this endpoint. The credentials are fine.',
        evidence: e453 ? [ev('body:errors[].code', `453: ${e453.message}`)] : pEv,
        gap: { required: [p && typeof (ctx.body.json as Record<string, unknown>).required_enrollment === 'string' ? String((ctx.body.json as Record<string, unknown>).required_enrollment) : 'an access level that includes this endpoint'], held: [] },
        fixes: [upgradeFix, ...(e453 ? [{ title: 'Move the call to the v2 equivalent of this v1.1 endpoint', difficulty: 'medium' as const, docs: 'https://docs.x.com/x-api/migrate/x-api-endpoint-map' }] : [])],
      });
    }

    if (p?.slug === 'unsupported-authentication') {
      const used = /Authenticating with (.+?) is forbidden/i.exec(p.detail ?? '')?.[1];
      const supported = /Supported authentication types are \[([^\]]*)\]/i.exec(p.detail ?? '')?.[1]?.split(/,\s*/).filter(Boolean) ?? [];
      const appOnly = /Application-Only/i.test(used ?? '');
      causes.push({
        id: 'credential-malformed',
        weight: 0.9,
        summary: `The endpoint does not accept ${used ?? 'this kind of authentication'}${supported.length ? `; it takes ${supported.join(' or ')}` : ''}. The token is valid, but of the wrong kind.`,
        evidence: pEv,
        gap: { required: supported, held: used ? [used] : [] },
        fixes: [
          appOnly
            ? {
                title: 'Call this endpoint on behalf of a user: an OAuth 2.0 user-context token (Authorization Code with PKCE) or OAuth 1.0a user access token, not the App’s bearer token',
                difficulty: 'medium',
                commands: ['open https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code'],
                verify: 'GET https://api.x.com/2/users/me with the new token answers 200 with your user.',
                docs: 'https://docs.x.com/resources/fundamentals/authentication/overview',
              }
            : {
                title: `Authenticate as the endpoint requires (${supported.join(' or ') || 'see its reference page'})`,
                difficulty: 'medium',
                commands: ['curl -s -u "$API_KEY:$API_SECRET" -d grant_type=client_credentials https://api.x.com/oauth2/token'],
                verify: 'The same call with the new kind of token answers 200.',
                docs: 'https://docs.x.com/resources/fundamentals/authentication/overview',
              },
        ],
      });
    }

    if (p?.slug === 'usage-capped' || (ctx.status === 429 && sig.confidence >= 0.5)) {
      const reset = ctx.header('x-rate-limit-reset');
      causes.push({
        id: 'rate-limited',
        weight: 0.85,
        summary: `X’s ${p?.slug === 'usage-capped' ? 'monthly usage cap' : 'rate limit'} for this App/endpoint is used up${reset ? `; it resets at ${new Date(Number(reset) * 1000).toISOString()}` : ''}.`,
        evidence: [...pEv, ...(reset ? [ev('header:x-rate-limit-reset', reset)] : [])],
        fixes: [{ title: 'Wait for x-rate-limit-reset and back off; check usage in the portal', difficulty: 'easy', commands: [`open ${PORTAL}`], verify: 'x-rate-limit-remaining is above 0 again.', docs: 'https://docs.x.com/x-api/fundamentals/rate-limits' }],
      });
    }

    if (p?.slug === 'not-authorized-for-resource') {
      causes.push({ id: 'not-owner', weight: 0.7, summary: 'The authenticated user may not see or act on this resource (protected account, someone else’s List or bookmark).', evidence: pEv, fixes: [{ title: 'Use a token of the user who owns or may see the resource', difficulty: 'medium' }] });
    }

    if (ctx.status === 401 && sig.confidence >= 0.5 && !causes.length) {
      const auth = ctx.requestHeader('authorization');
      causes.push(
        auth
          ? {
              id: 'credential-invalid',
              weight: 0.75,
              summary: 'X did not accept the credentials: a regenerated or revoked token, an expired OAuth 2.0 access token (2 hours without offline.access), or an OAuth 1.0a signature that does not verify.',
              evidence: [...pEv, ev('request-header:authorization', `${auth.split(/\s+/)[0]} …`)],
              fixes: [{ title: 'Regenerate the App’s keys and tokens in the portal (or refresh the OAuth 2.0 token) and retry', difficulty: 'easy', commands: [`open ${PORTAL}`, 'curl -s -H "Authorization: Bearer $X_BEARER_TOKEN" https://api.x.com/2/users/by/username/XDevelopers'], verify: 'The call answers 200.' }],
            }
          : { id: 'credential-missing', weight: 0.8, summary: 'No credentials reached the X API; every endpoint needs a bearer token or OAuth 1.0a signature.', evidence: pEv, fixes: [{ title: 'Send the App’s bearer token', difficulty: 'easy', commands: ['curl -s -H "Authorization: Bearer $X_BEARER_TOKEN" https://api.x.com/2/users/by/username/XDevelopers'] }] },
      );
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
