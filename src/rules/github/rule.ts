// GitHub's REST API: every error is {"message", "documentation_url"} pointing
// at docs.github.com, with x-github-* headers. The message is a fixed string per
// reason, and the permission headers name the near miss: what the endpoint
// accepts (x-accepted-github-permissions, x-accepted-oauth-scopes) against
// what a classic token holds (x-oauth-scopes).
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const DOC_HOSTS = /^https?:\/\/(docs|developer|help)\.github\.com(\/|$)/;

interface GitHubError {
  message: string;
  documentationUrl?: string;
}

function githubError(ctx: Context): GitHubError | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || typeof j.message !== 'string') return undefined;
  return { message: j.message, documentationUrl: typeof j.documentation_url === 'string' ? j.documentation_url : undefined };
}

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  for (const h of ['x-github-request-id', 'x-github-sso', 'x-accepted-github-permissions', 'x-github-media-type', 'x-github-api-version-selected']) {
    const v = ctx.header(h);
    if (v) bump(0.95, ev(`header:${h}`, v));
  }
  const err = githubError(ctx);
  if (err?.documentationUrl && DOC_HOSTS.test(err.documentationUrl)) bump(0.92, ev('body:documentation_url', err.documentationUrl));
  const host = ctx.url?.hostname ?? '';
  if (host === 'api.github.com') bump(0.9, ev('request:url', `host ${host}`));
  // x-ratelimit-* alone is used by many APIs; with x-oauth-scopes it is GitHub's set.
  if (ctx.header('x-ratelimit-resource') || (ctx.header('x-ratelimit-remaining') && ctx.header('x-oauth-scopes') !== undefined)) bump(0.6, ev('header:x-ratelimit-resource', ctx.header('x-ratelimit-resource') ?? 'x-ratelimit-* with x-oauth-scopes'));
  return { confidence, evidence };
}

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** "pull_requests=read,contents=read; issues=read,contents=read" → alternative permission sets. */
function acceptedPermissionSets(v: string | undefined): string[][] {
  return (v ?? '').split(';').map((set) => list(set)).filter((set) => set.length);
}

function resetTime(ctx: Context): string | undefined {
  const reset = Number(ctx.header('x-ratelimit-reset'));
  return Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : undefined;
}

const rateLimitCheck: Fix = {
  title: 'Check the remaining quota for this token (does not count against the primary limit)',
  difficulty: 'easy',
  commands: ['gh api rate_limit', 'curl -s -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/rate_limit'],
  docs: 'https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api',
};

export default defineRule({
  meta: {
    id: 'github',
    kind: 'producer',
    product: 'github',
    layer: 'application',
    description: 'GitHub REST API errors: missing token permissions (integration / fine-grained PAT / classic scopes), admin rights, primary and secondary rate limits, SAML SSO enforcement, archived repositories, bad credentials.',
    docs: [
      'https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api',
      'https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api',
      'https://docs.github.com/en/rest/overview/other-authentication-methods#authenticating-for-saml-sso',
      'https://docs.github.com/en/rest/overview/resources-in-the-rest-api#failed-login-limit',
    ],
    causes: ['insufficient-scope', 'insufficient-role', 'rate-limited', 'account-state', 'resource-state', 'credential-invalid', 'credential-expired', 'credential-missing', 'resource-policy'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'github' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403 && ctx.status !== 429) return { producer };
    const err = githubError(ctx);
    const msg = err?.message ?? '';
    const msgEv = err ? [ev('body:message', msg)] : [];
    const causes: CauseClaim[] = [];

    const accepted = ctx.header('x-accepted-github-permissions');
    const acceptedScopes = ctx.header('x-accepted-oauth-scopes');
    const heldScopes = ctx.header('x-oauth-scopes');
    const sso = ctx.header('x-github-sso');
    const remaining = ctx.header('x-ratelimit-remaining');

    const m = /Resource not accessible by (integration|personal access token)/i.exec(msg);
    if (m) {
      const sets = acceptedPermissionSets(accepted);
      const isApp = m[1].toLowerCase() === 'integration';
      causes.push({
        id: 'insufficient-scope',
        weight: 0.9,
        summary: `The ${isApp ? 'GitHub App / GITHUB_TOKEN' : 'fine-grained personal access token'} is authenticated but lacks a permission this endpoint needs${sets.length ? `: ${sets.map((s) => s.join(' + ')).join(', or ')}` : ' (the endpoint’s documentation lists it)'}.`,
        evidence: [...msgEv, ...(accepted ? [ev('header:x-accepted-github-permissions', accepted)] : [])],
        ...(sets.length ? { gap: { required: sets[0], held: [] } } : {}),
        fixes: [
          ...(isApp
            ? [
                {
                  title: 'In a GitHub Actions workflow, grant the permission to GITHUB_TOKEN in the job’s permissions block',
                  difficulty: 'easy' as const,
                  commands: sets.length ? ['permissions:', ...sets[0].map((p) => `  ${p.replace(/=/, ': ').replace(/_/g, '-')}`)] : ['permissions:', '  contents: write   # the permission the endpoint lists'],
                  docs: 'https://docs.github.com/en/actions/security-for-github-actions/security-guides/automatic-token-authentication#modifying-the-permissions-for-the-github_token',
                },
                {
                  title: 'For a GitHub App, add the permission in the app’s settings and have the installation accept the change; installation tokens cannot call user-only endpoints such as GET /user',
                  difficulty: 'medium' as const,
                  docs: 'https://docs.github.com/en/apps/using-github-apps/approving-updated-permissions-for-a-github-app',
                },
              ]
            : [
                {
                  title: 'Edit the fine-grained token: add the repository and the permission the endpoint lists',
                  difficulty: 'easy' as const,
                  commands: ['open https://github.com/settings/personal-access-tokens'],
                  docs: 'https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens',
                },
              ]),
          {
            title: 'Read the permissions the endpoint accepts from the response itself',
            difficulty: 'easy',
            commands: [`curl -sI -H "Authorization: Bearer $GITHUB_TOKEN" ${ctx.url?.href ?? 'https://api.github.com/…'} | grep -i x-accepted-github-permissions`],
            docs: 'https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#resource-not-accessible',
          },
        ],
      });
    }

    if (acceptedScopes !== undefined && heldScopes !== undefined && !m) {
      const want = list(acceptedScopes);
      const have = list(heldScopes);
      const missing = want.filter((s) => !have.includes(s));
      // Classic scopes are hierarchical (repo covers public_repo); only claim when none of the accepted ones is held.
      if (want.length && missing.length === want.length) {
        causes.push({
          id: 'insufficient-scope',
          weight: 0.75,
          summary: `The classic token holds the scopes [${have.join(', ') || 'none'}] but this endpoint accepts [${want.join(', ')}].`,
          evidence: [ev('header:x-accepted-oauth-scopes', acceptedScopes), ev('header:x-oauth-scopes', heldScopes), ...msgEv],
          gap: { required: want, held: have },
          fixes: [
            {
              title: `Add the scope ${want[0]} to the token (or create a new one with it)`,
              difficulty: 'easy',
              commands: ['open https://github.com/settings/tokens', `gh auth refresh -s ${want[0]}   # for the gh CLI’s own token`],
              docs: 'https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps',
            },
          ],
        });
      }
    }

    if (/Must have admin rights/i.test(msg)) {
      causes.push({
        id: 'insufficient-role',
        weight: 0.85,
        summary: 'The token’s user is not an admin of this repository; this endpoint needs admin rights, whatever the token’s scopes.',
        evidence: msgEv,
        gap: { required: ['admin role on the repository'], held: [] },
        fixes: [
          {
            title: 'Check your role on the repository, and ask an admin to raise it or to make the change',
            difficulty: 'medium',
            commands: [`gh api ${/^\/repos\/[^/]+\/[^/]+/.exec(ctx.url?.pathname ?? '')?.[0].slice(1) ?? 'repos/OWNER/REPO'} --jq .permissions`],
            verify: '"admin": true in the permissions object.',
          },
        ],
      });
    }

    const primary = /API rate limit exceeded/i.test(msg) || (remaining === '0' && !/secondary rate limit/i.test(msg));
    if (primary) {
      const at = resetTime(ctx);
      causes.push({
        id: 'rate-limited',
        weight: 0.92,
        summary: `GitHub’s primary rate limit is used up${ctx.header('x-ratelimit-limit') ? ` (${ctx.header('x-ratelimit-limit')} requests per hour)` : ''}; this 403 is not a permission problem.${at ? ` The window resets at ${at}.` : ''}`,
        evidence: [...msgEv, ...(remaining !== undefined ? [ev('header:x-ratelimit-remaining', remaining)] : []), ...(at ? [ev('header:x-ratelimit-reset', `${ctx.header('x-ratelimit-reset')} (${at})`)] : [])],
        fixes: [
          { title: `Wait until ${at ?? 'the time in x-ratelimit-reset'} before retrying`, difficulty: 'easy', verify: 'x-ratelimit-remaining is above 0 again.' },
          /Authenticated requests get a higher rate limit/i.test(msg)
            ? { title: 'Authenticate the requests: unauthenticated calls get 60 per hour per IP, a token gets 5,000', difficulty: 'easy', commands: ['curl -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/…'] }
            : { title: 'Cache responses and use conditional requests (If-None-Match); 304s do not count', difficulty: 'medium', docs: 'https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api' },
          rateLimitCheck,
        ],
      });
    }

    if (/secondary rate limit/i.test(msg)) {
      const retry = ctx.header('retry-after');
      causes.push({
        id: 'rate-limited',
        weight: 0.9,
        summary: `GitHub’s secondary rate limit stopped the request (too many concurrent requests, too fast, or too much content creation); this 403 is not a permission problem.${retry ? ` Retry after ${retry} s.` : ''}`,
        evidence: [...msgEv, ...(retry ? [ev('header:retry-after', retry)] : [])],
        fixes: [
          { title: retry ? `Wait ${retry} seconds (retry-after) before the next request` : 'Wait at least a minute, then back off exponentially', difficulty: 'easy' },
          { title: 'Serialize requests, avoid bursts of content creation, and pause between mutating calls', difficulty: 'medium', docs: 'https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#avoid-concurrent-requests' },
        ],
      });
    }

    if (/SAML enforcement/i.test(msg) || (sso && /^required/i.test(sso))) {
      const url = /url=(\S+)/.exec(sso ?? '')?.[1];
      causes.push({
        id: 'account-state',
        weight: 0.9,
        summary: 'The organization enforces SAML single sign-on and this token has not been authorized for it; the token is otherwise valid.',
        evidence: [...msgEv, ...(sso ? [ev('header:x-github-sso', sso)] : [])],
        fixes: [
          {
            title: url ? 'Open the authorization URL GitHub sent in x-github-sso and authorize the token for the organization' : 'Authorize the token for the organization’s SSO (Settings → Developer settings → Tokens → Configure SSO → Authorize)',
            difficulty: 'easy',
            commands: url ? [`open '${url}'`] : ['open https://github.com/settings/tokens'],
            verify: 'The same request no longer returns the SAML message.',
            docs: 'https://docs.github.com/en/authentication/authenticating-with-saml-single-sign-on/authorizing-a-personal-access-token-for-use-with-saml-single-sign-on',
          },
        ],
      });
    }

    if (/archived so is read-only/i.test(msg)) {
      causes.push({
        id: 'resource-state',
        weight: 0.92,
        summary: 'The repository is archived: every write is refused until it is unarchived, whatever your permissions.',
        evidence: msgEv,
        fixes: [{ title: 'Unarchive the repository (needs admin) or write elsewhere', difficulty: 'medium', commands: ['gh repo unarchive OWNER/REPO'], docs: 'https://docs.github.com/en/repositories/archiving-a-github-repository/archiving-repositories' }],
      });
    }

    if (/has enabled OAuth App access restrictions/i.test(msg)) {
      causes.push({
        id: 'resource-policy',
        weight: 0.85,
        summary: 'The organization restricts OAuth app access and has not approved the app that issued this token.',
        evidence: msgEv,
        fixes: [{ title: 'Ask an organization owner to approve the OAuth app, or use a token the organization accepts', difficulty: 'medium', docs: 'https://docs.github.com/en/organizations/managing-oauth-access-to-your-organizations-data/about-oauth-app-access-restrictions' }],
      });
    }

    if (/^Bad credentials$/i.test(msg.trim())) {
      causes.push({
        id: 'credential-invalid',
        weight: 0.85,
        summary: 'GitHub did not accept the token: it is mistyped, revoked, or was never valid for this GitHub host.',
        evidence: msgEv,
        fixes: [
          { title: 'Check which token is sent and that it belongs to this host (github.com vs a GHES instance)', difficulty: 'easy', commands: ['gh auth status', 'curl -s -o /dev/null -w "%{http_code}\\n" -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/user'] },
          { title: 'Create a new token if it was revoked or regenerated', difficulty: 'easy', commands: ['open https://github.com/settings/tokens'] },
        ],
      });
      causes.push({
        id: 'credential-expired',
        weight: 0.3,
        summary: 'GitHub answers an expired token with the same “Bad credentials”.',
        evidence: msgEv,
        fixes: [{ title: 'Check the token’s expiration date in the token settings and regenerate it', difficulty: 'easy', commands: ['open https://github.com/settings/tokens'] }],
      });
    }

    if (/^Requires authentication$/i.test(msg.trim())) {
      causes.push({
        id: 'credential-missing',
        weight: 0.85,
        summary: 'No token reached GitHub for an endpoint that needs one.',
        evidence: msgEv,
        fixes: [{ title: 'Send the token in the Authorization header', difficulty: 'easy', commands: [`curl -H "Authorization: Bearer $GITHUB_TOKEN" ${ctx.url?.href ?? 'https://api.github.com/…'}`] }],
      });
    }

    if (/Maximum number of login attempts exceeded/i.test(msg)) {
      causes.push({
        id: 'rate-limited',
        weight: 0.8,
        summary: 'After several requests with invalid credentials GitHub temporarily refuses every authentication attempt for this user, even valid ones.',
        evidence: msgEv,
        fixes: [{ title: 'Stop the client that keeps sending the bad credential, wait, then retry with a valid token', difficulty: 'easy' }],
      });
    }

    return causes.length ? { producer, causes } : { producer };
  },
});
