// RFC 6750 section 3: a resource server that refuses a bearer token says why in
// its WWW-Authenticate challenge (error, error_description, scope). The error
// codes are standard, so this rule reads them whoever the server is; the
// product is left to producer rules.
import {
  defineCause,
  ev,
  type Challenge,
  type Context,
  type Evidence,
  type Fix,
  type CauseReporter,
} from '../define.ts';
import { challenge, describeChallenge } from '../_lib/challenges.ts';
import { bearerCurlFix } from '../_lib/framework-requests.ts';

const RFC = 'https://www.rfc-editor.org/rfc/rfc6750#section-3.1';

/** What the request is known to have carried: a Bearer token, something else, nothing, or unknown (no request in the input). */
function sentCredential(ctx: Context): 'bearer' | 'other' | 'none' | 'unknown' {
  if (!ctx.exchange.request) return ctx.credential.items.length ? 'other' : 'unknown';
  const auth = ctx.requestHeader('authorization');
  if (auth && /^bearer\s+\S/i.test(auth)) return 'bearer';
  if (auth || ctx.credential.items.length) return 'other';
  // RFC 6750 also allows the token in a form body or the access_token query parameter.
  if (ctx.url?.searchParams.has('access_token')) return 'bearer';
  return 'none';
}

function heldScopes(ctx: Context): string[] {
  const out = new Set<string>();
  for (const item of ctx.credential.items) for (const s of item.scopes ?? []) out.add(s);
  return [...out];
}

const reissueFix = (what: string): Fix => ({
  title: `Obtain a new access token ${what}`,
  difficulty: 'easy',
  commands: [
    "# client-credentials example; use your authorization server's token endpoint and grant",
    'curl -s -X POST https://AUTH_SERVER/oauth/token -d grant_type=client_credentials -d client_id=CLIENT_ID -d client_secret=CLIENT_SECRET -d scope="SCOPES" -d audience=API_IDENTIFIER',
  ],
  verify: 'Decode the new token (`why403 token "$TOKEN"`) and check its exp, aud and scope claims before retrying.',
  docs: RFC,
});

interface InvalidTokenReading {
  id: 'credential-expired' | 'credential-not-yet-valid' | 'wrong-audience' | 'credential-invalid';
  why: string;
}

// Servers phrase error_description freely; these are the JWT claim names and
// the words libraries use for them (jsonwebtoken, jose, Spring, ASP.NET Core).
function readInvalidToken(description: string): InvalidTokenReading | undefined {
  const d = description.toLowerCase();
  if (/expired|\bexp\b|lifetime|no longer valid/.test(d))
    return { id: 'credential-expired', why: 'the description says the token expired' };
  if (/\bnbf\b|not yet valid|not before|before the .*valid|used before/.test(d))
    return {
      id: 'credential-not-yet-valid',
      why: 'the description says the token is not valid yet (nbf in the future)',
    };
  if (/\baud\b|audience/.test(d))
    return { id: 'wrong-audience', why: 'the description names the audience (aud) check' };
  if (/\biss\b|issuer/.test(d))
    return {
      id: 'wrong-audience',
      why: 'the description names the issuer (iss) check: a token from another issuer or environment',
    };
  if (/signature|malformed|decode|could not be parsed|invalid compact|revoked|inactive|unknown key|kid/.test(d))
    return { id: 'credential-invalid', why: 'the description points at the token itself (signature, format or key)' };
  return undefined;
}

const HEADER_DOCS = 'https://www.rfc-editor.org/rfc/rfc6750#section-2.1';

const FORWARDED_FIX: Fix = {
  title: 'If a proxy sits in between, check that it forwards the Authorization header',
  difficulty: 'medium',
  commands: [
    '# nginx: proxy_pass keeps Authorization by default; look for proxy_set_header Authorization "" or auth_request stripping it',
  ],
};

const oneTokenFix = (url: string): Fix =>
  bearerCurlFix(url, {
    title: 'Send exactly one token, in the Authorization header, with the Bearer scheme',
    verify: 'No access_token query parameter or form field is sent alongside the header.',
    docs: RFC,
  });

const REISSUE_FOR: Record<InvalidTokenReading['id'], string> = {
  'wrong-audience': 'issued for this API (its audience / issuer), from the authorization server this API trusts',
  'credential-invalid': 'from the authorization server this API trusts, and send it unmodified',
  'credential-expired': '(refresh it, or log in again)',
  'credential-not-yet-valid': '(refresh it, or log in again)',
};

const scopeFixes = (wanted: string[]): Fix[] => [
  {
    ...reissueFix(
      `that includes ${wanted.length ? `one of: ${wanted.join(' ')}` : 'the scope this endpoint requires'}`,
    ),
    title: `Request a new token with ${wanted.length ? `the scope ${wanted.length > 1 ? '(one of) ' : ''}${wanted.join(' ')}` : 'the scope this endpoint requires'}`,
  },
  {
    title: 'If the scope is already requested, check it is granted to this client at the authorization server',
    difficulty: 'medium',
    verify: 'The new token’s scope (or scp) claim lists the scope.',
  },
];

const CLAIMS_FIX: Fix = {
  title: 'Acquire a new token interactively, passing the challenge’s claims parameter to the authorization request',
  difficulty: 'medium',
  docs: 'https://learn.microsoft.com/en-us/entra/identity-platform/claims-challenge',
  verify: 'The sign-in completes the required step (MFA, compliant device) and the retried request succeeds.',
};

const MESSAGES = {
  noToken:
    'The server wants a Bearer token{{realm}} and its challenge carries no error code, which RFC 6750 reserves for requests that carried no token at all.',
  notBearer:
    'A credential was sent, but not as a Bearer token: the server answered with a bare Bearer challenge{{realm}}, as if no token had arrived.',
  invalidRequest:
    'The server says the request is malformed (invalid_request{{said}}): a missing or repeated parameter, or the token sent in more than one way.',
  invalidTokenRead: 'The server rejected the token (invalid_token): {{why}} — "{{description}}".',
  invalidToken:
    'The server rejected the token (invalid_token{{said}}): it is expired, revoked, malformed or not one this server accepts.',
  mostOftenExpired: 'invalid_token is most often an expired access token; the challenge does not say which.',
  scope: 'The token is valid but does not carry the scope this request needs (insufficient_scope).{{scopes}}',
  claims:
    'The server sent a claims challenge ({{error}}): a conditional-access policy (MFA, device, location or session revocation) needs a new token that satisfies it.',
} as const;

type BearerCause =
  | 'credential-missing'
  | 'credential-malformed'
  | 'credential-expired'
  | 'credential-not-yet-valid'
  | 'credential-invalid'
  | 'wrong-audience'
  | 'insufficient-scope'
  | 'conditional-access';
type Report = CauseReporter<BearerCause, keyof typeof MESSAGES>;

// RFC 6750 3.1: a request without authentication gets a challenge without an error code.
function explainBare(ctx: Context, c: Challenge, header: Evidence, report: Report): void {
  // Any other parameter (error_description without error, say) is not the standard shape.
  if (Object.keys(c.params).some((k) => k !== 'realm' && k !== 'scope' && k !== 'resource_metadata')) return;
  const realm = c.params.realm ? ` (realm "${c.params.realm}")` : '';
  const url = ctx.url?.href ?? 'URL';
  const sent = sentCredential(ctx);
  if (sent === 'none' || sent === 'unknown') {
    const shown =
      sent === 'none' ? 'no Authorization header was sent' : 'the input has no request, so what was sent is unknown';
    report.claim('credential-missing', 'noToken', sent === 'none' ? 0.8 : 0.6, {
      data: { realm },
      evidence: [header, ev('request-header:authorization', shown)],
      fixes: [
        bearerCurlFix(url, {
          title: 'Send the access token in the Authorization header',
          verify: 'The challenge disappears, or names an error code that says what is wrong with the token.',
          docs: HEADER_DOCS,
        }),
        FORWARDED_FIX,
      ],
    });
  } else if (sent === 'other') {
    const scheme = (ctx.requestHeader('authorization') ?? '').split(/\s/)[0];
    report.claim('credential-malformed', 'notBearer', 0.6, {
      data: { realm },
      evidence: [header, ev('request-header:authorization', `${scheme} … (not "Bearer")`)],
      fixes: [bearerCurlFix(url, { title: 'Send the token with the Bearer scheme', docs: HEADER_DOCS })],
    });
  }
}

function explainInvalidToken(description: string, evidence: Evidence[], report: Report): void {
  const reading = description ? readInvalidToken(description) : undefined;
  if (reading) {
    report.claim(reading.id, 'invalidTokenRead', 0.85, {
      data: { why: reading.why, description },
      evidence,
      fixes: [reissueFix(REISSUE_FOR[reading.id])],
    });
    return;
  }
  report.claim('credential-invalid', 'invalidToken', 0.7, {
    data: { said: description ? `: "${description}"` : '' },
    evidence,
    fixes: [reissueFix('from the authorization server this API trusts')],
  });
  report.claim('credential-expired', 'mostOftenExpired', 0.35, {
    evidence: [evidence[0]],
    fixes: [reissueFix('(refresh it, or log in again)')],
  });
}

function explainScope(ctx: Context, c: Challenge, evidence: Evidence[], report: Report): void {
  const wanted = (c.params.scope ?? '').split(/\s+/).filter(Boolean);
  const held = heldScopes(ctx);
  const missing = wanted.filter((s) => !held.includes(s));
  const scopes = wanted.length
    ? ` The challenge names the scope${wanted.length > 1 ? 's' : ''} it accepts: ${wanted.join(' ')}.`
    : ' The challenge does not say which scope is needed; the API’s documentation for this endpoint does.';
  report.claim('insufficient-scope', 'scope', 0.9, {
    data: { scopes },
    evidence: [...evidence, ...(held.length ? [ev('credential:scope', held.join(' '))] : [])],
    ...(wanted.length ? { gap: { required: missing.length ? missing : wanted, held } } : {}),
    fixes: scopeFixes(wanted),
  });
}

export default defineCause({
  meta: {
    id: 'rfc6750-bearer',
    description:
      'RFC 6750 Bearer challenges: the error code (invalid_request, invalid_token, insufficient_scope), error_description and scope of a WWW-Authenticate: Bearer header, whoever sent it.',
    docs: [
      'https://www.rfc-editor.org/rfc/rfc6750#section-3',
      'https://www.rfc-editor.org/rfc/rfc6750#section-3.1',
      'https://learn.microsoft.com/en-us/entra/identity-platform/claims-challenge',
    ],
    causes: [
      'credential-missing',
      'credential-malformed',
      'credential-expired',
      'credential-not-yet-valid',
      'credential-invalid',
      'wrong-audience',
      'insufficient-scope',
      'conditional-access',
    ],
    statuses: [401, 403],
    messages: MESSAGES,
  },
  applies: (ctx) => challenge(ctx, 'bearer') !== undefined,
  explain(ctx, report) {
    const c = challenge(ctx, 'bearer')!;
    const error = c.params.error?.toLowerCase();
    const description = c.params.error_description ?? '';
    const header = ev('header:www-authenticate', describeChallenge(c));
    const evidence: Evidence[] = [
      header,
      ...(description ? [ev('header:www-authenticate.error_description', description)] : []),
    ];
    if (!error) explainBare(ctx, c, header, report);
    else if (error === 'invalid_request')
      report.claim('credential-malformed', 'invalidRequest', 0.75, {
        data: { said: description ? `: "${description}"` : '' },
        evidence,
        fixes: [oneTokenFix(ctx.url?.href ?? 'URL')],
      });
    else if (error === 'invalid_token') explainInvalidToken(description, evidence, report);
    else if (error === 'insufficient_scope') explainScope(ctx, c, evidence, report);
    // Microsoft identity platform's claims challenge: Conditional Access or
    // continuous access evaluation wants a token with more claims (MFA, device…).
    else if (error === 'insufficient_claims' || error === 'interaction_required')
      report.claim('conditional-access', 'claims', 0.75, {
        data: { error },
        evidence: [...evidence, ...(c.params.claims ? [ev('header:www-authenticate.claims', c.params.claims)] : [])],
        fixes: [CLAIMS_FIX],
      });
  },
});
