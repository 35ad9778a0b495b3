// The X (Twitter) API: v2 answers errors as problem details whose type URIs
// live under https://api.twitter.com/2/problems/ (or api.x.com): client-forbidden
// with reason client-not-enrolled (the App is not in a Project, or its access
// level lacks the endpoint), unsupported-authentication (app-only token where
// user context is required, or the reverse; the detail lists what the
// endpoint supports), usage-capped. v1.1 answers {"errors":[{"message","code"}]},
// code 453 being "You currently have access to a subset of X API V2
// endpoints…": the plan, not the credential.
import { defineProducer, ev, signals } from '../define.ts';
import type { Context, Fix } from '../define.ts';
import { epochSeconds, jsonObject, rateLimited, stringOf } from '../_lib/saas-api.ts';

const HOST = /^api\.(twitter|x)\.com$/i;
const PROBLEMS = /^https:\/\/api\.(?:twitter|x)\.com\/2\/problems\/([\w-]+)/;
const PORTAL = 'https://developer.x.com/en/portal/dashboard';
const AUTH_DOC = 'https://docs.x.com/resources/fundamentals/authentication/overview';
const RATE_LIMITS_DOC = 'https://docs.x.com/x-api/fundamentals/rate-limits';
const TRY_BEARER =
  'curl -s -H "Authorization: Bearer $X_BEARER_TOKEN" https://api.x.com/2/users/by/username/XDevelopers';

const UPGRADE: Fix = {
  title:
    'In the X developer portal, put the App in a Project whose access level (Free / Basic / Pro / Enterprise) includes this endpoint, then regenerate its keys and tokens',
  difficulty: 'medium',
  commands: [`open ${PORTAL}`],
  verify:
    'The App is listed under a Project in the portal, with the access level the endpoint’s reference page requires; the same call with regenerated tokens succeeds.',
  docs: 'https://docs.x.com/x-api/getting-started/about-x-api',
};

const MOVE_TO_V2: Fix = {
  title: 'Move the call to the v2 equivalent of this v1.1 endpoint',
  difficulty: 'medium',
  docs: 'https://docs.x.com/x-api/migrate/x-api-endpoint-map',
};

const USER_CONTEXT: Fix = {
  title:
    'Call this endpoint on behalf of a user: an OAuth 2.0 user-context token (Authorization Code with PKCE) or OAuth 1.0a user access token, not the App’s bearer token',
  difficulty: 'medium',
  commands: ['open https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code'],
  verify: 'GET https://api.x.com/2/users/me with the new token answers 200 with your user.',
  docs: AUTH_DOC,
};

/** Authenticate as the endpoint lists (an app-only bearer token by default). */
const authenticateAs = (supported: string[]): Fix => ({
  title: `Authenticate as the endpoint requires (${supported.join(' or ') || 'see its reference page'})`,
  difficulty: 'medium',
  commands: ['curl -s -u "$API_KEY:$API_SECRET" -d grant_type=client_credentials https://api.x.com/oauth2/token'],
  verify: 'The same call with the new kind of token answers 200.',
  docs: AUTH_DOC,
});

const WAIT_FOR_RESET: Fix = {
  title: 'Wait for x-rate-limit-reset and back off; check usage in the portal',
  difficulty: 'easy',
  commands: [`open ${PORTAL}`],
  verify: 'x-rate-limit-remaining is above 0 again.',
  docs: RATE_LIMITS_DOC,
};

const REGENERATE: Fix = {
  title: 'Regenerate the App’s keys and tokens in the portal (or refresh the OAuth 2.0 token) and retry',
  difficulty: 'easy',
  commands: [`open ${PORTAL}`, TRY_BEARER],
  verify: 'The call answers 200.',
};

const SEND_BEARER: Fix = { title: 'Send the App’s bearer token', difficulty: 'easy', commands: [TRY_BEARER] };
const OWNER_TOKEN: Fix = { title: 'Use a token of the user who owns or may see the resource', difficulty: 'medium' };

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
    description:
      'X (Twitter) API errors: client-not-enrolled / access level (v2 client-forbidden, v1.1 code 453), unsupported authentication type, 401 Unauthorized, usage caps and rate limits.',
    docs: [
      'https://docs.x.com/x-api/fundamentals/response-codes-and-errors',
      'https://developer.x.com/en/support/x-api/error-troubleshooting',
      AUTH_DOC,
      RATE_LIMITS_DOC,
    ],
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
    messages: {
      accessLevel:
        'The App’s access level does not include this endpoint (X error 453): the Free tier reaches only a few v2 endpoints and almost no v1.1 ones. The credentials are fine.',
      notEnrolled:
        'X refused the App itself (client-not-enrolled): it is not attached to a Project, or its access level does not include this endpoint. The credentials are fine.',
      wrongKind: 'The endpoint does not accept {{used}}. The token is valid, but of the wrong kind.',
      wrongKindSupported:
        'The endpoint does not accept {{used}}; it takes {{supported}}. The token is valid, but of the wrong kind.',
      usedUp: 'X’s {{limit}} for this App/endpoint is used up.',
      usedUpReset: 'X’s {{limit}} for this App/endpoint is used up; it resets at {{reset}}.',
      notAuthorized:
        'The authenticated user may not see or act on this resource (protected account, someone else’s List or bookmark).',
      invalid:
        'X did not accept the credentials: a regenerated or revoked token, an expired OAuth 2.0 access token (2 hours without offline.access), or an OAuth 1.0a signature that does not verify.',
      missing: 'No credentials reached the X API; every endpoint needs a bearer token or OAuth 1.0a signature.',
    },
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
        fixes: [UPGRADE, ...(e453 ? [MOVE_TO_V2] : [])],
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
        data: { used: used ?? 'this kind of authentication', supported: supported.join(' or ') },
        evidence: pEv,
        gap: { required: supported, held: used ? [used] : [] },
        fixes: [/Application-Only/i.test(used ?? '') ? USER_CONTEXT : authenticateAs(supported)],
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
        fixes: [WAIT_FOR_RESET],
      });
    }

    const notAuthorized = p?.slug === 'not-authorized-for-resource';
    if (notAuthorized) report.claim('not-owner', 'notAuthorized', 0.7, { evidence: pEv, fixes: [OWNER_TOKEN] });

    // A plain 401 from a recognised X response is about the credential.
    if (ctx.status === 401 && recognised.confidence >= 0.5 && !(notEnrolled || wrongKind || limited || notAuthorized)) {
      const auth = ctx.requestHeader('authorization');
      if (auth) {
        const sent = ev('request-header:authorization', `${auth.split(/\s+/)[0]} …`);
        report.claim('credential-invalid', 'invalid', 0.75, { evidence: [...pEv, sent], fixes: [REGENERATE] });
      } else report.claim('credential-missing', 'missing', 0.8, { evidence: pEv, fixes: [SEND_BEARER] });
    }
  },
});
