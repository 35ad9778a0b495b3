// RFC 6750 section 3: a resource server that refuses a bearer token says why in
// its WWW-Authenticate challenge (error, error_description, scope). The error
// codes are standard, so this rule reads them whoever the server is; the
// product is left to producer rules.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Challenge } from '../../engine/www-authenticate.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const RFC = 'https://www.rfc-editor.org/rfc/rfc6750#section-3.1';

function bearerChallenge(ctx: Context): Challenge | undefined {
  return ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer');
}

function render(c: Challenge): string {
  const params = Object.entries(c.params).map(([k, v]) => `${k}="${v}"`);
  return [c.scheme, params.join(', ')].filter(Boolean).join(' ');
}

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
    '# client-credentials example; use your authorization server\'s token endpoint and grant',
    'curl -s -X POST https://AUTH_SERVER/oauth/token -d grant_type=client_credentials -d client_id=CLIENT_ID -d client_secret=CLIENT_SECRET -d scope="SCOPES" -d audience=API_IDENTIFIER',
  ],
  verify: 'Decode the new token (`why403 token "$TOKEN"`) and check its exp, aud and scope claims before retrying.',
  docs: RFC,
});

interface InvalidTokenReading {
  id: CauseClaim['id'];
  why: string;
}

// Servers phrase error_description freely; these are the JWT claim names and
// the words libraries use for them (jsonwebtoken, jose, Spring, ASP.NET Core).
function readInvalidToken(description: string): InvalidTokenReading | undefined {
  const d = description.toLowerCase();
  if (/expired|\bexp\b|lifetime|no longer valid/.test(d)) return { id: 'credential-expired', why: 'the description says the token expired' };
  if (/\bnbf\b|not yet valid|not before|before the .*valid|used before/.test(d)) return { id: 'credential-not-yet-valid', why: 'the description says the token is not valid yet (nbf in the future)' };
  if (/\baud\b|audience/.test(d)) return { id: 'wrong-audience', why: 'the description names the audience (aud) check' };
  if (/\biss\b|issuer/.test(d)) return { id: 'wrong-audience', why: 'the description names the issuer (iss) check: a token from another issuer or environment' };
  if (/signature|malformed|decode|could not be parsed|invalid compact|revoked|inactive|unknown key|kid/.test(d)) return { id: 'credential-invalid', why: 'the description points at the token itself (signature, format or key)' };
  return undefined;
}

export default defineRule({
  meta: {
    id: 'rfc6750-bearer',
    kind: 'cause',
    description: 'RFC 6750 Bearer challenges: the error code (invalid_request, invalid_token, insufficient_scope), error_description and scope of a WWW-Authenticate: Bearer header, whoever sent it.',
    docs: [
      'https://www.rfc-editor.org/rfc/rfc6750#section-3',
      'https://www.rfc-editor.org/rfc/rfc6750#section-3.1',
      'https://learn.microsoft.com/en-us/entra/identity-platform/claims-challenge',
    ],
    causes: ['credential-missing', 'credential-malformed', 'credential-expired', 'credential-not-yet-valid', 'credential-invalid', 'wrong-audience', 'insufficient-scope', 'conditional-access'],
  },
  applies: (ctx) => (ctx.status === 401 || ctx.status === 403) && Boolean(bearerChallenge(ctx)),
  run(ctx) {
    const c = bearerChallenge(ctx)!;
    const error = c.params.error?.toLowerCase();
    const description = c.params.error_description ?? '';
    const header: Evidence = ev('header:www-authenticate', render(c));
    const descEvidence: Evidence[] = description ? [ev('header:www-authenticate.error_description', description)] : [];
    const sent = sentCredential(ctx);
    const causes: CauseClaim[] = [];

    if (!error) {
      // RFC 6750 3.1: a request without authentication gets a challenge without an error code.
      // Any other parameter (error_description without error, say) is not the standard shape.
      const extra = Object.keys(c.params).filter((k) => k !== 'realm' && k !== 'scope' && k !== 'resource_metadata');
      if (extra.length) return undefined;
      const realm = c.params.realm ? ` (realm "${c.params.realm}")` : '';
      if (sent === 'none' || sent === 'unknown') {
        causes.push({
          id: 'credential-missing',
          weight: sent === 'none' ? 0.8 : 0.6,
          summary: `The server wants a Bearer token${realm} and its challenge carries no error code, which RFC 6750 reserves for requests that carried no token at all.`,
          evidence: [header, ev('request-header:authorization', sent === 'none' ? 'no Authorization header was sent' : 'the input has no request, so what was sent is unknown')],
          fixes: [
            {
              title: 'Send the access token in the Authorization header',
              difficulty: 'easy',
              commands: [`curl -H "Authorization: Bearer $TOKEN" ${ctx.url?.href ?? 'URL'}`],
              verify: 'The challenge disappears, or names an error code that says what is wrong with the token.',
              docs: 'https://www.rfc-editor.org/rfc/rfc6750#section-2.1',
            },
            {
              title: 'If a proxy sits in between, check that it forwards the Authorization header',
              difficulty: 'medium',
              commands: ['# nginx: proxy_pass keeps Authorization by default; look for proxy_set_header Authorization "" or auth_request stripping it'],
            },
          ],
        });
      } else if (sent === 'other') {
        causes.push({
          id: 'credential-malformed',
          weight: 0.6,
          summary: `A credential was sent, but not as a Bearer token: the server answered with a bare Bearer challenge${realm}, as if no token had arrived.`,
          evidence: [header, ev('request-header:authorization', (ctx.requestHeader('authorization') ?? '').split(/\s/)[0] + ' … (not "Bearer")')],
          fixes: [
            {
              title: 'Send the token with the Bearer scheme',
              difficulty: 'easy',
              commands: [`curl -H "Authorization: Bearer $TOKEN" ${ctx.url?.href ?? 'URL'}`],
              docs: 'https://www.rfc-editor.org/rfc/rfc6750#section-2.1',
            },
          ],
        });
      }
      return causes.length ? { causes } : undefined;
    }

    if (error === 'invalid_request') {
      causes.push({
        id: 'credential-malformed',
        weight: 0.75,
        summary: `The server says the request is malformed (invalid_request${description ? `: "${description}"` : ''}): a missing or repeated parameter, or the token sent in more than one way.`,
        evidence: [header, ...descEvidence],
        fixes: [
          {
            title: 'Send exactly one token, in the Authorization header, with the Bearer scheme',
            difficulty: 'easy',
            commands: [`curl -H "Authorization: Bearer $TOKEN" ${ctx.url?.href ?? 'URL'}`],
            verify: 'No access_token query parameter or form field is sent alongside the header.',
            docs: RFC,
          },
        ],
      });
    } else if (error === 'invalid_token') {
      const reading = description ? readInvalidToken(description) : undefined;
      if (reading) {
        causes.push({
          id: reading.id,
          weight: 0.85,
          summary: `The server rejected the token (invalid_token): ${reading.why} — "${description}".`,
          evidence: [header, ...descEvidence],
          fixes: [
            reading.id === 'wrong-audience'
              ? reissueFix('issued for this API (its audience / issuer), from the authorization server this API trusts')
              : reading.id === 'credential-invalid'
                ? reissueFix('from the authorization server this API trusts, and send it unmodified')
                : reissueFix('(refresh it, or log in again)'),
          ],
        });
      } else {
        causes.push({
          id: 'credential-invalid',
          weight: 0.7,
          summary: `The server rejected the token (invalid_token${description ? `: "${description}"` : ''}): it is expired, revoked, malformed or not one this server accepts.`,
          evidence: [header, ...descEvidence],
          fixes: [reissueFix('from the authorization server this API trusts')],
        });
        causes.push({
          id: 'credential-expired',
          weight: 0.35,
          summary: 'invalid_token is most often an expired access token; the challenge does not say which.',
          evidence: [header],
          fixes: [reissueFix('(refresh it, or log in again)')],
        });
      }
    } else if (error === 'insufficient_scope') {
      const wanted = (c.params.scope ?? '').split(/\s+/).filter(Boolean);
      const held = heldScopes(ctx);
      const missing = wanted.filter((s) => !held.includes(s));
      const scopeText = wanted.length ? ` The challenge names the scope${wanted.length > 1 ? 's' : ''} it accepts: ${wanted.join(' ')}.` : ' The challenge does not say which scope is needed; the API’s documentation for this endpoint does.';
      causes.push({
        id: 'insufficient-scope',
        weight: 0.9,
        summary: `The token is valid but does not carry the scope this request needs (insufficient_scope).${scopeText}`,
        evidence: [header, ...descEvidence, ...(held.length ? [ev('credential:scope', held.join(' '))] : [])],
        ...(wanted.length ? { gap: { required: missing.length ? missing : wanted, held } } : {}),
        fixes: [
          {
            ...reissueFix(`that includes ${wanted.length ? `one of: ${wanted.join(' ')}` : 'the scope this endpoint requires'}`),
            title: `Request a new token with ${wanted.length ? `the scope ${wanted.length > 1 ? '(one of) ' : ''}${wanted.join(' ')}` : 'the scope this endpoint requires'}`,
          },
          {
            title: 'If the scope is already requested, check it is granted to this client at the authorization server',
            difficulty: 'medium',
            verify: 'The new token’s scope (or scp) claim lists the scope.',
          },
        ],
      });
    } else if (error === 'insufficient_claims' || error === 'interaction_required') {
      // Microsoft identity platform's claims challenge: Conditional Access or
      // continuous access evaluation wants a token with more claims (MFA, device…).
      causes.push({
        id: 'conditional-access',
        weight: 0.75,
        summary: `The server sent a claims challenge (${error}): a conditional-access policy (MFA, device, location or session revocation) needs a new token that satisfies it.`,
        evidence: [header, ...descEvidence, ...(c.params.claims ? [ev('header:www-authenticate.claims', c.params.claims)] : [])],
        fixes: [
          {
            title: 'Acquire a new token interactively, passing the challenge’s claims parameter to the authorization request',
            difficulty: 'medium',
            docs: 'https://learn.microsoft.com/en-us/entra/identity-platform/claims-challenge',
            verify: 'The sign-in completes the required step (MFA, compliant device) and the retried request succeeds.',
          },
        ],
      });
    } else {
      return undefined;
    }
    return { causes };
  },
});
