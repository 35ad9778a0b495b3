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
import { defineProducer, ev, signals, type Challenge, type Context, type Evidence, type Reporter } from '../define.ts';
import { isUnsafeMethod, sentCookie, setsCookie } from '../_lib/framework-requests.ts';
import texts from './texts.json' with { type: 'json' };

// finalhandler 1.x/2.x createHtmlDocument().
const FINALHANDLER_PAGE =
  /^<!DOCTYPE html>\s*<html lang="en">\s*<head>\s*<meta charset="utf-8">\s*<title>Error<\/title>\s*<\/head>\s*<body>\s*<pre>([\s\S]*?)<\/pre>\s*<\/body>\s*<\/html>\s*$/;
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

/** express-jwt's UnauthorizedError messages: the cause, the message id (also its fix's id) and the weight. */
const EXPRESS_JWT = [
  {
    said: /^No authorization token was found$/,
    cause: 'credential-missing',
    message: 'expressJwtMissing',
    weight: 0.9,
    fix: 'expressJwtMissing',
  },
  {
    said: /^Format is Authorization: Bearer \[token\]$/,
    cause: 'credential-malformed',
    message: 'expressJwtBadScheme',
    weight: 0.9,
    fix: 'expressJwtBadScheme',
  },
  {
    said: /^jwt expired$/,
    cause: 'credential-expired',
    message: 'expressJwtExpired',
    weight: 0.9,
    fix: 'expressJwtExpired',
  },
  {
    said: /^invalid signature$/,
    cause: 'credential-invalid',
    message: 'expressJwtSignature',
    weight: 0.9,
    fix: 'expressJwtSignature',
  },
  {
    said: /^(jwt malformed|invalid token|jwt must be provided)$/,
    cause: 'credential-malformed',
    message: 'expressJwtMalformed',
    weight: 0.85,
    fix: 'expressJwtMalformed',
  },
  {
    said: /^jwt audience invalid/,
    cause: 'wrong-audience',
    message: 'expressJwtAudience',
    weight: 0.85,
    fix: 'expressJwtAudience',
  },
] as const;

type ExpressCause =
  | 'csrf'
  | 'credential-missing'
  | 'credential-malformed'
  | 'credential-expired'
  | 'wrong-audience'
  | 'credential-invalid'
  | 'insufficient-scope';
type Report = Reporter<ExpressCause, keyof typeof texts.messages, keyof typeof texts.fixes>;

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
      data: { method, url, cookie: texts.messages[csrfCsrfCookieSent ? 'csrfCsrfCookieSent' : 'csrfCsrfNoCookie'] },
      evidence: [
        ...evidence,
        ...(csrfCsrfStack ? [ev('body', 'the stack on the error page runs through node_modules/csrf-csrf')] : []),
        ev(csrfCsrfCookieSent ? 'request-header:cookie' : 'header:set-cookie', cookieText),
      ],
      fixes: ['csrfCsrfSendToken', 'csrfCsrfSameSession'],
    });
    return;
  }
  if (!csurfDev && !csurfProd && !csurfUnconfirmable) return;
  const cookie = texts.messages[csrfCookieSent ? 'csurfCookieSent' : 'csurfNoCookie'];
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
      data: { method, url, cookie, where },
      evidence: [...evidence, seen],
      fixes: ['csurfSendToken', 'csurfKeepCookie'],
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
      data: { url },
      evidence: [...evidence, libraryEv],
      fixes: ['jwtSendAccessToken', 'auth0Audience'],
    });
    // It failed before any claim was read: expiry is not the problem.
    report.claim('credential-expired', 'notParsed', -0.8, { evidence: [libraryEv] });
  } else if (/'aud'|"aud"/.test(description)) {
    report.claim('wrong-audience', 'jwtAudience', 0.3, {
      data: { description },
      evidence: [...evidence, libraryEv],
      fixes: ['jwtAudience'],
    });
  } else if (/^signature verification failed$/i.test(description)) {
    report.claim('credential-invalid', 'jwtSignature', 0.3, {
      evidence: [...evidence, libraryEv],
      fixes: ['jwtSignature'],
    });
  }
  if (ctx.status === 403 && jwt.bearer.params.error === 'insufficient_scope') {
    const required = (jwt.bearer.params.scope ?? '').split(/\s+/).filter(Boolean);
    report.claim('insufficient-scope', 'jwtScope', 0.3, {
      data: {
        required: required.map((s) => `'${s}'`).join(', '),
        which: required.length > 1 ? 'these scopes' : 'this scope',
        s: required.length > 1 ? 's' : '',
        scopes: required.join(' '),
        them: required.length > 1 ? 'them' : 'it',
      },
      evidence: [...evidence, ev('header:www-authenticate.scope', required.join(' '))],
      fixes: ['jwtScope'],
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
    data: { said, sent, url: ctx.url?.href ?? 'URL' },
    evidence: [...evidence, ev('body', `express-jwt: "UnauthorizedError: ${said}"${thrown}`)],
    fixes: [known.fix],
  });
}

export default defineProducer({
  meta: {
    id: 'express',
    product: 'express',
    layer: 'application',
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
    ...texts,
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
