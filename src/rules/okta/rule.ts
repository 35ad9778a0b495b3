// Okta's management and authentication APIs answer with one error object,
// {"errorCode":"E0000006","errorSummary","errorLink","errorId","errorCauses"},
// whose E-codes are Okta's own (developer.okta.com/docs/reference/error-codes).
// OAuth-protected endpoints (the org authorization server, /api/v1/* called
// with an OAuth access token) refuse in a Bearer challenge instead, whose
// realm and authorization_uri name the Okta org, and whose scope names the
// okta.* scope that was missing.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Challenge } from '../../engine/www-authenticate.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const OKTA_HOST = /(^|\.)(okta|oktapreview|okta-emea|okta-gov|trexcloud)\.com$|(^|\.)okta\.mil$/i;
const E_CODE = /^E0\d{6}$/;
const ERRORS_DOC = 'https://developer.okta.com/docs/reference/error-codes/';
const SCOPES_DOC = 'https://developer.okta.com/docs/guides/implement-oauth-for-okta/main/#scopes-and-supported-endpoints';

interface OktaError {
  code: string;
  summary: string;
  causes: string[];
}

function readError(ctx: Context): OktaError | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const code = jsonString(j, 'errorCode');
  if (!code || !E_CODE.test(code)) return undefined;
  const raw = (j as Record<string, unknown>).errorCauses;
  const causes = Array.isArray(raw) ? raw.map((c) => jsonString(c, 'errorSummary')).filter((s): s is string => Boolean(s)) : [];
  return { code, summary: jsonString(j, 'errorSummary') ?? '', causes };
}

function oktaChallenge(ctx: Context): Challenge | undefined {
  return ctx.challenges.find((c) => {
    if (c.scheme.toLowerCase() !== 'bearer') return false;
    for (const v of [c.params.realm, c.params.authorization_uri]) {
      try {
        if (v && OKTA_HOST.test(new URL(v).hostname)) return true;
      } catch {
        /* not a URL */
      }
    }
    return false;
  });
}

function signature(ctx: Context, err: OktaError | undefined, challenge: Challenge | undefined): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  const host = ctx.url?.hostname ?? '';
  if (OKTA_HOST.test(host)) bump(err || challenge ? 0.95 : 0.75, ev('request:url', `Okta org domain ${host}`));
  const reqId = ctx.header('x-okta-request-id');
  if (reqId) bump(0.95, ev('header:x-okta-request-id', reqId));
  if (challenge) bump(0.92, ev('header:www-authenticate', `Bearer challenge from the Okta org ${challenge.params.realm ?? challenge.params.authorization_uri}`));
  if (err) {
    const object = ctx.body.json as Record<string, unknown>;
    // errorLink echoing the code, or errorId, beside an E-code is Okta's object; a bare errorCode could be anyone's.
    const full = typeof object.errorSummary === 'string' && (object.errorLink === err.code || typeof object.errorId === 'string');
    bump(full ? 0.85 : 0.4, ev('body:errorCode', `${err.code}: ${err.summary}`));
  }
  return { confidence, evidence };
}

const tenantOf = (ctx: Context) => (ctx.url && OKTA_HOST.test(ctx.url.hostname) ? ctx.url.hostname : '${yourOktaDomain}');

function scopeFixes(ctx: Context, scopes: string[]): Fix[] {
  const list = scopes.length ? scopes.join(' ') : 'the okta.* scope the endpoint requires';
  return [
    {
      title: `Grant ${list} to the app on its Okta API Scopes tab, then request a token that asks for it`,
      difficulty: 'easy',
      commands: [
        `# Okta Admin Console → Applications → Applications → your app → Okta API Scopes → Grant ${list}`,
        `curl -s -X POST https://${tenantOf(ctx)}/oauth2/v1/token -d grant_type=client_credentials -d scope="${scopes.join(' ') || 'okta.users.read'}" -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d client_assertion="$CLIENT_ASSERTION"`,
      ],
      verify: `Decode the new token (\`why403 token "$TOKEN"\`): its scp claim lists ${list}.`,
      docs: SCOPES_DOC,
    },
  ];
}

const roleFix = (ctx: Context): Fix => ({
  title: 'Give the calling principal an admin role that covers this resource (an API token acts with its creator’s roles; a service app needs a role assigned to the app itself)',
  difficulty: 'medium',
  commands: [
    '# Okta Admin Console → Security → Administrators → Add administrator (or Roles → assign to the service app)',
    `curl -s -H "Authorization: SSWS $OKTA_API_TOKEN" https://${tenantOf(ctx)}/api/v1/users/me/roles   # the roles behind an API token`,
  ],
  verify: 'The roles listed include one whose permissions cover the call (e.g. Super, Org or a custom role with the resource set).',
  docs: 'https://help.okta.com/okta_help.htm?type=oie&id=ext-administrators-admin-comparison',
});

export default defineRule({
  meta: {
    id: 'okta',
    kind: 'producer',
    product: 'okta',
    layer: 'identity-provider',
    description: 'Okta API errors by E-code (E0000006 no permission, E0000011 invalid token, E0000015 feature not enabled, E0000047 rate limit…) and the insufficient_scope Bearer challenge naming the missing okta.* scope.',
    docs: [
      ERRORS_DOC,
      'https://support.okta.com/help/s/article/insufficient-scope-error-when-making-a-request-to-an-oauth-or-management-endpoint',
      'https://support.okta.com/help/s/article/401-permissions-error-during-log-in-to-an-oidc-app-or-when-configuring-a-custom-authorization-server',
      SCOPES_DOC,
    ],
    causes: ['insufficient-scope', 'insufficient-role', 'credential-invalid', 'credential-expired', 'credential-missing', 'feature-disabled', 'rate-limited', 'account-state', 'resource-state'],
  },
  applies: (ctx) => ctx.body.json !== undefined || ctx.challenges.length > 0 || OKTA_HOST.test(ctx.url?.hostname ?? '') || Boolean(ctx.header('x-okta-request-id')),
  run(ctx) {
    const err = readError(ctx);
    const challenge = oktaChallenge(ctx);
    const sig = signature(ctx, err, challenge);
    if (!sig.confidence) return undefined;
    const producer = { product: 'okta' as const, layer: 'identity-provider' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403 && ctx.status !== 429) return { producer };
    const causes: CauseClaim[] = [];
    const errEv = err ? [ev('body:errorCode', err.code), ev('body:errorSummary', err.summary), ...err.causes.map((c) => ev('body:errorCauses', c))] : [];
    const held = [...new Set(ctx.credential.items.flatMap((i) => i.scopes ?? []))];

    if (challenge?.params.error === 'insufficient_scope') {
      const wanted = (challenge.params.scope ?? '').split(/\s+/).filter(Boolean);
      causes.push({
        id: 'insufficient-scope',
        weight: 0.92,
        summary: `The OAuth access token is valid but was not granted the scope ${wanted.join(' or ') || 'this endpoint needs'}${challenge.params.resource ? ` for ${challenge.params.resource}` : ''}.`,
        evidence: [ev('header:www-authenticate', `error="insufficient_scope" scope="${challenge.params.scope ?? ''}"${challenge.params.resource ? ` resource="${challenge.params.resource}"` : ''}`), ...(held.length ? [ev('credential:scope', held.join(' '))] : [])],
        ...(wanted.length ? { gap: { required: wanted.filter((s) => !held.includes(s)).length ? wanted.filter((s) => !held.includes(s)) : wanted, held } } : {}),
        fixes: scopeFixes(ctx, wanted),
      });
    }

    switch (err?.code) {
      case 'E0000006':
        causes.push({
          id: 'insufficient-role',
          weight: 0.8,
          summary: `Okta says the caller may not perform this action (E0000006: "${err.summary}"): the API token’s admin (or the service app) lacks an admin role covering it, or an OAuth token lacks the okta.* scope.`,
          evidence: errEv,
          fixes: [roleFix(ctx)],
        });
        causes.push({
          id: 'insufficient-scope',
          weight: /^Bearer\s/i.test(ctx.requestHeader('authorization') ?? '') ? 0.6 : 0.3,
          summary: 'With an OAuth access token, E0000006 also comes back when the token lacks the okta.* scope for this endpoint.',
          evidence: errEv,
          fixes: scopeFixes(ctx, []),
        });
        break;
      case 'E0000011': {
        const stateToken = /\/api\/v1\/authn\b/.test(ctx.url?.pathname ?? '');
        causes.push({
          id: 'credential-invalid',
          weight: 0.75,
          summary: `Okta did not accept the token (E0000011: "${err.summary}"): an API token that was revoked, deactivated with its admin, or mistyped; or an "SSWS" / "Bearer" prefix that does not match the token kind.`,
          evidence: errEv,
          fixes: [
            {
              title: 'Check the token and its prefix: API tokens go as "Authorization: SSWS <token>", OAuth access tokens as "Authorization: Bearer <token>"',
              difficulty: 'easy',
              commands: [`curl -s -o /dev/null -w "%{http_code}\\n" -H "Authorization: SSWS $OKTA_API_TOKEN" https://${tenantOf(ctx)}/api/v1/users/me`, '# Okta Admin Console → Security → API → Tokens: is the token listed and active?'],
              verify: 'GET /api/v1/users/me answers 200.',
              docs: 'https://developer.okta.com/docs/guides/create-an-api-token/main/',
            },
          ],
        });
        causes.push({
          id: 'credential-expired',
          weight: stateToken ? 0.85 : 0.5,
          summary: stateToken
            ? 'The Authentication API answers E0000011 for an expired stateToken: the authentication transaction outlived its lifetime, so it has to start over at POST /api/v1/authn.'
            : 'E0000011 is also the answer to an expired token: API tokens expire after 30 days unused, OAuth access tokens after their exp.',
          evidence: errEv,
          fixes: [
            stateToken
              ? { title: 'Start a new transaction with POST /api/v1/authn and use its fresh stateToken promptly', difficulty: 'easy', docs: 'https://developer.okta.com/docs/reference/api/authn/#state-token' }
              : { title: 'Create a new API token (or request a new access token)', difficulty: 'easy', commands: ['# Okta Admin Console → Security → API → Tokens → Create token'], verify: 'GET /api/v1/users/me answers 200 with the new token.' },
          ],
        });
        break;
      }
      case 'E0000015':
        causes.push({
          id: 'feature-disabled',
          weight: 0.88,
          summary: `The Okta org does not have the feature this request uses (E0000015: "${err.summary}")${/\/oauth2\/(?!v1\/)[^/]+\/v1\//.test(ctx.url?.pathname ?? '') ? ' — a custom authorization server needs the paid API Access Management feature' : ''}.`,
          evidence: [...errEv, ...(ctx.url ? [ev('request:url', ctx.url.pathname)] : [])],
          fixes: [
            {
              title: 'Use the org authorization server (/oauth2/v1/…) instead of a custom one (/oauth2/default/v1/…), or have API Access Management enabled for the org',
              difficulty: 'medium',
              commands: [`curl -s https://${tenantOf(ctx)}/.well-known/openid-configuration | jq .authorization_endpoint   # the org authorization server`],
              verify: 'The same request against /oauth2/v1/ no longer answers E0000015.',
              docs: 'https://developer.okta.com/docs/concepts/auth-servers/',
            },
          ],
        });
        break;
      case 'E0000047':
        causes.push({
          id: 'rate-limited',
          weight: 0.9,
          summary: `Okta’s rate limit for this endpoint was reached (E0000047)${ctx.header('x-rate-limit-reset') ? `; it resets at ${new Date(Number(ctx.header('x-rate-limit-reset')) * 1000).toISOString()}` : ''}.`,
          evidence: [...errEv, ...(ctx.header('x-rate-limit-remaining') ? [ev('header:x-rate-limit-remaining', ctx.header('x-rate-limit-remaining')!)] : [])],
          fixes: [{ title: 'Wait until X-Rate-Limit-Reset and back off; check the rate-limit dashboard for the endpoint’s bucket', difficulty: 'easy', docs: 'https://developer.okta.com/docs/reference/rl-best-practices/' }],
        });
        break;
      case 'E0000004':
        causes.push({
          id: 'credential-invalid',
          weight: 0.7,
          summary: `Okta refused the sign-in (E0000004: "${err.summary}"): wrong credentials, or a locked-out or policy-blocked user, which Okta does not tell apart here.`,
          evidence: errEv,
          fixes: [{ title: 'Check the user’s status and the System Log entry for this attempt', difficulty: 'easy', commands: [`curl -s -H "Authorization: SSWS $OKTA_API_TOKEN" "https://${tenantOf(ctx)}/api/v1/logs?filter=outcome.result+eq+%22FAILURE%22&limit=5"`] }],
        });
        causes.push({ id: 'account-state', weight: 0.35, summary: 'A locked-out, suspended or password-expired user also gets E0000004.', evidence: errEv, fixes: [] });
        break;
      case 'E0000005':
        causes.push({ id: 'credential-invalid', weight: 0.75, summary: `Okta rejected the session or credentials (E0000005: "${err.summary}").`, evidence: errEv, fixes: [{ title: 'Sign in again and send the new session or token', difficulty: 'easy' }] });
        break;
      case 'E0000079':
        causes.push({ id: 'resource-state', weight: 0.8, summary: `The authentication transaction is in a state that does not allow this operation (E0000079: "${err.summary}").`, evidence: errEv, fixes: [{ title: 'Follow the _links.next the last Authentication API response offered instead of this call', difficulty: 'medium', docs: 'https://developer.okta.com/docs/reference/api/authn/#authentication-status' }] });
        break;
      default:
        break;
    }

    return causes.length ? { producer, causes } : { producer };
  },
});
