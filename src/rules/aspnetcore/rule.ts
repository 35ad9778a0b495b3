// ASP.NET Core's JwtBearer handler answers a rejected token with 401, an empty
// body and WWW-Authenticate: Bearer error="invalid_token" whose
// error_description (IncludeErrorDetails, on by default) is one of the fixed
// sentences of JwtBearerHandler.CreateErrorDescription — "The token expired
// at '…'", "The audience '…' is invalid", "The signature key was not found"…
// Those sentences and Kestrel's Server header name the product; the
// rfc6750-bearer rule reads the error code itself, so this rule adds the
// ASP.NET Core side of the fix (TokenValidationParameters, the issuer's keys).
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';

const DOCS = 'https://learn.microsoft.com/en-us/aspnet/core/security/authentication/configure-jwt-bearer-authentication';

// JwtBearerHandler.CreateErrorDescription (src/Security/Authentication/JwtBearer/src/JwtBearerHandler.cs).
const DESCRIPTIONS: { re: RegExp; cause: CauseId; what: string }[] = [
  { re: /^The token expired at '[^']*'$/, cause: 'credential-expired', what: 'SecurityTokenExpiredException: exp is in the past (beyond ClockSkew, 5 minutes by default)' },
  { re: /^The token is not valid before '[^']*'$/, cause: 'credential-not-yet-valid', what: 'SecurityTokenNotYetValidException: nbf is in the future' },
  { re: /^The audience '[^']*' is invalid$/, cause: 'wrong-audience', what: 'SecurityTokenInvalidAudienceException: aud is not in ValidAudience(s)' },
  { re: /^The issuer '[^']*' is invalid$/, cause: 'wrong-audience', what: 'SecurityTokenInvalidIssuerException: iss is not in ValidIssuer(s) / the Authority' },
  { re: /^The signature key was not found$/, cause: 'credential-invalid', what: 'SecurityTokenSignatureKeyNotFoundException: the token’s kid matches no key the API knows (IssuerSigningKey(s) / the Authority’s JWKS)' },
  { re: /^The signature is invalid$/, cause: 'credential-invalid', what: 'SecurityTokenInvalidSignatureException: the signature does not verify with the configured key' },
  { re: /^The token has no expiration$/, cause: 'credential-invalid', what: 'SecurityTokenNoExpirationException: RequireExpirationTime and the token has no exp' },
  { re: /^The token lifetime is invalid/, cause: 'credential-invalid', what: 'SecurityTokenInvalidLifetimeException: nbf / exp are inconsistent' },
];

function bearer(ctx: Context) {
  return ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer');
}

function signature(ctx: Context): { confidence: number; evidence: Evidence[]; described?: (typeof DESCRIPTIONS)[number]; description?: string } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const server = ctx.header('server');
  if (server && /^Kestrel$/i.test(server.trim())) {
    confidence = 0.85;
    evidence.push(ev('header:server', `${server} (ASP.NET Core’s web server)`));
  } else if (server && /Microsoft-IIS/i.test(server) && ctx.header('x-powered-by') === 'ASP.NET') evidence.push(ev('header:x-powered-by', 'ASP.NET (IIS; ASP.NET Core or classic ASP.NET)'));
  const c = bearer(ctx);
  const description = c?.params.error_description;
  const described = description ? DESCRIPTIONS.find((d) => d.re.test(description)) : undefined;
  if (described && c?.params.error === 'invalid_token') {
    confidence = Math.max(confidence, 0.8) + (confidence ? 0.1 : 0);
    evidence.push(ev('header:www-authenticate.error_description', `"${description}" (JwtBearerHandler’s wording)`));
  }
  return { confidence: Math.min(confidence, 0.95), evidence, described, description };
}

const validationFix = (what: string): Fix => ({
  title: `Compare the token with the API’s JwtBearer TokenValidationParameters (${what})`,
  difficulty: 'medium',
  commands: ['why403 token "$TOKEN"', 'dotnet user-jwts print ID --show-all  # tokens minted by `dotnet user-jwts create` in development', 'grep -rn -E "AddJwtBearer|TokenValidationParameters|ValidAudience|ValidIssuer|Authority" --include=*.cs --include=appsettings*.json .'],
  verify: 'The decoded token’s iss, aud, exp/nbf and kid match Authentication:Schemes:Bearer (ValidIssuer, ValidAudiences, the Authority’s JWKS) in appsettings.json.',
  docs: DOCS,
});

export default defineRule({
  meta: {
    id: 'aspnetcore',
    kind: 'producer',
    product: 'aspnetcore',
    layer: 'application',
    description: 'ASP.NET Core JwtBearer rejections (WWW-Authenticate: Bearer error="invalid_token" with JwtBearerHandler’s error_description sentences) served by Kestrel.',
    docs: [DOCS, 'https://learn.microsoft.com/en-us/aspnet/core/security/authentication/jwt-authn', 'https://learn.microsoft.com/en-us/aspnet/core/fundamentals/servers/kestrel'],
    causes: ['credential-expired', 'credential-not-yet-valid', 'wrong-audience', 'credential-invalid', 'credential-missing'],
  },
  applies: (ctx) => ctx.status === 401 || ctx.status === 403,
  run(ctx) {
    const sig = signature(ctx);
    if (!sig.confidence) return undefined;
    const producer = { product: 'aspnetcore' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    const c = bearer(ctx);
    const causes: CauseClaim[] = [];
    if (sig.described) {
      const d = sig.described;
      causes.push({
        id: d.cause,
        weight: 0.6,
        summary: `ASP.NET Core’s JwtBearer handler rejected the token: ${d.what}.`,
        evidence: [ev('header:www-authenticate.error_description', sig.description ?? '')],
        fixes: [
          d.cause === 'credential-expired' || d.cause === 'credential-not-yet-valid'
            ? { title: 'Get a fresh token (refresh it); if it should still be valid, check the clocks of the issuer and the API host', difficulty: 'easy', commands: ['why403 token "$TOKEN"', 'date -u'], verify: 'why403 token shows exp in the future and nbf in the past.', docs: DOCS }
            : validationFix(d.cause === 'wrong-audience' ? 'ValidAudience / ValidIssuer' : 'IssuerSigningKey / Authority'),
        ],
      });
    } else if (c?.params.error === 'invalid_token') {
      causes.push({ id: 'credential-invalid', weight: 0.4, summary: 'ASP.NET Core rejected the token without saying why (IncludeErrorDetails = false, or a failure it does not describe); the API’s log (JwtBearerHandler “Failed to validate the token”) has the IDX error.', evidence: [ev('header:www-authenticate', 'Bearer error="invalid_token"')], fixes: [validationFix('all of them')] });
    } else if (c && !c.params.error && ctx.status === 401) {
      causes.push({ id: 'credential-missing', weight: 0.4, summary: 'A bare Bearer challenge: the [Authorize] endpoint got no bearer token.', evidence: [ev('header:www-authenticate', 'Bearer')], fixes: [{ title: 'Send the access token as Authorization: Bearer', difficulty: 'easy', commands: [`curl -H "Authorization: Bearer $TOKEN" ${ctx.url?.href ?? 'URL'}`], verify: 'dotnet user-jwts print ID shows a token for this API (development), and the request carries it.', docs: DOCS }] });
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
