// GitHub's REST API: every error is {"message", "documentation_url"} pointing
// at docs.github.com, with x-github-* headers. The message is a fixed string per
// reason, and the permission headers name the near miss: what the endpoint
// accepts (x-accepted-github-permissions, x-accepted-oauth-scopes) against
// what a classic token holds (x-oauth-scopes).
import { defineProducer, ev, signals } from '../define.ts';
import type { Context, Fix } from '../define.ts';
import { epochSeconds, headerEvidence, headerSignals, jsonObject } from '../_lib/saas-api.ts';

const DOC_HOSTS = /^https?:\/\/(docs|developer|help)\.github\.com(\/|$)/;
const GITHUB_HEADERS = [
  'x-github-request-id',
  'x-github-sso',
  'x-accepted-github-permissions',
  'x-github-media-type',
  'x-github-api-version-selected',
];
const DOCS = 'https://docs.github.com/en';
const REST_DOCS = `${DOCS}/rest/using-the-rest-api`;
const TOKENS_PAGE = 'open https://github.com/settings/tokens';
const WITH_TOKEN = '-H "Authorization: Bearer $GITHUB_TOKEN"';

// ---- Fixes -------------------------------------------------------------------------------------

const RATE_LIMIT_CHECK: Fix = {
  title: 'Check the remaining quota for this token (does not count against the primary limit)',
  difficulty: 'easy',
  commands: ['gh api rate_limit', `curl -s ${WITH_TOKEN} https://api.github.com/rate_limit`],
  docs: `${REST_DOCS}/rate-limits-for-the-rest-api`,
};

const AUTHENTICATE: Fix = {
  title: 'Authenticate the requests: unauthenticated calls get 60 per hour per IP, a token gets 5,000',
  difficulty: 'easy',
  commands: [`curl ${WITH_TOKEN} https://api.github.com/…`],
};

const CACHE: Fix = {
  title: 'Cache responses and use conditional requests (If-None-Match); 304s do not count',
  difficulty: 'medium',
  docs: `${REST_DOCS}/best-practices-for-using-the-rest-api`,
};

const SERIALIZE: Fix = {
  title: 'Serialize requests, avoid bursts of content creation, and pause between mutating calls',
  difficulty: 'medium',
  docs: `${REST_DOCS}/best-practices-for-using-the-rest-api#avoid-concurrent-requests`,
};

const APP_PERMISSION: Fix = {
  title:
    'For a GitHub App, add the permission in the app’s settings and have the installation accept the change; installation tokens cannot call user-only endpoints such as GET /user',
  difficulty: 'medium',
  docs: `${DOCS}/apps/using-github-apps/approving-updated-permissions-for-a-github-app`,
};

const EDIT_FINE_GRAINED: Fix = {
  title: 'Edit the fine-grained token: add the repository and the permission the endpoint lists',
  difficulty: 'easy',
  commands: ['open https://github.com/settings/personal-access-tokens'],
  docs: `${DOCS}/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens`,
};

const UNARCHIVE: Fix = {
  title: 'Unarchive the repository (needs admin) or write elsewhere',
  difficulty: 'medium',
  commands: ['gh repo unarchive OWNER/REPO'],
  docs: `${DOCS}/repositories/archiving-a-github-repository/archiving-repositories`,
};

const APPROVE_OAUTH_APP: Fix = {
  title: 'Ask an organization owner to approve the OAuth app, or use a token the organization accepts',
  difficulty: 'medium',
  docs: `${DOCS}/organizations/managing-oauth-access-to-your-organizations-data/about-oauth-app-access-restrictions`,
};

const BAD_CREDENTIALS_FIXES: Fix[] = [
  {
    title: 'Check which token is sent and that it belongs to this host (github.com vs a GHES instance)',
    difficulty: 'easy',
    commands: ['gh auth status', `curl -s -o /dev/null -w "%{http_code}\\n" ${WITH_TOKEN} https://api.github.com/user`],
  },
  { title: 'Create a new token if it was revoked or regenerated', difficulty: 'easy', commands: [TOKENS_PAGE] },
];

const EXPIRED_FIX: Fix = {
  title: 'Check the token’s expiration date in the token settings and regenerate it',
  difficulty: 'easy',
  commands: [TOKENS_PAGE],
};
const STOP_BAD_LOGINS: Fix = {
  title: 'Stop the client that keeps sending the bad credential, wait, then retry with a valid token',
  difficulty: 'easy',
};

/** For GITHUB_TOKEN, the workflow's permissions block granting the first accepted set. */
function workflowPermissions(sets: string[][]): Fix {
  return {
    title: 'In a GitHub Actions workflow, grant the permission to GITHUB_TOKEN in the job’s permissions block',
    difficulty: 'easy',
    commands: sets.length
      ? ['permissions:', ...sets[0].map((p) => `  ${p.replace(/=/, ': ').replace(/_/g, '-')}`)]
      : ['permissions:', '  contents: write   # the permission the endpoint lists'],
    docs: `${DOCS}/actions/security-for-github-actions/security-guides/automatic-token-authentication#modifying-the-permissions-for-the-github_token`,
  };
}

function readAcceptedPermissions(ctx: Context): Fix {
  return {
    title: 'Read the permissions the endpoint accepts from the response itself',
    difficulty: 'easy',
    commands: [
      `curl -sI ${WITH_TOKEN} ${ctx.url?.href ?? 'https://api.github.com/…'} | grep -i x-accepted-github-permissions`,
    ],
    docs: `${REST_DOCS}/troubleshooting-the-rest-api#resource-not-accessible`,
  };
}

function addScope(scope: string): Fix {
  return {
    title: `Add the scope ${scope} to the token (or create a new one with it)`,
    difficulty: 'easy',
    commands: [TOKENS_PAGE, `gh auth refresh -s ${scope}   # for the gh CLI’s own token`],
    docs: `${DOCS}/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps`,
  };
}

function checkRepoRole(ctx: Context): Fix {
  const repo = /^\/repos\/[^/]+\/[^/]+/.exec(ctx.url?.pathname ?? '')?.[0].slice(1) ?? 'repos/OWNER/REPO';
  return {
    title: 'Check your role on the repository, and ask an admin to raise it or to make the change',
    difficulty: 'medium',
    commands: [`gh api ${repo} --jq .permissions`],
    verify: '"admin": true in the permissions object.',
  };
}

function authorizeSso(url: string | undefined): Fix {
  return {
    title: url
      ? 'Open the authorization URL GitHub sent in x-github-sso and authorize the token for the organization'
      : 'Authorize the token for the organization’s SSO (Settings → Developer settings → Tokens → Configure SSO → Authorize)',
    difficulty: 'easy',
    commands: url ? [`open '${url}'`] : [TOKENS_PAGE],
    verify: 'The same request no longer returns the SAML message.',
    docs: `${DOCS}/authentication/authenticating-with-saml-single-sign-on/authorizing-a-personal-access-token-for-use-with-saml-single-sign-on`,
  };
}

function sendToken(ctx: Context): Fix {
  return {
    title: 'Send the token in the Authorization header',
    difficulty: 'easy',
    commands: [`curl ${WITH_TOKEN} ${ctx.url?.href ?? 'https://api.github.com/…'}`],
  };
}

// ---- Reading the response ----------------------------------------------------------------------

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** "pull_requests=read,contents=read; issues=read,contents=read" → alternative permission sets. */
function acceptedPermissionSets(v: string | undefined): string[][] {
  return (v ?? '')
    .split(';')
    .map((set) => list(set))
    .filter((set) => set.length);
}

function githubMessage(ctx: Context): { message: string; documentationUrl?: string } | undefined {
  const j = jsonObject(ctx);
  if (!j || typeof j.message !== 'string') return undefined;
  return {
    message: j.message,
    documentationUrl: typeof j.documentation_url === 'string' ? j.documentation_url : undefined,
  };
}

export default defineProducer({
  meta: {
    id: 'github',
    product: 'github',
    layer: 'application',
    description:
      'GitHub REST API errors: missing token permissions (integration / fine-grained PAT / classic scopes), admin rights, primary and secondary rate limits, SAML SSO enforcement, archived repositories, bad credentials.',
    docs: [
      `${REST_DOCS}/troubleshooting-the-rest-api`,
      `${REST_DOCS}/rate-limits-for-the-rest-api`,
      `${DOCS}/rest/overview/other-authentication-methods#authenticating-for-saml-sso`,
      `${DOCS}/rest/overview/resources-in-the-rest-api#failed-login-limit`,
    ],
    causes: [
      'insufficient-scope',
      'insufficient-role',
      'rate-limited',
      'account-state',
      'resource-state',
      'credential-invalid',
      'credential-expired',
      'credential-missing',
      'resource-policy',
    ],
    statuses: [401, 403, 429],
    messages: {
      notAccessible:
        'The {{who}} is authenticated but lacks a permission this endpoint needs (the endpoint’s documentation lists it).',
      notAccessibleNamed: 'The {{who}} is authenticated but lacks a permission this endpoint needs: {{permissions}}.',
      classicScopes: 'The classic token holds the scopes [{{held}}] but this endpoint accepts [{{accepted}}].',
      adminRights:
        'The token’s user is not an admin of this repository; this endpoint needs admin rights, whatever the token’s scopes.',
      primary: 'GitHub’s primary rate limit is used up; this 403 is not a permission problem.',
      primaryLimit:
        'GitHub’s primary rate limit is used up ({{limit}} requests per hour); this 403 is not a permission problem.',
      primaryReset:
        'GitHub’s primary rate limit is used up; this 403 is not a permission problem. The window resets at {{reset}}.',
      primaryLimitReset:
        'GitHub’s primary rate limit is used up ({{limit}} requests per hour); this 403 is not a permission problem. The window resets at {{reset}}.',
      secondary:
        'GitHub’s secondary rate limit stopped the request (too many concurrent requests, too fast, or too much content creation); this 403 is not a permission problem.',
      secondaryRetry:
        'GitHub’s secondary rate limit stopped the request (too many concurrent requests, too fast, or too much content creation); this 403 is not a permission problem. Retry after {{retry}} s.',
      samlSso:
        'The organization enforces SAML single sign-on and this token has not been authorized for it; the token is otherwise valid.',
      archived: 'The repository is archived: every write is refused until it is unarchived, whatever your permissions.',
      oauthRestrictions:
        'The organization restricts OAuth app access and has not approved the app that issued this token.',
      badCredentials:
        'GitHub did not accept the token: it is mistyped, revoked, or was never valid for this GitHub host.',
      maybeExpired: 'GitHub answers an expired token with the same “Bad credentials”.',
      requiresAuthentication: 'No token reached GitHub for an endpoint that needs one.',
      loginAttempts:
        'After several requests with invalid credentials GitHub temporarily refuses every authentication attempt for this user, even valid ones.',
    },
  },
  recognise(ctx) {
    const found = headerSignals(signals(), ctx, 0.95, GITHUB_HEADERS);
    const docUrl = githubMessage(ctx)?.documentationUrl;
    if (docUrl && DOC_HOSTS.test(docUrl)) found.add(0.92, ev('body:documentation_url', docUrl));
    const host = ctx.url?.hostname ?? '';
    if (host === 'api.github.com') found.add(0.9, ev('request:url', `host ${host}`));
    // x-ratelimit-* alone is used by many APIs; with x-oauth-scopes it is GitHub's set.
    const resource = ctx.header('x-ratelimit-resource');
    if (resource || (ctx.header('x-ratelimit-remaining') && ctx.header('x-oauth-scopes') !== undefined))
      found.add(0.6, ev('header:x-ratelimit-resource', resource ?? 'x-ratelimit-* with x-oauth-scopes'));
    return found.result();
  },
  explain(ctx, _recognised, report) {
    const err = githubMessage(ctx);
    const msg = err?.message ?? '';
    const msgEv = err ? [ev('body:message', msg)] : [];

    const notAccessible = /Resource not accessible by (integration|personal access token)/i.exec(msg);
    if (notAccessible) {
      const accepted = ctx.header('x-accepted-github-permissions');
      const sets = acceptedPermissionSets(accepted);
      const isApp = notAccessible[1].toLowerCase() === 'integration';
      report.claim('insufficient-scope', sets.length ? 'notAccessibleNamed' : 'notAccessible', 0.9, {
        data: {
          who: isApp ? 'GitHub App / GITHUB_TOKEN' : 'fine-grained personal access token',
          permissions: sets.map((s) => s.join(' + ')).join(', or '),
        },
        evidence: [...msgEv, ...(accepted ? [ev('header:x-accepted-github-permissions', accepted)] : [])],
        ...(sets.length ? { gap: { required: sets[0], held: [] } } : {}),
        fixes: [
          ...(isApp ? [workflowPermissions(sets), APP_PERMISSION] : [EDIT_FINE_GRAINED]),
          readAcceptedPermissions(ctx),
        ],
      });
    }

    const acceptedScopes = ctx.header('x-accepted-oauth-scopes');
    const heldScopes = ctx.header('x-oauth-scopes');
    if (acceptedScopes !== undefined && heldScopes !== undefined && !notAccessible) {
      const want = list(acceptedScopes);
      const have = list(heldScopes);
      // Classic scopes are hierarchical (repo covers public_repo); only claim when none of the accepted ones is held.
      if (want.length && want.every((s) => !have.includes(s)))
        report.claim('insufficient-scope', 'classicScopes', 0.75, {
          data: { held: have.join(', ') || 'none', accepted: want.join(', ') },
          evidence: [
            ev('header:x-accepted-oauth-scopes', acceptedScopes),
            ev('header:x-oauth-scopes', heldScopes),
            ...msgEv,
          ],
          gap: { required: want, held: have },
          fixes: [addScope(want[0])],
        });
    }

    if (/Must have admin rights/i.test(msg))
      report.claim('insufficient-role', 'adminRights', 0.85, {
        evidence: msgEv,
        gap: { required: ['admin role on the repository'], held: [] },
        fixes: [checkRepoRole(ctx)],
      });

    const remaining = ctx.header('x-ratelimit-remaining');
    if (/API rate limit exceeded/i.test(msg) || (remaining === '0' && !/secondary rate limit/i.test(msg))) {
      const reset = ctx.header('x-ratelimit-reset');
      const at = epochSeconds(reset);
      const limit = ctx.header('x-ratelimit-limit');
      const wait: Fix = {
        title: `Wait until ${at ?? 'the time in x-ratelimit-reset'} before retrying`,
        difficulty: 'easy',
        verify: 'x-ratelimit-remaining is above 0 again.',
      };
      report.claim(
        'rate-limited',
        limit ? (at ? 'primaryLimitReset' : 'primaryLimit') : at ? 'primaryReset' : 'primary',
        0.92,
        {
          data: { limit, reset: at },
          evidence: [
            ...msgEv,
            ...(remaining !== undefined ? [ev('header:x-ratelimit-remaining', remaining)] : []),
            ...(at ? [ev('header:x-ratelimit-reset', `${reset} (${at})`)] : []),
          ],
          fixes: [
            wait,
            /Authenticated requests get a higher rate limit/i.test(msg) ? AUTHENTICATE : CACHE,
            RATE_LIMIT_CHECK,
          ],
        },
      );
    }

    if (/secondary rate limit/i.test(msg)) {
      const retry = ctx.header('retry-after');
      const wait: Fix = {
        title: retry
          ? `Wait ${retry} seconds (retry-after) before the next request`
          : 'Wait at least a minute, then back off exponentially',
        difficulty: 'easy',
      };
      report.claim('rate-limited', retry ? 'secondaryRetry' : 'secondary', 0.9, {
        data: { retry },
        evidence: [...msgEv, ...headerEvidence(ctx, ['retry-after'])],
        fixes: [wait, SERIALIZE],
      });
    }

    const sso = ctx.header('x-github-sso');
    if (/SAML enforcement/i.test(msg) || (sso && /^required/i.test(sso)))
      report.claim('account-state', 'samlSso', 0.9, {
        evidence: [...msgEv, ...(sso ? [ev('header:x-github-sso', sso)] : [])],
        fixes: [authorizeSso(/url=(\S+)/.exec(sso ?? '')?.[1])],
      });

    if (/archived so is read-only/i.test(msg))
      report.claim('resource-state', 'archived', 0.92, { evidence: msgEv, fixes: [UNARCHIVE] });
    if (/has enabled OAuth App access restrictions/i.test(msg))
      report.claim('resource-policy', 'oauthRestrictions', 0.85, { evidence: msgEv, fixes: [APPROVE_OAUTH_APP] });
    if (/^Bad credentials$/i.test(msg.trim())) {
      report.claim('credential-invalid', 'badCredentials', 0.85, { evidence: msgEv, fixes: BAD_CREDENTIALS_FIXES });
      report.claim('credential-expired', 'maybeExpired', 0.3, { evidence: msgEv, fixes: [EXPIRED_FIX] });
    }
    if (/^Requires authentication$/i.test(msg.trim()))
      report.claim('credential-missing', 'requiresAuthentication', 0.85, { evidence: msgEv, fixes: [sendToken(ctx)] });
    if (/Maximum number of login attempts exceeded/i.test(msg))
      report.claim('rate-limited', 'loginAttempts', 0.8, { evidence: msgEv, fixes: [STOP_BAD_LOGINS] });
  },
});
