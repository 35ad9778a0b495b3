// RFC 6750 section 3: a resource server that refuses a bearer token says why in
// its WWW-Authenticate challenge (error, error_description, scope). The error
// codes are standard, so this rule reads them whoever the server is; the
// product is left to producer rules.
import { defineCause, ev, type Challenge, type Context, type Evidence, type CauseReporter } from '../define.ts';
import { challenge, describeChallenge } from '../_lib/challenges.ts';
import texts from './texts.json' with { type: 'json' };

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
  if (/\bnbf\b|not yet valid|not before|not valid before|before the .*valid|used before/.test(d))
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

/** The new token to ask for, by what the description says was wrong with this one. */
const REISSUE_FOR = {
  'wrong-audience': 'reissueForThisApi',
  'credential-invalid': 'reissueFromTrusted',
  'credential-expired': 'reissueRefreshed',
  'credential-not-yet-valid': 'reissueRefreshed',
} as const satisfies Record<InvalidTokenReading['id'], string>;

type BearerCause =
  | 'credential-missing'
  | 'credential-malformed'
  | 'credential-expired'
  | 'credential-not-yet-valid'
  | 'credential-invalid'
  | 'wrong-audience'
  | 'insufficient-scope'
  | 'conditional-access';
type Report = CauseReporter<BearerCause, keyof typeof texts.messages, keyof typeof texts.fixes>;

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
      data: { realm, url },
      evidence: [header, ev('request-header:authorization', shown)],
      fixes: ['sendToken', 'forwarded'],
    });
  } else if (sent === 'other') {
    const scheme = (ctx.requestHeader('authorization') ?? '').split(/\s/)[0];
    report.claim('credential-malformed', 'notBearer', 0.6, {
      data: { realm, url },
      evidence: [header, ev('request-header:authorization', `${scheme} … (not "Bearer")`)],
      fixes: ['bearerScheme'],
    });
  }
}

function explainInvalidToken(description: string, evidence: Evidence[], report: Report): void {
  const reading = description ? readInvalidToken(description) : undefined;
  if (reading) {
    report.claim(reading.id, 'invalidTokenRead', 0.85, {
      data: { why: reading.why, description },
      evidence,
      fixes: [REISSUE_FOR[reading.id]],
    });
    return;
  }
  report.claim('credential-invalid', 'invalidToken', 0.7, {
    data: { said: description ? `: "${description}"` : '' },
    evidence,
    fixes: ['reissueTrusted'],
  });
  report.claim('credential-expired', 'mostOftenExpired', 0.35, {
    evidence: [evidence[0]],
    fixes: ['reissueRefreshed'],
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
    data: {
      scopes,
      scopeWanted: wanted.length
        ? `the scope ${wanted.length > 1 ? '(one of) ' : ''}${wanted.join(' ')}`
        : 'the scope this endpoint requires',
    },
    evidence: [...evidence, ...(held.length ? [ev('credential:scope', held.join(' '))] : [])],
    ...(wanted.length ? { gap: { required: missing.length ? missing : wanted, held } } : {}),
    fixes: ['requestScope', 'scopeGranted'],
  });
}

export default defineCause({
  meta: {
    id: 'rfc6750-bearer',
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
    ...texts,
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
        data: { said: description ? `: "${description}"` : '', url: ctx.url?.href ?? 'URL' },
        evidence,
        fixes: ['oneToken'],
      });
    else if (error === 'invalid_token') explainInvalidToken(description, evidence, report);
    else if (error === 'insufficient_scope') explainScope(ctx, c, evidence, report);
    // Microsoft identity platform's claims challenge: Conditional Access or
    // continuous access evaluation wants a token with more claims (MFA, device…).
    else if (error === 'insufficient_claims' || error === 'interaction_required')
      report.claim('conditional-access', 'claims', 0.75, {
        data: { error },
        evidence: [...evidence, ...(c.params.claims ? [ev('header:www-authenticate.claims', c.params.claims)] : [])],
        fixes: ['claims'],
      });
  },
});
