// GitHub's REST API: every error is {"message", "documentation_url"} pointing
// at docs.github.com, with x-github-* headers. The message is a fixed string per
// reason, and the permission headers name the near miss: what the endpoint
// accepts (x-accepted-github-permissions, x-accepted-oauth-scopes) against
// what a classic token holds (x-oauth-scopes).
import { defineProducer, ev, formatFix, signals } from '../define.ts';
import type { Context, Fix } from '../define.ts';
import { epochSeconds, headerEvidence, jsonObject } from '../_lib/saas-api.ts';
import texts from './texts.json' with { type: 'json' };

const DOC_HOSTS = /^https?:\/\/(docs|developer|help)\.github\.com(\/|$)/;
const GITHUB_HEADERS = [
  'x-github-request-id',
  'x-github-sso',
  'x-accepted-github-permissions',
  'x-github-media-type',
  'x-github-api-version-selected',
];

/**
 * For GITHUB_TOKEN, the workflow's permissions block granting the first accepted set: one line per
 * permission the endpoint named, so the block is computed; without names it is the declared example.
 */
function workflowPermissions(sets: string[][]): Fix {
  const fix = formatFix(texts.fixes.workflowPermissions);
  if (!sets.length) return fix;
  return { ...fix, commands: ['permissions:', ...sets[0].map((p) => `  ${p.replace(/=/, ': ').replace(/_/g, '-')}`)] };
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
    ...texts,
  },
  recognise(ctx) {
    const found = signals().headers(ctx, 0.95, GITHUB_HEADERS);
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
          url: ctx.url?.href ?? 'https://api.github.com/…',
        },
        evidence: [...msgEv, ...(accepted ? [ev('header:x-accepted-github-permissions', accepted)] : [])],
        ...(sets.length ? { gap: { required: sets[0], held: [] } } : {}),
        fixes: [
          ...(isApp ? [workflowPermissions(sets), 'appPermission' as const] : ['editFineGrained' as const]),
          'readAcceptedPermissions',
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
          data: { held: have.join(', ') || 'none', accepted: want.join(', '), scope: want[0] },
          evidence: [
            ev('header:x-accepted-oauth-scopes', acceptedScopes),
            ev('header:x-oauth-scopes', heldScopes),
            ...msgEv,
          ],
          gap: { required: want, held: have },
          fixes: ['addScope'],
        });
    }

    if (/Must have admin rights/i.test(msg))
      report.claim('insufficient-role', 'adminRights', 0.85, {
        data: { repo: /^\/repos\/[^/]+\/[^/]+/.exec(ctx.url?.pathname ?? '')?.[0].slice(1) ?? 'repos/OWNER/REPO' },
        evidence: msgEv,
        gap: { required: ['admin role on the repository'], held: [] },
        fixes: ['checkRepoRole'],
      });

    const remaining = ctx.header('x-ratelimit-remaining');
    if (/API rate limit exceeded/i.test(msg) || (remaining === '0' && !/secondary rate limit/i.test(msg))) {
      const reset = ctx.header('x-ratelimit-reset');
      const at = epochSeconds(reset);
      const limit = ctx.header('x-ratelimit-limit');
      report.claim(
        'rate-limited',
        limit ? (at ? 'primaryLimitReset' : 'primaryLimit') : at ? 'primaryReset' : 'primary',
        0.92,
        {
          data: { limit, reset: at ?? 'the time in x-ratelimit-reset' },
          evidence: [
            ...msgEv,
            ...(remaining !== undefined ? [ev('header:x-ratelimit-remaining', remaining)] : []),
            ...(at ? [ev('header:x-ratelimit-reset', `${reset} (${at})`)] : []),
          ],
          fixes: [
            'waitForReset',
            /Authenticated requests get a higher rate limit/i.test(msg) ? 'authenticate' : 'cache',
            'rateLimitCheck',
          ],
        },
      );
    }

    if (/secondary rate limit/i.test(msg)) {
      const retry = ctx.header('retry-after');
      report.claim('rate-limited', retry ? 'secondaryRetry' : 'secondary', 0.9, {
        data: { retry },
        evidence: [...msgEv, ...headerEvidence(ctx, ['retry-after'])],
        fixes: [retry ? 'waitRetryAfter' : 'waitAMinute', 'serialize'],
      });
    }

    const sso = ctx.header('x-github-sso');
    if (/SAML enforcement/i.test(msg) || (sso && /^required/i.test(sso))) {
      const ssoUrl = /url=(\S+)/.exec(sso ?? '')?.[1];
      report.claim('account-state', 'samlSso', 0.9, {
        data: { ssoUrl },
        evidence: [...msgEv, ...(sso ? [ev('header:x-github-sso', sso)] : [])],
        fixes: [ssoUrl ? 'authorizeSsoUrl' : 'authorizeSso'],
      });
    }

    if (/archived so is read-only/i.test(msg))
      report.claim('resource-state', 'archived', 0.92, { evidence: msgEv, fixes: ['unarchive'] });
    if (/has enabled OAuth App access restrictions/i.test(msg))
      report.claim('resource-policy', 'oauthRestrictions', 0.85, { evidence: msgEv, fixes: ['approveOauthApp'] });
    if (/^Bad credentials$/i.test(msg.trim())) {
      report.claim('credential-invalid', 'badCredentials', 0.85, {
        evidence: msgEv,
        fixes: ['checkToken', 'newToken'],
      });
      report.claim('credential-expired', 'maybeExpired', 0.3, { evidence: msgEv, fixes: ['regenerateExpired'] });
    }
    if (/^Requires authentication$/i.test(msg.trim()))
      report.claim('credential-missing', 'requiresAuthentication', 0.85, {
        data: { url: ctx.url?.href ?? 'https://api.github.com/…' },
        evidence: msgEv,
        fixes: ['sendToken'],
      });
    if (/Maximum number of login attempts exceeded/i.test(msg))
      report.claim('rate-limited', 'loginAttempts', 0.8, { evidence: msgEv, fixes: ['stopBadLogins'] });
  },
});
