// Express applications: the framework marks its responses with
// `X-Powered-By: Express`, and errors that reach Express's default error
// handler (finalhandler) get one small HTML page — `<pre>` with the error's
// stack outside production, the status text in production — under
// `Content-Security-Policy: default-src 'none'`. What this rule adds on top of
// the generic Bearer rule (rfc6750-bearer) is what is particular to Express's
// middleware: csurf's "invalid csrf token" (EBADCSRFTOKEN), and the
// express-oauth2-jwt-bearer challenge (`Bearer realm="api"`) with its own
// error descriptions; express-jwt's UnauthorizedError messages, which come
// with no WWW-Authenticate at all, so only the page can say why; and
// csrf-csrf, which throws the same "invalid csrf token" as csurf but wants a
// different cookie and header.
import {
  defineProducer,
  ev,
  signals,
  type Challenge,
  type Context,
  type Evidence,
  type Fix,
  type Reporter,
} from '../define.ts';
import { bearerCurlFix, isUnsafeMethod, sentCookie, setsCookie } from '../_lib/framework-requests.ts';

// finalhandler 1.x/2.x createHtmlDocument().
const FINALHANDLER_PAGE =
  /^<!DOCTYPE html>\s*<html lang="en">\s*<head>\s*<meta charset="utf-8">\s*<title>Error<\/title>\s*<\/head>\s*<body>\s*<pre>([\s\S]*?)<\/pre>\s*<\/body>\s*<\/html>\s*$/;
const JWT_BEARER_DOCS = 'https://github.com/auth0/node-oauth2-jwt-bearer/tree/main/packages/express-oauth2-jwt-bearer';
const CSURF_DOCS = 'https://github.com/expressjs/csurf#custom-error-handling';
const EXPRESS_JWT_DOCS = 'https://github.com/auth0/express-jwt#error-handling';
const CSRF_CSRF_DOCS = 'https://github.com/Psifi-Solutions/csrf-csrf#getting-started';
// csrf-csrf's default cookieName.
const CSRF_CSRF_COOKIE = '__Host-psifi.x-csrf-token';

const decode = (s: string) =>
  s
    .replace(/<br>/g, '\n')
    .replace(/&nbsp;/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

interface Page {
  /** First line of the <pre>: "ForbiddenError: invalid csrf token" (development) or "Forbidden" (production). */
  headline: string;
  errorName?: string;
  message?: string;
  /** The whole <pre>, decoded: outside production, the stack names the module that threw. */
  text: string;
}

function finalhandlerPage(ctx: Context): Page | undefined {
  const m = FINALHANDLER_PAGE.exec(ctx.body.text.trimStart());
  if (!m) return undefined;
  const text = decode(m[1]);
  const headline = text.split('\n')[0].trim();
  const named = /^([A-Z]\w*Error)(?:: (.*))?$/.exec(headline);
  return {
    headline,
    text,
    ...(named ? { errorName: named[1], ...(named[2] !== undefined ? { message: named[2] } : {}) } : {}),
  };
}

interface JwtBearer {
  bearer: Challenge;
  dpop?: Challenge;
}

/** express-oauth2-jwt-bearer's challenge: `Bearer realm="api"`, with a `DPoP algs="…"` challenge beside it on 401s. */
function jwtBearerChallenge(ctx: Context): JwtBearer | undefined {
  const bearer = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer' && c.params.realm === 'api');
  if (!bearer) return undefined;
  const dpop = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'dpop' && 'algs' in c.params);
  return { bearer, ...(dpop ? { dpop } : {}) };
}

const csrfCsrfFixes = (method: string, url: string): Fix[] => [
  {
    title:
      'Send the token csrf-csrf issued (generateCsrfToken / req.csrfToken()) in the x-csrf-token header, together with the cookie it set',
    difficulty: 'easy',
    commands: [
      `# GET the route that calls generateCsrfToken with a cookie jar, then send its token with the same jar:
curl -c jar -b jar URL_THAT_ISSUES_THE_TOKEN  # read the token from the response
curl -b jar -X ${method} -H 'x-csrf-token: TOKEN' ${url}`,
    ],
    verify: `The request carries both the ${CSRF_CSRF_COOKIE} cookie and, in x-csrf-token, the token issued with it; the same request then passes.`,
    docs: CSRF_CSRF_DOCS,
  },
  {
    title:
      'Keep the token and the session together: getSessionIdentifier must return the same value when the token is issued and when it is checked, and the __Host- cookie needs Secure (HTTPS), Path=/ and no Domain to be stored at all',
    difficulty: 'medium',
    verify: `The browser’s cookie jar holds ${CSRF_CSRF_COOKIE} for this host when the request is sent, and the session id has not changed since the token was issued.`,
    docs: 'https://github.com/Psifi-Solutions/csrf-csrf/blob/main/FAQ.md#dealing-with-forbiddenerror-invalid-csrf-token',
  },
];

const csurfFixes = (method: string, url: string): Fix[] => [
  {
    title:
      'Send the token csurf issued with the request: the _csrf form field, or a csrf-token / x-csrf-token / xsrf-token header',
    difficulty: 'easy',
    commands: [
      `# GET the page that renders req.csrfToken() with a cookie jar, then post the token with the same jar:\ncurl -c jar -b jar ${url}  # read the token from the page\ncurl -b jar -X ${method} -H 'CSRF-Token: TOKEN' ${url}`,
    ],
    verify: 'The request carries both the _csrf cookie (the secret) and a token made from it.',
    docs: CSURF_DOCS,
  },
  {
    title:
      'Keep the cookie: the _csrf secret cookie must come back with the POST (same host/path, not blocked by SameSite or a different domain)',
    difficulty: 'medium',
    verify: 'The browser’s cookie jar holds _csrf for this host when the form is submitted.',
  },
];

const jwtMalformedFixes = (url: string): Fix[] => [
  {
    title: 'Send the access token (a JWT: header.payload.signature), exactly as issued, after "Bearer "',
    difficulty: 'easy',
    commands: [
      '# three dot-separated parts, no quotes or whitespace:\necho "$TOKEN" | awk -F. \'{print NF}\'  # prints 3',
      `curl -H "Authorization: Bearer $TOKEN" ${url}`,
    ],
    verify: 'The token decodes (`why403 token "$TOKEN"`) and its aud is this API’s audience.',
    docs: JWT_BEARER_DOCS,
  },
  {
    title:
      'With Auth0, request the token with this API’s audience: without `audience`, Auth0 issues an opaque access token this middleware cannot parse',
    difficulty: 'medium',
    docs: 'https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens',
  },
];

const JWT_AUDIENCE_FIX: Fix = {
  title:
    'Request the token for this API: pass the API’s identifier as `audience` to the authorization server (Auth0: the API Identifier under Applications › APIs)',
  difficulty: 'easy',
  commands: [
    'curl -s -X POST https://YOUR_TENANT/oauth/token -H "content-type: application/json" -d \'{"grant_type":"client_credentials","client_id":"…","client_secret":"…","audience":"API_IDENTIFIER"}\'',
  ],
  verify: 'The new token’s aud equals the `audience` the API passes to auth().',
  docs: JWT_BEARER_DOCS,
};

const JWT_SIGNATURE_FIX: Fix = {
  title:
    'Get a token from the issuer the API trusts (its issuerBaseURL), and compare the token’s kid with that issuer’s JWKS',
  difficulty: 'medium',
  commands: [
    'curl -s ISSUER_BASE_URL/.well-known/openid-configuration | jq -r .jwks_uri',
    'curl -s JWKS_URI | jq -r ".keys[].kid"',
  ],
  verify: 'The token’s iss equals the API’s issuer and its kid is published in that JWKS.',
  docs: JWT_BEARER_DOCS,
};

const scopeFix = (required: string[]): Fix => {
  const many = required.length > 1;
  return {
    title: `With Auth0, grant the permission${many ? 's' : ''} ${required.join(' ')} to the client (Applications › APIs › Machine to Machine / user roles) and request ${many ? 'them' : 'it'} in the scope parameter`,
    difficulty: 'medium',
    verify: 'The new token’s scope claim lists the required scope.',
    docs: 'https://auth0.com/docs/get-started/apis/scopes/api-scopes',
  };
};

const sendBearer = (url: string, title: string, verify: string): Fix =>
  bearerCurlFix(url, { title, verify, docs: EXPRESS_JWT_DOCS });

/** express-jwt's UnauthorizedError messages: the cause, the message id, the weight and the fix. */
const EXPRESS_JWT = [
  {
    said: /^No authorization token was found$/,
    cause: 'credential-missing',
    message: 'expressJwtMissing',
    weight: 0.9,
    fix: [
      'Send the token in an Authorization header: "Authorization: Bearer <JWT>" (express-jwt reads only this header unless the app sets getToken)',
      'The same request with the header answers 2xx; if it still says "No authorization token was found", a proxy or CORS preflight is dropping the header.',
    ],
  },
  {
    said: /^Format is Authorization: Bearer \[token\]$/,
    cause: 'credential-malformed',
    message: 'expressJwtBadScheme',
    weight: 0.9,
    fix: [
      'Send the token with the Bearer scheme, one space, no quotes: "Authorization: Bearer <JWT>"',
      'The header’s first word is Bearer and the second is the three-part JWT; the request then answers 2xx.',
    ],
  },
  {
    said: /^jwt expired$/,
    cause: 'credential-expired',
    message: 'expressJwtExpired',
    weight: 0.9,
    fix: [
      'Get a fresh token from whoever issues them (log in again, or use the refresh token) and send that',
      'Decode the new token (`why403 token "$TOKEN"`): exp is in the future, allowing for clock skew between client and server.',
    ],
  },
  {
    said: /^invalid signature$/,
    cause: 'credential-invalid',
    message: 'expressJwtSignature',
    weight: 0.9,
    fix: [
      'Send a token issued by the service whose secret this API is configured with (the `secret` passed to expressjwt)',
      'A token issued by that same service, unmodified, answers 2xx; compare the issuer (iss) and environment of the token you sent.',
    ],
  },
  {
    said: /^(jwt malformed|invalid token|jwt must be provided)$/,
    cause: 'credential-malformed',
    message: 'expressJwtMalformed',
    weight: 0.85,
    fix: [
      'Send the JWT itself (header.payload.signature) after "Bearer ", exactly as issued',
      'echo "$TOKEN" | awk -F. \'{print NF}\' prints 3, and the request answers 2xx.',
    ],
  },
  {
    said: /^jwt audience invalid/,
    cause: 'wrong-audience',
    message: 'expressJwtAudience',
    weight: 0.85,
    fix: [
      'Request the token for this API’s audience (the `audience` option passed to expressjwt)',
      'The new token’s aud equals the audience in the error message.',
    ],
  },
] as const;

const MESSAGES = {
  csrfCsrfSure:
    'csrf-csrf (double-submit cookie) refused this {{method}}: "ForbiddenError: invalid csrf token" (code EBADCSRFTOKEN). {{cookie}}',
  csrfCsrfBare:
    'csrf-csrf (double-submit cookie) refused this {{method}} with Express’s bare production 403, the shape of its EBADCSRFTOKEN. {{cookie}}',
  csrfCsrfCookieSent: `The ${CSRF_CSRF_COOKIE} cookie was sent, so the x-csrf-token header is missing, or the token was issued for another session or secret.`,
  csrfCsrfNoCookie: `No ${CSRF_CSRF_COOKIE} cookie was sent: fetch a token first and keep its cookie.`,
  csurfDev:
    'Express’s CSRF protection refused this {{method}}: csurf refused it: "ForbiddenError: invalid csrf token" (code EBADCSRFTOKEN). {{cookie}}',
  csurfProd:
    'Express’s CSRF protection refused this {{method}}: csurf’s secret cookie (_csrf) is {{where}}, and Express answered 403 to an unsafe method — the shape of csurf’s EBADCSRFTOKEN in production, where the page says only "Forbidden". {{cookie}}',
  csurfUnconfirmable:
    'Express’s CSRF protection may have refused this {{method}}: Express answered 403 with its bare production page to an unsafe method, the shape of csurf’s EBADCSRFTOKEN; the export stripped the cookies that would confirm it. Export the HAR with sensitive data, or run `why403 check`, to see the cookies.',
  jwtMalformed:
    'express-oauth2-jwt-bearer could not even parse the token: "Invalid Token or Protected Header formatting" is what it says when the Bearer value is not a JWS compact serialization (three base64url parts). Something other than the access token was sent — an opaque token, an ID of some kind, a truncated or quoted value.',
  notParsed: 'The token could not be parsed, so its expiry was never checked.',
  jwtAudience:
    'express-oauth2-jwt-bearer checks the token’s aud against its `audience` option; "{{description}}" means the token was issued for another API.',
  jwtSignature:
    'express-oauth2-jwt-bearer found the key the token names in the issuer’s JWKS, but the signature does not verify with it: the token was signed by another key (another tenant or environment, a rotated key) or altered.',
  jwtScope:
    'express-oauth2-jwt-bearer’s requiredScopes({{required}}) refused the token: its scope claim lacks {{which}}.',
  expressJwtMissing:
    'express-jwt found no token (code credentials_required): the request has no Authorization header, or the header did not reach the app.',
  expressJwtBadScheme:
    'express-jwt could not read the Authorization header (code credentials_bad_scheme or credentials_bad_format): it takes exactly "Bearer <token>"{{sent}}.',
  expressJwtExpired:
    'express-jwt (jsonwebtoken) found the token’s exp in the past (code invalid_token, "jwt expired").',
  expressJwtSignature:
    'express-jwt (jsonwebtoken) could not verify the token’s signature with its secret (code invalid_token, "invalid signature"): the token was signed with another key — another environment or service, a rotated secret — or altered.',
  expressJwtMalformed:
    'express-jwt (jsonwebtoken) could not parse the Bearer value as a JWT (code invalid_token, "{{said}}"): something other than a JWT was sent, or it was truncated or quoted.',
  expressJwtAudience:
    'express-jwt (jsonwebtoken) refused the token’s aud (code invalid_token, "{{said}}"): the token was issued for another API.',
} as const;

type Message = keyof typeof MESSAGES;
type ExpressCause =
  | 'csrf'
  | 'credential-missing'
  | 'credential-malformed'
  | 'credential-expired'
  | 'wrong-audience'
  | 'credential-invalid'
  | 'insufficient-scope';
type Report = Reporter<ExpressCause, Message>;

interface Seen {
  page?: Page;
  jwt?: JwtBearer;
  evidence: Evidence[];
}

// csurf and csrf-csrf throw the same ForbiddenError; the stack (outside
// production) or csrf-csrf's default cookie tells which one, and they want
// different cookies and headers.
function explainCsrf(ctx: Context, { page, evidence }: Seen, report: Report): void {
  const url = ctx.url?.href ?? 'URL';
  const method = ctx.method;
  const csurfDev = page?.errorName === 'ForbiddenError' && /^invalid csrf token$/i.test(page.message ?? '');
  const csrfCsrfCookieSent = sentCookie(ctx, CSRF_CSRF_COOKIE);
  const csrfCsrfCookieSet = setsCookie(ctx, CSRF_CSRF_COOKIE);
  const csrfCsrfStack = /[\\/]csrf-csrf[\\/]/.test(page?.text ?? '');
  const csrfCookieSent = sentCookie(ctx, '_csrf');
  const csrfCookieSet = setsCookie(ctx, '_csrf');
  const bareForbidden = !csurfDev && ctx.status === 403 && page?.headline === 'Forbidden' && isUnsafeMethod(method);
  const csrfCsrf =
    (csurfDev && (csrfCsrfStack || csrfCsrfCookieSent)) || (bareForbidden && (csrfCsrfCookieSent || csrfCsrfCookieSet));
  const csurfProd = bareForbidden && (csrfCookieSent || csrfCookieSet);
  // A sanitized export removed the cookies that would tell csurf apart from
  // any other middleware's 403: keep csrf as the leading guess, weakly.
  const csurfUnconfirmable = bareForbidden && !csurfProd && !csrfCsrf && ctx.exchange.credentialsStripped === true;
  if (csrfCsrf) {
    const cookieText = csrfCsrfCookieSent
      ? `${CSRF_CSRF_COOKIE} cookie sent`
      : csrfCsrfCookieSet
        ? `${CSRF_CSRF_COOKIE} cookie set by the response (none was sent)`
        : `no ${CSRF_CSRF_COOKIE} cookie sent`;
    report.claim('csrf', csurfDev ? 'csrfCsrfSure' : 'csrfCsrfBare', csurfDev ? 0.95 : 0.7, {
      data: { method, cookie: MESSAGES[csrfCsrfCookieSent ? 'csrfCsrfCookieSent' : 'csrfCsrfNoCookie'] },
      evidence: [
        ...evidence,
        ...(csrfCsrfStack ? [ev('body', 'the stack on the error page runs through node_modules/csrf-csrf')] : []),
        ev(csrfCsrfCookieSent ? 'request-header:cookie' : 'header:set-cookie', cookieText),
      ],
      fixes: csrfCsrfFixes(method, url),
    });
    return;
  }
  if (!csurfDev && !csurfProd && !csurfUnconfirmable) return;
  const cookie = csrfCookieSent
    ? 'The _csrf cookie was sent, so the token in the form or header is missing or wrong.'
    : 'No _csrf cookie was sent: load the form first, or keep its cookie.';
  const cookieText = csrfCookieSent
    ? '_csrf cookie sent'
    : csrfCookieSet
      ? '_csrf cookie set by the response (none was sent)'
      : 'no _csrf cookie sent';
  const seen = csurfUnconfirmable
    ? ev('request:method', `${method} answered with Express’s bare 403 page; cookies unknown (sanitized export)`)
    : ev(csrfCookieSent ? 'request-header:cookie' : 'header:set-cookie', cookieText);
  const where = csrfCookieSent ? 'in the request' : 'being set by this very response, so the request came without it';
  report.claim(
    'csrf',
    csurfDev ? 'csurfDev' : csurfUnconfirmable ? 'csurfUnconfirmable' : 'csurfProd',
    csurfDev ? 0.95 : csurfUnconfirmable ? 0.35 : 0.7,
    {
      data: { method, cookie, where },
      evidence: [...evidence, seen],
      fixes: csurfFixes(method, url),
    },
  );
}

// express-oauth2-jwt-bearer: what is particular to this library (the generic
// error codes are rfc6750-bearer's).
function explainJwtBearer(ctx: Context, jwt: JwtBearer, evidence: Evidence[], report: Report): void {
  const url = ctx.url?.href ?? 'URL';
  const description = jwt.bearer.params.error_description ?? '';
  const libraryEv = ev('header:www-authenticate.error_description', description || '(none)');
  if (/^Invalid Token or Protected Header formatting$/i.test(description)) {
    report.claim('credential-malformed', 'jwtMalformed', 0.85, {
      evidence: [...evidence, libraryEv],
      fixes: jwtMalformedFixes(url),
    });
    // It failed before any claim was read: expiry is not the problem.
    report.claim('credential-expired', 'notParsed', -0.8, { evidence: [libraryEv] });
  } else if (/'aud'|"aud"/.test(description)) {
    report.claim('wrong-audience', 'jwtAudience', 0.3, {
      data: { description },
      evidence: [...evidence, libraryEv],
      fixes: [JWT_AUDIENCE_FIX],
    });
  } else if (/^signature verification failed$/i.test(description)) {
    report.claim('credential-invalid', 'jwtSignature', 0.3, {
      evidence: [...evidence, libraryEv],
      fixes: [JWT_SIGNATURE_FIX],
    });
  }
  if (ctx.status === 403 && jwt.bearer.params.error === 'insufficient_scope') {
    const required = (jwt.bearer.params.scope ?? '').split(/\s+/).filter(Boolean);
    report.claim('insufficient-scope', 'jwtScope', 0.3, {
      data: {
        required: required.map((s) => `'${s}'`).join(', '),
        which: required.length > 1 ? 'these scopes' : 'this scope',
      },
      evidence: [...evidence, ev('header:www-authenticate.scope', required.join(' '))],
      fixes: [scopeFix(required)],
    });
  }
}

// express-jwt: UnauthorizedError with the message of its code (or of the
// jsonwebtoken error it wraps), and no WWW-Authenticate.
function explainExpressJwt(ctx: Context, page: Page, evidence: Evidence[], report: Report): void {
  const said = page.message;
  if (page.errorName !== 'UnauthorizedError' || said === undefined || ctx.status !== 401) return;
  const known = EXPRESS_JWT.find((k) => k.said.test(said));
  if (!known) return;
  const thrown = /[\\/]express-jwt[\\/]/.test(page.text) ? ' (thrown from node_modules/express-jwt)' : '';
  const auth = ctx.requestHeader('authorization');
  const sent = auth ? `, and this request sent the scheme "${auth.split(/\s+/)[0]}"` : '';
  report.claim(known.cause, known.message, known.weight, {
    data: { said, sent },
    evidence: [...evidence, ev('body', `express-jwt: "UnauthorizedError: ${said}"${thrown}`)],
    fixes: [sendBearer(ctx.url?.href ?? 'URL', known.fix[0], known.fix[1])],
  });
}

export default defineProducer({
  meta: {
    id: 'express',
    product: 'express',
    layer: 'application',
    description:
      'Express applications: X-Powered-By and the default error handler’s page; csurf’s invalid csrf token (EBADCSRFTOKEN); express-oauth2-jwt-bearer’s Bearer realm="api" challenges; express-jwt’s UnauthorizedError messages; csrf-csrf’s invalid csrf token.',
    docs: [
      'https://expressjs.com/en/guide/error-handling.html',
      'https://github.com/pillarjs/finalhandler',
      CSURF_DOCS,
      JWT_BEARER_DOCS,
      EXPRESS_JWT_DOCS,
      CSRF_CSRF_DOCS,
      'https://auth0.com/docs/quickstart/backend/nodejs/interactive',
    ],
    causes: [
      'csrf',
      'credential-missing',
      'credential-malformed',
      'credential-expired',
      'wrong-audience',
      'credential-invalid',
      'insufficient-scope',
    ],
    statuses: [401, 403],
    messages: MESSAGES,
  },
  recognise(ctx) {
    const poweredBy = ctx.header('x-powered-by');
    const page = finalhandlerPage(ctx);
    const csp = ctx.header('content-security-policy');
    const jwt = jwtBearerChallenge(ctx);
    const found = signals();
    const header = poweredBy !== undefined && /express/i.test(poweredBy);
    if (header) found.add(0.75, ev('header:x-powered-by', poweredBy));
    // The header and the page together are all but certain.
    if (page)
      found.add(
        poweredBy ? 0.95 : 0.8,
        ev('body', `Express’s default error handler page: <pre>${page.headline}</pre>`),
      );
    // Corroboration only: alone, neither names Express.
    if (page && csp === "default-src 'none'") found.add(0, ev('header:content-security-policy', csp));
    if (jwt)
      found.add(
        0,
        ev(
          'header:www-authenticate',
          `express-oauth2-jwt-bearer challenge: Bearer realm="api"${jwt.dpop ? ', DPoP algs="…"' : ''}`,
        ),
      );
    return found.result({ page, jwt });
  },
  explain(ctx, seen, report) {
    explainCsrf(ctx, seen, report);
    if (seen.jwt) explainJwtBearer(ctx, seen.jwt, seen.evidence, report);
    if (seen.page) explainExpressJwt(ctx, seen.page, seen.evidence, report);
  },
});
