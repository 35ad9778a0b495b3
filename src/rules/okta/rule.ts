// Okta's management and authentication APIs answer with one error object,
// {"errorCode":"E0000006","errorSummary","errorLink","errorId","errorCauses"},
// whose E-codes are Okta's own (developer.okta.com/docs/reference/error-codes).
// OAuth-protected endpoints (the org authorization server, /api/v1/* called
// with an OAuth access token) refuse in a Bearer challenge instead, whose
// realm and authorization_uri name the Okta org, and whose scope names the
// okta.* scope that was missing.
import { defineProducer, epochSeconds, ev, jsonString, signals, type Challenge, type Context, type Fix } from '../define.ts';

const OKTA_HOST = /(^|\.)(okta|oktapreview|okta-emea|okta-gov|trexcloud)\.com$|(^|\.)okta\.mil$/i;
const E_CODE = /^E0\d{6}$/;
const ERRORS_DOC = 'https://developer.okta.com/docs/reference/error-codes/';
const SCOPES_DOC =
  'https://developer.okta.com/docs/guides/implement-oauth-for-okta/main/#scopes-and-supported-endpoints';

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
  const causes = Array.isArray(raw)
    ? raw.map((c) => jsonString(c, 'errorSummary')).filter((s): s is string => Boolean(s))
    : [];
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

function recogniseOkta(ctx: Context) {
  const err = readError(ctx);
  const challenge = oktaChallenge(ctx);
  const found = signals();
  const host = ctx.url?.hostname ?? '';
  if (OKTA_HOST.test(host)) found.add(err || challenge ? 0.95 : 0.75, ev('request:url', `Okta org domain ${host}`));
  const reqId = ctx.header('x-okta-request-id');
  if (reqId) found.add(0.95, ev('header:x-okta-request-id', reqId));
  if (challenge)
    found.add(
      0.92,
      ev(
        'header:www-authenticate',
        `Bearer challenge from the Okta org ${challenge.params.realm ?? challenge.params.authorization_uri}`,
      ),
    );
  if (err) {
    const object = ctx.body.json as Record<string, unknown>;
    // errorLink echoing the code, or errorId, beside an E-code is Okta's object; a bare errorCode could be anyone's.
    const full =
      typeof object.errorSummary === 'string' && (object.errorLink === err.code || typeof object.errorId === 'string');
    found.add(full ? 0.85 : 0.4, ev('body:errorCode', `${err.code}: ${err.summary}`));
  }
  return found.result({ err, challenge });
}

const tenantOf = (ctx: Context) =>
  ctx.url && OKTA_HOST.test(ctx.url.hostname) ? ctx.url.hostname : '${yourOktaDomain}';

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
  title:
    'Give the calling principal an admin role that covers this resource (an API token acts with its creator’s roles; a service app needs a role assigned to the app itself)',
  difficulty: 'medium',
  commands: [
    '# Okta Admin Console → Security → Administrators → Add administrator (or Roles → assign to the service app)',
    `curl -s -H "Authorization: SSWS $OKTA_API_TOKEN" https://${tenantOf(ctx)}/api/v1/users/me/roles   # the roles behind an API token`,
  ],
  verify:
    'The roles listed include one whose permissions cover the call (e.g. Super, Org or a custom role with the resource set).',
  docs: 'https://help.okta.com/okta_help.htm?type=oie&id=ext-administrators-admin-comparison',
});

function tokenFix(ctx: Context): Fix {
  return {
    title:
      'Check the token and its prefix: API tokens go as "Authorization: SSWS <token>", OAuth access tokens as "Authorization: Bearer <token>"',
    difficulty: 'easy',
    commands: [
      `curl -s -o /dev/null -w "%{http_code}\\n" -H "Authorization: SSWS $OKTA_API_TOKEN" https://${tenantOf(ctx)}/api/v1/users/me`,
      '# Okta Admin Console → Security → API → Tokens: is the token listed and active?',
    ],
    verify: 'GET /api/v1/users/me answers 200.',
    docs: 'https://developer.okta.com/docs/guides/create-an-api-token/main/',
  };
}

const STATE_TOKEN_FIX: Fix = {
  title: 'Start a new transaction with POST /api/v1/authn and use its fresh stateToken promptly',
  difficulty: 'easy',
  docs: 'https://developer.okta.com/docs/reference/api/authn/#state-token',
};
const NEW_TOKEN_FIX: Fix = {
  title: 'Create a new API token (or request a new access token)',
  difficulty: 'easy',
  commands: ['# Okta Admin Console → Security → API → Tokens → Create token'],
  verify: 'GET /api/v1/users/me answers 200 with the new token.',
};

function orgServerFix(ctx: Context): Fix {
  return {
    title:
      'Use the org authorization server (/oauth2/v1/…) instead of a custom one (/oauth2/default/v1/…), or have API Access Management enabled for the org',
    difficulty: 'medium',
    commands: [
      `curl -s https://${tenantOf(ctx)}/.well-known/openid-configuration | jq .authorization_endpoint   # the org authorization server`,
    ],
    verify: 'The same request against /oauth2/v1/ no longer answers E0000015.',
    docs: 'https://developer.okta.com/docs/concepts/auth-servers/',
  };
}

const RATE_FIX: Fix = {
  title: 'Wait until X-Rate-Limit-Reset and back off; check the rate-limit dashboard for the endpoint’s bucket',
  difficulty: 'easy',
  docs: 'https://developer.okta.com/docs/reference/rl-best-practices/',
};

const systemLogFix = (ctx: Context): Fix => ({
  title: 'Check the user’s status and the System Log entry for this attempt',
  difficulty: 'easy',
  commands: [
    `curl -s -H "Authorization: SSWS $OKTA_API_TOKEN" "https://${tenantOf(ctx)}/api/v1/logs?filter=outcome.result+eq+%22FAILURE%22&limit=5"`,
  ],
});

export default defineProducer({
  meta: {
    id: 'okta',
    product: 'okta',
    layer: 'identity-provider',
    description:
      'Okta API errors by E-code (E0000006 no permission, E0000011 invalid token, E0000015 feature not enabled, E0000047 rate limit…) and the insufficient_scope Bearer challenge naming the missing okta.* scope.',
    docs: [
      ERRORS_DOC,
      'https://support.okta.com/help/s/article/insufficient-scope-error-when-making-a-request-to-an-oauth-or-management-endpoint',
      'https://support.okta.com/help/s/article/401-permissions-error-during-log-in-to-an-oidc-app-or-when-configuring-a-custom-authorization-server',
      SCOPES_DOC,
    ],
    causes: [
      'insufficient-scope',
      'insufficient-role',
      'credential-invalid',
      'credential-expired',
      'credential-missing',
      'feature-disabled',
      'rate-limited',
      'account-state',
      'resource-state',
    ],
    statuses: [401, 403, 429],
    messages: {
      scope: 'The OAuth access token is valid but was not granted the scope {{scopes}}{{resource}}.',
      noPermission:
        'Okta says the caller may not perform this action (E0000006: "{{summary}}"): the API token’s admin (or the service app) lacks an admin role covering it, or an OAuth token lacks the okta.* scope.',
      noPermissionScope:
        'With an OAuth access token, E0000006 also comes back when the token lacks the okta.* scope for this endpoint.',
      invalidToken:
        'Okta did not accept the token (E0000011: "{{summary}}"): an API token that was revoked, deactivated with its admin, or mistyped; or an "SSWS" / "Bearer" prefix that does not match the token kind.',
      stateTokenExpired:
        'The Authentication API answers E0000011 for an expired stateToken: the authentication transaction outlived its lifetime, so it has to start over at POST /api/v1/authn.',
      tokenExpired:
        'E0000011 is also the answer to an expired token: API tokens expire after 30 days unused, OAuth access tokens after their exp.',
      featureDisabled:
        'The Okta org does not have the feature this request uses (E0000015: "{{summary}}"){{customServer}}.',
      rateLimited: 'Okta’s rate limit for this endpoint was reached (E0000047){{resets}}.',
      signInFailed:
        'Okta refused the sign-in (E0000004: "{{summary}}"): wrong credentials, or a locked-out or policy-blocked user, which Okta does not tell apart here.',
      lockedOut: 'A locked-out, suspended or password-expired user also gets E0000004.',
      sessionRejected: 'Okta rejected the session or credentials (E0000005: "{{summary}}").',
      transactionState:
        'The authentication transaction is in a state that does not allow this operation (E0000079: "{{summary}}").',
    },
  },
  recognise: recogniseOkta,
  explain(ctx, { err, challenge }, report) {
    const errEv = err
      ? [
          ev('body:errorCode', err.code),
          ev('body:errorSummary', err.summary),
          ...err.causes.map((c) => ev('body:errorCauses', c)),
        ]
      : [];
    const held = [...new Set(ctx.credential.items.flatMap((i) => i.scopes ?? []))];

    if (challenge?.params.error === 'insufficient_scope') {
      const { scope, resource } = challenge.params;
      const wanted = (scope ?? '').split(/\s+/).filter(Boolean);
      const missing = wanted.filter((s) => !held.includes(s));
      const shown = `error="insufficient_scope" scope="${scope ?? ''}"${resource ? ` resource="${resource}"` : ''}`;
      report.claim('insufficient-scope', 'scope', 0.92, {
        data: { scopes: wanted.join(' or ') || 'this endpoint needs', resource: resource ? ` for ${resource}` : '' },
        evidence: [
          ev('header:www-authenticate', shown),
          ...(held.length ? [ev('credential:scope', held.join(' '))] : []),
        ],
        ...(wanted.length ? { gap: { required: missing.length ? missing : wanted, held } } : {}),
        fixes: scopeFixes(ctx, wanted),
      });
    }
    if (!err) return;
    const data = { summary: err.summary };
    const path = ctx.url?.pathname ?? '';

    switch (err.code) {
      case 'E0000006': {
        const bearer = /^Bearer\s/i.test(ctx.requestHeader('authorization') ?? '');
        report.claim('insufficient-role', 'noPermission', 0.8, { data, evidence: errEv, fixes: [roleFix(ctx)] });
        report.claim('insufficient-scope', 'noPermissionScope', bearer ? 0.6 : 0.3, {
          evidence: errEv,
          fixes: scopeFixes(ctx, []),
        });
        break;
      }
      case 'E0000011': {
        const stateToken = /\/api\/v1\/authn\b/.test(path);
        report.claim('credential-invalid', 'invalidToken', 0.75, { data, evidence: errEv, fixes: [tokenFix(ctx)] });
        report.claim('credential-expired', stateToken ? 'stateTokenExpired' : 'tokenExpired', stateToken ? 0.85 : 0.5, {
          evidence: errEv,
          fixes: [stateToken ? STATE_TOKEN_FIX : NEW_TOKEN_FIX],
        });
        break;
      }
      case 'E0000015': {
        const custom = /\/oauth2\/(?!v1\/)[^/]+\/v1\//.test(path);
        report.claim('feature-disabled', 'featureDisabled', 0.88, {
          data: {
            ...data,
            customServer: custom ? ' — a custom authorization server needs the paid API Access Management feature' : '',
          },
          evidence: [...errEv, ...(ctx.url ? [ev('request:url', ctx.url.pathname)] : [])],
          fixes: [orgServerFix(ctx)],
        });
        break;
      }
      case 'E0000047': {
        const reset = ctx.header('x-rate-limit-reset');
        const remaining = ctx.header('x-rate-limit-remaining');
        report.claim('rate-limited', 'rateLimited', 0.9, {
          data: { resets: reset ? `; it resets at ${epochSeconds(reset) ?? reset}` : '' },
          evidence: [...errEv, ...(remaining ? [ev('header:x-rate-limit-remaining', remaining)] : [])],
          fixes: [RATE_FIX],
        });
        break;
      }
      case 'E0000004':
        report.claim('credential-invalid', 'signInFailed', 0.7, { data, evidence: errEv, fixes: [systemLogFix(ctx)] });
        report.claim('account-state', 'lockedOut', 0.35, { evidence: errEv });
        break;
      case 'E0000005':
        report.claim('credential-invalid', 'sessionRejected', 0.75, {
          data,
          evidence: errEv,
          fixes: [{ title: 'Sign in again and send the new session or token', difficulty: 'easy' }],
        });
        break;
      case 'E0000079': {
        const next: Fix = {
          title: 'Follow the _links.next the last Authentication API response offered instead of this call',
          difficulty: 'medium',
          docs: 'https://developer.okta.com/docs/reference/api/authn/#authentication-status',
        };
        report.claim('resource-state', 'transactionState', 0.8, { data, evidence: errEv, fixes: [next] });
        break;
      }
      default:
        break;
    }
  },
});
