// GitLab's REST API (Grape on Rails): errors are {"message": "401 Unauthorized"}
// style strings, except a token missing a scope, which Doorkeeper answers with
// {"error":"insufficient_scope", …, "scope":"api read_api"} naming the scopes
// that would do. GitLab-only request headers (PRIVATE-TOKEN, JOB-TOKEN) and the
// X-Gitlab-* response headers name the product when the body is this generic.
import { defineProducer, ev, signals } from '../define.ts';
import type { Context, Fix } from '../define.ts';
import { headerEvidence, headerSignals, jsonObject } from '../_lib/saas-api.ts';

const DOCS = 'https://docs.gitlab.com/api/rest/troubleshooting';
const SCOPES_DOC = 'https://docs.gitlab.com/user/profile/personal_access_tokens/#personal-access-token-scopes';
const PERMISSIONS_DOC = 'https://docs.gitlab.com/user/permissions/';
const PROTECTED_DOC = 'https://docs.gitlab.com/user/project/repository/branches/protected/';
const RATE_LIMITS_DOC = 'https://docs.gitlab.com/security/rate_limits/';
const TOKENS_PAGE = 'open https://gitlab.com/-/user_settings/personal_access_tokens';
const WITH_TOKEN = '-H "PRIVATE-TOKEN: $GITLAB_TOKEN"';

// ---- Fixes -------------------------------------------------------------------------------------

const PROTECTED_BRANCH: Fix = {
  title:
    'Push to a new branch and open a merge request, or ask a Maintainer to allow your role (Settings → Repository → Protected branches)',
  difficulty: 'medium',
  commands: ['glab api projects/:id/protected_branches'],
  verify: 'push_access_levels lists your role (or your user) for that branch.',
  docs: PROTECTED_DOC,
};

const IP_RESTRICTION: Fix = {
  title:
    'Call from an allowed network, or ask a group Owner to add your range (Group → Settings → General → Permissions and group features → Restrict access by IP address)',
  difficulty: 'medium',
  docs: 'https://docs.gitlab.com/user/group/access_and_permissions/#restrict-group-access-by-ip-address',
};

const CHECK_ROLE: Fix = {
  title:
    'Check your access level in the project (10 Guest, 15 Planner, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner) and ask an Owner or Maintainer for the role the action needs',
  difficulty: 'medium',
  commands: ['glab api "projects/:id/members/all/$(glab api user | jq .id)" | jq .access_level'],
  verify: 'access_level meets the role the permissions table lists for this action.',
  docs: PERMISSIONS_DOC,
};

const NEW_TOKEN: Fix = {
  title: 'Create a new token (User settings → Access tokens) and replace the old one',
  difficulty: 'easy',
  commands: [TOKENS_PAGE],
};

function apiBase(ctx: Context): string {
  return ctx.url ? `${ctx.url.protocol}//${ctx.url.host}/api/v4` : 'https://gitlab.example.com/api/v4';
}

const selfCheck = (ctx: Context): Fix => ({
  title: 'Ask GitLab what the token is: its user, scopes, expiry and whether it is revoked',
  difficulty: 'easy',
  commands: [`curl -s ${WITH_TOKEN} ${apiBase(ctx)}/personal_access_tokens/self`, 'glab auth status'],
  verify:
    'A 200 with "active": true, "revoked": false and the scopes you expect; a 401 means GitLab does not accept the token at all.',
  docs: 'https://docs.gitlab.com/api/personal_access_tokens/#get-single-personal-access-token',
});

/** A token with one of the accepted scopes: scopes of an existing token cannot be widened. */
function tokenWithScope(ctx: Context, accepted: string[]): Fix {
  const self = `curl -s ${WITH_TOKEN} ${apiBase(ctx)}/personal_access_tokens/self | jq .scopes`;
  return {
    title: `Create a token with the ${accepted[0] ?? 'required'} scope (User settings → Access tokens → Add new token), or edit the project/group access token; an existing token's scopes cannot be widened`,
    difficulty: 'easy',
    commands: [
      TOKENS_PAGE,
      ...(accepted.length
        ? [`glab auth login --hostname ${ctx.url?.host ?? 'gitlab.com'}   # paste the new token with ${accepted[0]}`]
        : []),
    ],
    verify: `${self}   # must list ${accepted.join(' or ') || 'the scope'}`,
    docs: SCOPES_DOC,
  };
}

function sendToken(ctx: Context): Fix {
  return {
    title: 'Send the token in the PRIVATE-TOKEN header (or Authorization: Bearer)',
    difficulty: 'easy',
    commands: [
      `curl ${WITH_TOKEN} ${ctx.url?.href ?? `${apiBase(ctx)}/projects`}`,
      `glab api ${ctx.url?.pathname.replace(/^\/api\/v4\//, '') ?? 'projects'}`,
    ],
    verify: 'The same request no longer answers 401.',
  };
}

function rotateToken(ctx: Context): Fix {
  const self = `${apiBase(ctx)}/personal_access_tokens/self`;
  return {
    ...selfCheck(ctx),
    title: 'Check the token’s expires_at, then rotate it',
    commands: [`curl -s ${WITH_TOKEN} ${self} | jq .expires_at`, `curl -s -X POST ${WITH_TOKEN} ${self}/rotate`],
  };
}

function tellApart(ctx: Context): Fix {
  return {
    title: 'Tell the two apart: fetch the current user with the same token',
    difficulty: 'easy',
    commands: [`curl -s -o /dev/null -w "%{http_code}\\n" ${WITH_TOKEN} ${apiBase(ctx)}/user`],
    verify: '200 means the token is fine and the original request was refused for permission.',
  };
}

function waitForLimit(retry: string | undefined): Fix {
  return {
    title: retry
      ? `Wait ${retry} seconds before retrying`
      : 'Back off and retry later; authenticated requests get higher limits',
    difficulty: 'easy',
    docs: RATE_LIMITS_DOC,
  };
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
    description:
      'GitLab REST API denials: unknown or expired tokens, tokens missing a scope (insufficient_scope names the scopes that would do), a member role too low for the action, protected branches, IP restrictions and rate limits.',
    docs: [DOCS, SCOPES_DOC, PERMISSIONS_DOC, PROTECTED_DOC, RATE_LIMITS_DOC],
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
    messages: {
      scope:
        'The token is valid but lacks the scope this endpoint needs. GitLab checks scopes before your role, so a token without it is refused whatever your membership.',
      scopeNamed:
        'The token is valid but lacks the scope this endpoint needs: any one of {{accepted}}. GitLab checks scopes before your role, so a token without it is refused whatever your membership.',
      noToken:
        'No token reached GitLab: the request carried neither PRIVATE-TOKEN, JOB-TOKEN nor an Authorization header.',
      unknownToken:
        'GitLab did not accept the token: it is mistyped, revoked, for another GitLab instance, or the header name is wrong. GitLab answers an unknown and an expired token with the same "401 Unauthorized".',
      expiredToken:
        'Personal, project and group access tokens expire (at most a year by default); an expired one gets the same 401.',
      unauthorizedForRole:
        'A few GitLab endpoints answer "401 Unauthorized" to a valid token whose user lacks permission; if /user works with this token, that is the case here.',
      protectedBranch:
        'The branch is protected: its "Allowed to push and merge" setting excludes your role, whatever the token’s scopes.',
      ipRestricted: 'The group restricts access by IP address and this request came from outside the allowed ranges.',
      role: 'GitLab knows who you are, but your role in this project or group does not allow this action — e.g. Developer where Maintainer is needed.',
      roleSaid:
        'GitLab knows who you are, but your role in this project or group does not allow this action (“{{message}}”) — e.g. Developer where Maintainer is needed.',
      rateLimit: 'A GitLab rate limit stopped the request; it is not a permission problem.',
      rateLimitRetry:
        'A GitLab rate limit stopped the request; it is not a permission problem. Retry after {{retry}} s.',
      namedRateLimit: 'A GitLab rate limit ({{name}}) stopped the request; it is not a permission problem.',
      namedRateLimitRetry:
        'A GitLab rate limit ({{name}}) stopped the request; it is not a permission problem. Retry after {{retry}} s.',
    },
  },
  recognise(ctx) {
    const found = headerSignals(signals(), ctx, 0.95, ['x-gitlab-meta', 'x-gitlab-feature-category'], (v) =>
      v.slice(0, 200),
    );
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
    const msg = message(ctx) ?? '';
    const msgEv = msg ? [ev('body:message', msg)] : [];

    const insufficientScope = o?.error === 'insufficient_scope';
    if (insufficientScope) {
      const accepted = typeof o.scope === 'string' ? o.scope.split(/\s+/).filter(Boolean) : [];
      report.claim('insufficient-scope', accepted.length ? 'scopeNamed' : 'scope', 0.9, {
        data: { accepted: accepted.join(', ') },
        evidence: [
          ev('body:error', 'insufficient_scope'),
          ...(accepted.length ? [ev('body:scope', String(o.scope))] : []),
          ...(typeof o.error_description === 'string' ? [ev('body:error_description', o.error_description)] : []),
        ],
        ...(accepted.length ? { gap: { required: [accepted.join(' or ')], held: [] } } : {}),
        fixes: [tokenWithScope(ctx, accepted), selfCheck(ctx)],
      });
    }

    if (ctx.status === 401 && /^401\b/.test(msg)) {
      if (tokenSent(ctx) === 'no')
        report.claim('credential-missing', 'noToken', 0.85, {
          evidence: [...msgEv, ev('request-header:private-token', 'absent')],
          fixes: [sendToken(ctx)],
        });
      else {
        report.claim('credential-invalid', 'unknownToken', 0.7, {
          evidence: msgEv,
          fixes: [selfCheck(ctx), NEW_TOKEN],
        });
        report.claim('credential-expired', 'expiredToken', 0.35, { evidence: msgEv, fixes: [rotateToken(ctx)] });
        // Some endpoints answer 401 to a valid token that lacks permission (merge, approvals reset).
        report.claim('insufficient-role', 'unauthorizedForRole', 0.15, { evidence: msgEv, fixes: [tellApart(ctx)] });
      }
    }

    if (/not allowed to push|protected branch|not allowed to (force )?push into this branch/i.test(msg))
      report.claim('resource-policy', 'protectedBranch', 0.85, { evidence: msgEv, fixes: [PROTECTED_BRANCH] });
    else if (/\bIP\b.*(not allowed|restricted)|restricted.*\bIP\b/i.test(msg))
      report.claim('ip-restricted', 'ipRestricted', 0.8, { evidence: msgEv, fixes: [IP_RESTRICTION] });
    else if (ctx.status === 403 && !insufficientScope)
      report.claim('insufficient-role', msg && !/^403\b/.test(msg) ? 'roleSaid' : 'role', 0.6, {
        data: { message: msg },
        evidence: msgEv,
        fixes: [CHECK_ROLE, selfCheck(ctx)],
      });

    if (ctx.status === 429 || /^Retry later/i.test(ctx.body.text.trim())) {
      const retry = ctx.header('retry-after');
      const name = ctx.header('ratelimit-name');
      const id = name ? (retry ? 'namedRateLimitRetry' : 'namedRateLimit') : retry ? 'rateLimitRetry' : 'rateLimit';
      report.claim('rate-limited', id, 0.85, {
        data: { name, retry },
        evidence: headerEvidence(ctx, ['ratelimit-name', 'ratelimit-remaining', 'retry-after']),
        fixes: [waitForLimit(retry)],
      });
    }
  },
});
