// Fastify applications. Fastify adds no header of its own; what marks it is
// its default error serializer: `{"statusCode":…,"code":"FST_…","error":…,
// "message":…}` in exactly that key order, `code` present when the error has
// one. Fastify's own plugins name their errors FST_*, so the code both names
// the producer and says which plugin refused: @fastify/csrf-protection
// (FST_CSRF_*) and @fastify/jwt (FST_JWT_*). Without a code the same shape is
// what a route's `reply.code(403).send(new Error(…))` gives — and also what
// hapi's Boom sends, so that reading stays weak unless Fastify's default
// `Keep-Alive: timeout=72` (keepAliveTimeout 72 s; Node's own is 5 s) is beside it.
// The generic RFC 6750 reading of a Bearer challenge is rfc6750-bearer's job.
import { defineProducer, ev, signals, type Context, type Evidence, type Fix, type Reporter } from '../define.ts';
import { authorizationShown, bearerCurlFix, sentCookie } from '../_lib/framework-requests.ts';

// Not `import … from 'node:http'`: the ESM view of node:http touches every
// export, which loads Node's bundled undici (~15 ms) into every diagnosis.
const { STATUS_CODES } = process.getBuiltinModule('node:http');

const ERRORS_DOCS = 'https://fastify.dev/docs/latest/Reference/Errors/';
const CSRF_DOCS = 'https://github.com/fastify/csrf-protection';
const JWT_DOCS = 'https://github.com/fastify/fastify-jwt';

interface FastifyError {
  statusCode: number;
  code?: string;
  error: string;
  message: string;
}

/** Fastify's default error body: these keys, in this order, nothing else. */
function fastifyError(ctx: Context): FastifyError | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const o = j as Record<string, unknown>;
  const keys = Object.keys(o).join(',');
  if (keys !== 'statusCode,code,error,message' && keys !== 'statusCode,error,message') return undefined;
  if (typeof o.statusCode !== 'number' || typeof o.error !== 'string' || typeof o.message !== 'string')
    return undefined;
  if (o.code !== undefined && typeof o.code !== 'string') return undefined;
  // Fastify fills `error` with the status text of `statusCode`.
  if (o.error !== STATUS_CODES[o.statusCode]) return undefined;
  return {
    statusCode: o.statusCode,
    error: o.error,
    message: o.message,
    ...(typeof o.code === 'string' ? { code: o.code } : {}),
  };
}

const fastifyKeepAlive = (ctx: Context) => /(?:^|,)\s*timeout=72\b/.test(ctx.header('keep-alive') ?? '');

const csrfSecretFixes = (method: string, url: string): Fix[] => [
  {
    title:
      'Keep the _csrf cookie: load the page that calls reply.generateCsrf() first and send its cookie back with the request (same host and path, not dropped by SameSite, Secure or a cross-site fetch without credentials)',
    difficulty: 'easy',
    commands: [
      `curl -c jar -b jar ${url.split('?', 1)[0]}  # the page that issues the token\ncurl -b jar -X ${method} -H 'x-csrf-token: TOKEN' ${url}`,
    ],
    verify: 'The refused request carries a _csrf cookie; the error changes from FST_CSRF_MISSING_SECRET or disappears.',
    docs: CSRF_DOCS,
  },
  {
    title:
      'With sessions (@fastify/session or @fastify/secure-session, sessionPlugin option), make sure the session cookie survives between the GET that made the token and this request',
    difficulty: 'medium',
    docs: CSRF_DOCS,
  },
];

const csrfTokenFixes = (method: string, url: string): Fix[] => [
  {
    title:
      'Send the token reply.generateCsrf() returned: the _csrf body field, or a csrf-token / xsrf-token / x-csrf-token / x-xsrf-token header (the default getToken), with the same _csrf cookie',
    difficulty: 'easy',
    commands: [`curl -b jar -X ${method} -H 'x-csrf-token: TOKEN' ${url}`],
    verify: 'The request carries the _csrf cookie and a token generated from that same secret.',
    docs: CSRF_DOCS,
  },
  {
    title:
      'If the token is in a form body, run csrfProtection as a preHandler (or onRequest only with a header token): in onRequest the body is not parsed yet, so the _csrf field is never seen',
    difficulty: 'medium',
    verify: 'The route registers `preHandler: fastify.csrfProtection` when the token comes in the body.',
    docs: CSRF_DOCS,
  },
];

const sendJwt = (url: string): Fix =>
  bearerCurlFix(url, {
    title: 'Send the JWT as "Authorization: Bearer <token>"',
    verify: 'The error is no longer FST_JWT_NO_AUTHORIZATION_IN_HEADER.',
    docs: JWT_DOCS,
  });

const sendExactly = (url: string): Fix =>
  bearerCurlFix(url, { title: 'Send exactly "Authorization: Bearer <token>", one space, no quotes', docs: JWT_DOCS });

const EXPIRED_FIXES: Fix[] = [
  {
    title: 'Get a new token (log in again or use the refresh flow) and retry',
    difficulty: 'easy',
    verify: 'Decode it (`why403 token "$TOKEN"`): exp is in the future.',
    docs: JWT_DOCS,
  },
  {
    title:
      'If tokens expire early for many clients, compare the server’s clock with the issuer’s, or allow a little clockTolerance in the plugin’s verify options',
    difficulty: 'medium',
    docs: JWT_DOCS,
  },
];

const SEND_JWT_ITSELF: Fix = {
  title: 'Send the JWT itself (header.payload.signature), exactly as issued, after "Bearer "',
  difficulty: 'easy',
  commands: ['echo "$TOKEN" | awk -F. \'{print NF}\'  # prints 3'],
  docs: JWT_DOCS,
};

const TRUSTED_ISSUER: Fix = {
  title:
    'Get a token from the issuer this app trusts: the one that signs with the secret / public key passed to @fastify/jwt’s `secret` option',
  difficulty: 'medium',
  verify: 'The token’s alg and kid match the app’s key; a fresh login token is accepted.',
  docs: JWT_DOCS,
};

const ROLE_FIX: Fix = {
  title: 'Use an account (or token) with the role the route checks, or have an administrator grant it',
  difficulty: 'medium',
  verify:
    'Decode the token (`why403 token "$TOKEN"`) and compare its role claims with the route’s check; the same request with the other identity answers 2xx.',
};

const MESSAGES = {
  csrfMissingSecret:
    '@fastify/csrf-protection refused this {{method}}: "Missing csrf secret" (FST_CSRF_MISSING_SECRET) — the _csrf cookie (or session secret) that the token is checked against did not come with the request{{cookieNote}}.',
  csrfInvalidToken:
    '@fastify/csrf-protection refused this {{method}}: "Invalid csrf token" (FST_CSRF_INVALID_TOKEN) — the secret {{secret}}, but the token was missing or was not made from that secret.',
  jwtWrongScheme:
    '@fastify/jwt found no token ({{code}}) because the Authorization header uses the scheme "{{scheme}}": request.jwtVerify() only reads "Authorization: Bearer <token>".',
  jwtNoToken:
    '@fastify/jwt found no token ({{code}}): request.jwtVerify() needs "Authorization: Bearer <token>"{{cookieNote}}, and none came.',
  jwtBadRequest:
    '@fastify/jwt could not read a token from the request ({{code}}: "{{said}}"): the value after "Bearer " is empty or split by extra spaces.',
  jwtExpired:
    '@fastify/jwt says the token expired (FST_JWT_AUTHORIZATION_TOKEN_EXPIRED): its exp is in the past by the server’s clock.',
  jwtMalformed:
    '@fastify/jwt could not parse the Bearer value as a JWT ("{{said}}"): it is not three base64url parts — an opaque token, a quoted or truncated value.',
  jwtInvalid: '@fastify/jwt rejected the token ("{{said}}"): {{why}}.',
  notParsed: 'The token could not be parsed, so its expiry was never checked.',
  routeRefused:
    'The Fastify route refused the request itself ("{{said}}"){{accepted}}: the principal lacks what the route’s check requires.{{holds}}',
} as const;

type FastifyCause =
  | 'csrf'
  | 'credential-missing'
  | 'credential-malformed'
  | 'credential-expired'
  | 'credential-invalid'
  | 'insufficient-role';
type Report = Reporter<FastifyCause, keyof typeof MESSAGES>;

interface Seen {
  err: FastifyError;
  fstCode?: string;
  evidence: Evidence[];
}

function explainCsrf(ctx: Context, { err, fstCode, evidence }: Seen, report: Report): void {
  const url = ctx.url?.href ?? 'URL';
  const secretMissing = fstCode === 'FST_CSRF_MISSING_SECRET';
  const cookieSent = sentCookie(ctx, '_csrf');
  report.claim('csrf', secretMissing ? 'csrfMissingSecret' : 'csrfInvalidToken', 0.95, {
    data: {
      method: ctx.method,
      cookieNote: cookieSent
        ? ', though a _csrf cookie was sent: it may be signed/unsigned differently from the plugin’s cookieOpts'
        : '',
      secret: cookieSent ? 'cookie came' : 'was found',
    },
    evidence: [
      ...evidence,
      ev('body:message', err.message),
      ev('request-header:cookie', cookieSent ? '_csrf cookie sent' : 'no _csrf cookie sent'),
    ],
    fixes: secretMissing ? csrfSecretFixes(ctx.method, url) : csrfTokenFixes(ctx.method, url),
  });
}

function explainJwt(ctx: Context, { err, fstCode = '', evidence }: Seen, report: Report): void {
  const url = ctx.url?.href ?? 'URL';
  const said = ev('body:message', err.message);
  const auth = ctx.requestHeader('authorization');
  if (fstCode === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER' || fstCode === 'FST_JWT_NO_AUTHORIZATION_IN_COOKIE') {
    // @fastify/jwt answers "No Authorization was found" also when the
    // header is there with another scheme: it only looks for "Bearer ".
    const wrongScheme = auth !== undefined && !/^bearer\s+\S/i.test(auth);
    report.claim(
      wrongScheme ? 'credential-malformed' : 'credential-missing',
      wrongScheme ? 'jwtWrongScheme' : 'jwtNoToken',
      0.9,
      {
        data: {
          code: fstCode,
          scheme: auth?.split(/\s+/)[0],
          cookieNote: fstCode.endsWith('COOKIE') ? ' or the cookie named in its cookie option' : '',
        },
        evidence: [...evidence, said, ev('request-header:authorization', authorizationShown(auth))],
        fixes: [sendJwt(url)],
      },
    );
  } else if (fstCode === 'FST_JWT_BAD_REQUEST' || fstCode === 'FST_JWT_BAD_COOKIE_REQUEST') {
    report.claim('credential-malformed', 'jwtBadRequest', 0.85, {
      data: { code: fstCode, said: err.message },
      evidence: [...evidence, said],
      fixes: [sendExactly(url)],
    });
  } else if (fstCode === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED') {
    report.claim('credential-expired', 'jwtExpired', 0.9, { evidence: [...evidence, said], fixes: EXPIRED_FIXES });
  } else if (fstCode === 'FST_JWT_AUTHORIZATION_TOKEN_INVALID') {
    if (/malformed/i.test(err.message)) {
      report.claim('credential-malformed', 'jwtMalformed', 0.85, {
        data: { said: err.message },
        evidence: [...evidence, said],
        fixes: [SEND_JWT_ITSELF],
      });
      report.claim('credential-expired', 'notParsed', -0.8, { evidence: [said] });
      return;
    }
    const why = /signature/i.test(err.message)
      ? 'it was not signed with the secret or key this app verifies with (another environment, a rotated secret, or an altered token)'
      : 'it failed verification';
    report.claim('credential-invalid', 'jwtInvalid', 0.85, {
      data: { said: err.message, why },
      evidence: [...evidence, said],
      fixes: [TRUSTED_ISSUER],
    });
  }
}

// A route's own refusal. The message is the application's; a valid
// credential that still gets 403 is a permission question.
function explainRoute(ctx: Context, { err, evidence }: Seen, report: Report): void {
  const credentialSent = ctx.requestHeader('authorization') !== undefined || ctx.credential.items.length > 0;
  const roleWords = /\b(role|admin|permission|privilege|not allowed|not authori[sz]ed|forbidden|access)\b/i.test(
    err.message,
  );
  if (!credentialSent && !roleWords) return;
  const roles = [...new Set(ctx.credential.items.flatMap((i) => i.roles ?? []))];
  report.claim('insufficient-role', 'routeRefused', roleWords && credentialSent ? 0.6 : 0.35, {
    data: {
      said: err.message,
      accepted: credentialSent ? ' after the credential was accepted' : '',
      holds: roles.length ? ` The token holds: ${roles.join(', ')}.` : '',
    },
    evidence: [
      ...evidence,
      ev('body:message', err.message),
      ...(roles.length ? [ev('credential:roles', roles.join(', '))] : []),
    ],
    fixes: [ROLE_FIX],
  });
}

export default defineProducer({
  meta: {
    id: 'fastify',
    product: 'fastify',
    layer: 'application',
    description:
      'Fastify applications: the default error serializer’s {statusCode, code: FST_*, error, message}; @fastify/csrf-protection (FST_CSRF_*) and @fastify/jwt (FST_JWT_*) refusals; a route’s plain 403 error.',
    docs: [
      ERRORS_DOCS,
      'https://fastify.dev/docs/latest/Reference/Reply/#errors',
      'https://fastify.dev/docs/latest/Reference/Server/#keepalivetimeout',
      CSRF_DOCS,
      JWT_DOCS,
    ],
    causes: [
      'csrf',
      'credential-missing',
      'credential-malformed',
      'credential-expired',
      'credential-invalid',
      'insufficient-role',
    ],
    statuses: [401, 403],
    messages: MESSAGES,
  },
  recognise(ctx) {
    const err = fastifyError(ctx);
    if (!err) return undefined;
    const fstCode = err.code && /^FST_/.test(err.code) ? err.code : undefined;
    const found = signals();
    if (err.code) found.add(fstCode ? 0.93 : 0.55, ev('body:code', err.code));
    else
      found.add(
        0.45,
        ev(
          'body',
          `{"statusCode":${err.statusCode},"error":"${err.error}","message":…}: Fastify’s default error shape (hapi’s Boom shares it)`,
        ),
      );
    // Fastify's keep-alive default is what tells its code-less body from Boom's.
    if (fastifyKeepAlive(ctx))
      found.add(
        err.code ? 0 : 0.7,
        ev('header:keep-alive', `${ctx.header('keep-alive')} (Fastify’s default keepAliveTimeout of 72 s)`),
      );
    return found.result({ err, ...(fstCode ? { fstCode } : {}) });
  },
  explain(ctx, seen, report) {
    if (seen.fstCode?.startsWith('FST_CSRF_')) explainCsrf(ctx, seen, report);
    else if (seen.fstCode?.startsWith('FST_JWT_')) explainJwt(ctx, seen, report);
    else if (!seen.err.code && ctx.status === 403) explainRoute(ctx, seen, report);
  },
});
