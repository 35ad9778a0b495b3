// ASP.NET Core's JwtBearer handler answers a rejected token with 401, an empty
// body and WWW-Authenticate: Bearer error="invalid_token" whose
// error_description (IncludeErrorDetails, on by default) is one of the fixed
// sentences of JwtBearerHandler.CreateErrorDescription — "The token expired
// at '…'", "The audience '…' is invalid", "The signature key was not found"…
// Those sentences and Kestrel's Server header name the product; the
// rfc6750-bearer rule reads the error code itself, so this rule adds the
// ASP.NET Core side of the fix (TokenValidationParameters, the issuer's keys).
import { defineProducer, ev, signals } from '../define.ts';
import { challenge } from '../_lib/challenges.ts';
import texts from './texts.json' with { type: 'json' };

// JwtBearerHandler.CreateErrorDescription (src/Security/Authentication/JwtBearer/src/JwtBearerHandler.cs).
const DESCRIPTIONS: {
  re: RegExp;
  cause: 'credential-expired' | 'credential-not-yet-valid' | 'wrong-audience' | 'credential-invalid';
  what: string;
}[] = [
  {
    re: /^The token expired at '[^']*'$/,
    cause: 'credential-expired',
    what: 'SecurityTokenExpiredException: exp is in the past (beyond ClockSkew, 5 minutes by default)',
  },
  {
    re: /^The token is not valid before '[^']*'$/,
    cause: 'credential-not-yet-valid',
    what: 'SecurityTokenNotYetValidException: nbf is in the future',
  },
  {
    re: /^The audience '[^']*' is invalid$/,
    cause: 'wrong-audience',
    what: 'SecurityTokenInvalidAudienceException: aud is not in ValidAudience(s)',
  },
  {
    re: /^The issuer '[^']*' is invalid$/,
    cause: 'wrong-audience',
    what: 'SecurityTokenInvalidIssuerException: iss is not in ValidIssuer(s) / the Authority',
  },
  {
    re: /^The signature key was not found$/,
    cause: 'credential-invalid',
    what: 'SecurityTokenSignatureKeyNotFoundException: the token’s kid matches no key the API knows (IssuerSigningKey(s) / the Authority’s JWKS)',
  },
  {
    re: /^The signature is invalid$/,
    cause: 'credential-invalid',
    what: 'SecurityTokenInvalidSignatureException: the signature does not verify with the configured key',
  },
  {
    re: /^The token has no expiration$/,
    cause: 'credential-invalid',
    what: 'SecurityTokenNoExpirationException: RequireExpirationTime and the token has no exp',
  },
  {
    re: /^The token lifetime is invalid/,
    cause: 'credential-invalid',
    what: 'SecurityTokenInvalidLifetimeException: nbf / exp are inconsistent',
  },
];

export default defineProducer({
  meta: {
    id: 'aspnetcore',
    product: 'aspnetcore',
    layer: 'application',
    causes: [
      'credential-expired',
      'credential-not-yet-valid',
      'wrong-audience',
      'credential-invalid',
      'credential-missing',
    ],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    // Kestrel names itself on every response: only its 401s and 403s are this rule's.
    if (ctx.status !== 401 && ctx.status !== 403) return undefined;
    const found = signals();
    const server = ctx.header('server');
    const kestrel = Boolean(server && /^Kestrel$/i.test(server.trim()));
    if (server && kestrel) found.add(0.85, ev('header:server', `${server} (ASP.NET Core’s web server)`));
    // IIS with ASP.NET may be classic ASP.NET: corroboration, not recognition.
    else if (server && /Microsoft-IIS/i.test(server) && ctx.header('x-powered-by') === 'ASP.NET')
      found.add(0, ev('header:x-powered-by', 'ASP.NET (IIS; ASP.NET Core or classic ASP.NET)'));
    const bearer = challenge(ctx, 'bearer');
    const description = bearer?.params.error_description;
    const described = description ? DESCRIPTIONS.find((d) => d.re.test(description)) : undefined;
    // JwtBearerHandler's own sentence; with Kestrel beside it, all but certain.
    if (described && bearer?.params.error === 'invalid_token')
      found.add(
        kestrel ? 0.95 : 0.8,
        ev('header:www-authenticate.error_description', `"${description}" (JwtBearerHandler’s wording)`),
      );
    return found.result({ bearer, described, description });
  },
  explain(ctx, { bearer, described, description }, report) {
    if (described) {
      const timing = described.cause === 'credential-expired' || described.cause === 'credential-not-yet-valid';
      report.claim(described.cause, 'rejected', 0.6, {
        data: {
          what: described.what,
          checked:
            described.cause === 'wrong-audience' ? 'ValidAudience / ValidIssuer' : 'IssuerSigningKey / Authority',
        },
        evidence: [ev('header:www-authenticate.error_description', description ?? '')],
        fixes: [timing ? 'freshToken' : 'validation'],
      });
    } else if (bearer?.params.error === 'invalid_token') {
      report.claim('credential-invalid', 'unexplained', 0.4, {
        data: { checked: 'all of them' },
        evidence: [ev('header:www-authenticate', 'Bearer error="invalid_token"')],
        fixes: ['validation'],
      });
    } else if (bearer && !bearer.params.error && ctx.status === 401) {
      report.claim('credential-missing', 'noToken', 0.4, {
        data: { url: ctx.url?.href ?? 'URL' },
        evidence: [ev('header:www-authenticate', 'Bearer')],
        fixes: ['sendToken'],
      });
    }
  },
});
