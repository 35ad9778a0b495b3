// GitLab's REST API (Grape on Rails): errors are {"message": "401 Unauthorized"}
// style strings, except a token missing a scope, which Doorkeeper answers with
// {"error":"insufficient_scope", …, "scope":"api read_api"} naming the scopes
// that would do. GitLab-only request headers (PRIVATE-TOKEN, JOB-TOKEN) and the
// X-Gitlab-* response headers name the product when the body is this generic.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const DOCS = 'https://docs.gitlab.com/api/rest/troubleshooting';

function bodyObject(ctx: Context): Record<string, unknown> | undefined {
  const j = ctx.body.json;
  return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
}

/** The message GitLab puts in {"message": …}; it is sometimes an object of field errors. */
function message(ctx: Context): string | undefined {
  const m = bodyObject(ctx)?.message;
  return typeof m === 'string' ? m : undefined;
}

function isApiPath(ctx: Context): boolean {
  return /^\/api\/v[34]\//.test(ctx.url?.pathname ?? '');
}

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  for (const h of ['x-gitlab-meta', 'x-gitlab-feature-category']) {
    const v = ctx.header(h);
    if (v) bump(0.95, ev(`header:${h}`, v.slice(0, 200)));
  }
  for (const h of ['private-token', 'job-token']) {
    if (ctx.requestHeader(h) !== undefined) bump(0.85, ev(`request-header:${h}`, 'a GitLab-only token header was sent'));
  }
  const host = ctx.url?.hostname ?? '';
  if (host === 'gitlab.com' || host.endsWith('.gitlab.com')) bump(0.9, ev('request:url', `host ${host}`));
  const o = bodyObject(ctx);
  // Doorkeeper's insufficient_scope body with a top-level "scope" under /api/v4 is GitLab's shape.
  if (o?.error === 'insufficient_scope' && typeof o.scope === 'string' && isApiPath(ctx)) bump(0.75, ev('body:error', 'insufficient_scope with a scope list, on an /api/v4 path'));
  // Grape's "<code> <reason>" message on an /api/v4 path.
  const m = message(ctx);
  if (m && /^\d{3} [A-Z]/.test(m) && isApiPath(ctx)) bump(0.6, ev('body:message', m));
  if (ctx.header('ratelimit-name') && /throttle/.test(ctx.header('ratelimit-name') ?? '')) bump(0.7, ev('header:ratelimit-name', ctx.header('ratelimit-name')!));
  return { confidence, evidence };
}

function apiBase(ctx: Context): string {
  return ctx.url ? `${ctx.url.protocol}//${ctx.url.host}/api/v4` : 'https://gitlab.example.com/api/v4';
}

function tokenSent(ctx: Context): 'yes' | 'no' | 'unknown' {
  if (!ctx.exchange.request) return 'unknown';
  if (ctx.requestHeader('private-token') || ctx.requestHeader('job-token') || ctx.requestHeader('authorization')) return 'yes';
  if (ctx.url?.searchParams.has('private_token') || ctx.url?.searchParams.has('access_token')) return 'yes';
  return 'no';
}

const selfCheck = (ctx: Context): Fix => ({
  title: 'Ask GitLab what the token is: its user, scopes, expiry and whether it is revoked',
  difficulty: 'easy',
  commands: [`curl -s -H "PRIVATE-TOKEN: $GITLAB_TOKEN" ${apiBase(ctx)}/personal_access_tokens/self`, 'glab auth status'],
  verify: 'A 200 with "active": true, "revoked": false and the scopes you expect; a 401 means GitLab does not accept the token at all.',
  docs: 'https://docs.gitlab.com/api/personal_access_tokens/#get-single-personal-access-token',
});

export default defineRule({
  meta: {
    id: 'gitlab',
    kind: 'producer',
    product: 'gitlab',
    layer: 'application',
    description: 'GitLab REST API denials: unknown or expired tokens, tokens missing a scope (insufficient_scope names the scopes that would do), a member role too low for the action, protected branches, IP restrictions and rate limits.',
    docs: [
      DOCS,
      'https://docs.gitlab.com/user/profile/personal_access_tokens/#personal-access-token-scopes',
      'https://docs.gitlab.com/user/permissions/',
      'https://docs.gitlab.com/user/project/repository/branches/protected/',
      'https://docs.gitlab.com/security/rate_limits/',
    ],
    causes: ['credential-missing', 'credential-invalid', 'credential-expired', 'insufficient-scope', 'insufficient-role', 'resource-policy', 'ip-restricted', 'rate-limited'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'gitlab' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403 && ctx.status !== 429) return { producer };
    const o = bodyObject(ctx);
    const msg = message(ctx) ?? '';
    const msgEv = msg ? [ev('body:message', msg)] : [];
    const causes: CauseClaim[] = [];

    if (o?.error === 'insufficient_scope') {
      const accepted = typeof o.scope === 'string' ? o.scope.split(/\s+/).filter(Boolean) : [];
      causes.push({
        id: 'insufficient-scope',
        weight: 0.9,
        summary: `The token is valid but lacks the scope this endpoint needs${accepted.length ? `: any one of ${accepted.join(', ')}` : ''}. GitLab checks scopes before your role, so a token without it is refused whatever your membership.`,
        evidence: [ev('body:error', 'insufficient_scope'), ...(accepted.length ? [ev('body:scope', String(o.scope))] : []), ...(typeof o.error_description === 'string' ? [ev('body:error_description', o.error_description)] : [])],
        ...(accepted.length ? { gap: { required: [accepted.join(' or ')], held: [] } } : {}),
        fixes: [
          {
            title: `Create a token with the ${accepted[0] ?? 'required'} scope (User settings → Access tokens → Add new token), or edit the project/group access token; an existing token's scopes cannot be widened`,
            difficulty: 'easy',
            commands: ['open https://gitlab.com/-/user_settings/personal_access_tokens', ...(accepted.length ? [`glab auth login --hostname ${ctx.url?.host ?? 'gitlab.com'}   # paste the new token with ${accepted[0]}`] : [])],
            verify: `curl -s -H "PRIVATE-TOKEN: $GITLAB_TOKEN" ${apiBase(ctx)}/personal_access_tokens/self | jq .scopes   # must list ${accepted.join(' or ') || 'the scope'}`,
            docs: 'https://docs.gitlab.com/user/profile/personal_access_tokens/#personal-access-token-scopes',
          },
          selfCheck(ctx),
        ],
      });
    }

    if (ctx.status === 401 && /^401\b/.test(msg)) {
      const sent = tokenSent(ctx);
      if (sent === 'no') {
        causes.push({
          id: 'credential-missing',
          weight: 0.85,
          summary: 'No token reached GitLab: the request carried neither PRIVATE-TOKEN, JOB-TOKEN nor an Authorization header.',
          evidence: [...msgEv, ev('request-header:private-token', 'absent')],
          fixes: [{ title: 'Send the token in the PRIVATE-TOKEN header (or Authorization: Bearer)', difficulty: 'easy', commands: [`curl -H "PRIVATE-TOKEN: $GITLAB_TOKEN" ${ctx.url?.href ?? `${apiBase(ctx)}/projects`}`, `glab api ${ctx.url?.pathname.replace(/^\/api\/v4\//, '') ?? 'projects'}`], verify: 'The same request no longer answers 401.' }],
        });
      } else {
        causes.push({
          id: 'credential-invalid',
          weight: 0.7,
          summary: 'GitLab did not accept the token: it is mistyped, revoked, for another GitLab instance, or the header name is wrong. GitLab answers an unknown and an expired token with the same "401 Unauthorized".',
          evidence: msgEv,
          fixes: [selfCheck(ctx), { title: 'Create a new token (User settings → Access tokens) and replace the old one', difficulty: 'easy', commands: ['open https://gitlab.com/-/user_settings/personal_access_tokens'] }],
        });
        causes.push({
          id: 'credential-expired',
          weight: 0.35,
          summary: 'Personal, project and group access tokens expire (at most a year by default); an expired one gets the same 401.',
          evidence: msgEv,
          fixes: [{ ...selfCheck(ctx), title: 'Check the token’s expires_at, then rotate it', commands: [`curl -s -H "PRIVATE-TOKEN: $GITLAB_TOKEN" ${apiBase(ctx)}/personal_access_tokens/self | jq .expires_at`, `curl -s -X POST -H "PRIVATE-TOKEN: $GITLAB_TOKEN" ${apiBase(ctx)}/personal_access_tokens/self/rotate`] }],
        });
        // Some endpoints answer 401 to a valid token that lacks permission (merge, approvals reset).
        causes.push({
          id: 'insufficient-role',
          weight: 0.15,
          summary: 'A few GitLab endpoints answer "401 Unauthorized" to a valid token whose user lacks permission; if /user works with this token, that is the case here.',
          evidence: msgEv,
          fixes: [{ title: 'Tell the two apart: fetch the current user with the same token', difficulty: 'easy', commands: [`curl -s -o /dev/null -w "%{http_code}\\n" -H "PRIVATE-TOKEN: $GITLAB_TOKEN" ${apiBase(ctx)}/user`], verify: '200 means the token is fine and the original request was refused for permission.' }],
        });
      }
    }

    if (/not allowed to push|protected branch|not allowed to (force )?push into this branch/i.test(msg)) {
      causes.push({
        id: 'resource-policy',
        weight: 0.85,
        summary: 'The branch is protected: its "Allowed to push and merge" setting excludes your role, whatever the token’s scopes.',
        evidence: msgEv,
        fixes: [
          {
            title: 'Push to a new branch and open a merge request, or ask a Maintainer to allow your role (Settings → Repository → Protected branches)',
            difficulty: 'medium',
            commands: [`glab api projects/:id/protected_branches`],
            verify: 'push_access_levels lists your role (or your user) for that branch.',
            docs: 'https://docs.gitlab.com/user/project/repository/branches/protected/',
          },
        ],
      });
    } else if (/\bIP\b.*(not allowed|restricted)|restricted.*\bIP\b/i.test(msg)) {
      causes.push({
        id: 'ip-restricted',
        weight: 0.8,
        summary: 'The group restricts access by IP address and this request came from outside the allowed ranges.',
        evidence: msgEv,
        fixes: [{ title: 'Call from an allowed network, or ask a group Owner to add your range (Group → Settings → General → Permissions and group features → Restrict access by IP address)', difficulty: 'medium', docs: 'https://docs.gitlab.com/user/group/access_and_permissions/#restrict-group-access-by-ip-address' }],
      });
    } else if (ctx.status === 403 && !causes.length) {
      causes.push({
        id: 'insufficient-role',
        weight: 0.6,
        summary: `GitLab knows who you are, but your role in this project or group does not allow this action${msg && !/^403\b/.test(msg) ? ` (“${msg}”)` : ''} — e.g. Developer where Maintainer is needed.`,
        evidence: msgEv,
        fixes: [
          {
            title: 'Check your access level in the project (10 Guest, 15 Planner, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner) and ask an Owner or Maintainer for the role the action needs',
            difficulty: 'medium',
            commands: [`glab api "projects/:id/members/all/$(glab api user | jq .id)" | jq .access_level`],
            verify: 'access_level meets the role the permissions table lists for this action.',
            docs: 'https://docs.gitlab.com/user/permissions/',
          },
          selfCheck(ctx),
        ],
      });
    }

    if (ctx.status === 429 || /^Retry later/i.test(ctx.body.text.trim())) {
      const retry = ctx.header('retry-after');
      const name = ctx.header('ratelimit-name');
      causes.push({
        id: 'rate-limited',
        weight: 0.85,
        summary: `A GitLab rate limit${name ? ` (${name})` : ''} stopped the request; it is not a permission problem.${retry ? ` Retry after ${retry} s.` : ''}`,
        evidence: [...(name ? [ev('header:ratelimit-name', name)] : []), ...(ctx.header('ratelimit-remaining') ? [ev('header:ratelimit-remaining', ctx.header('ratelimit-remaining')!)] : []), ...(retry ? [ev('header:retry-after', retry)] : [])],
        fixes: [{ title: retry ? `Wait ${retry} seconds before retrying` : 'Back off and retry later; authenticated requests get higher limits', difficulty: 'easy', docs: 'https://docs.gitlab.com/security/rate_limits/' }],
      });
    }

    return causes.length ? { producer, causes } : { producer };
  },
});
