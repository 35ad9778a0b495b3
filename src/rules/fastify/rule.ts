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
import { defineProducer, ev, signals, type Context, type Evidence, type Reporter } from '../define.ts';
import { authorizationShown, sentCookie } from '../_lib/framework-requests.ts';
import texts from './texts.json' with { type: 'json' };

// Not `import … from 'node:http'`: the ESM view of node:http touches every
// export, which loads Node's bundled undici (~15 ms) into every diagnosis.
const { STATUS_CODES } = process.getBuiltinModule('node:http');

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

type FastifyCause =
  | 'csrf'
  | 'credential-missing'
  | 'credential-malformed'
  | 'credential-expired'
  | 'credential-invalid'
  | 'insufficient-role';
type Report = Reporter<FastifyCause, keyof typeof texts.messages, keyof typeof texts.fixes>;

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
      url,
      page: url.split('?', 1)[0],
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
    fixes: secretMissing ? ['csrfKeepCookie', 'csrfKeepSession'] : ['csrfSendToken', 'csrfPreHandler'],
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
          url,
          scheme: auth?.split(/\s+/)[0],
          cookieNote: fstCode.endsWith('COOKIE') ? ' or the cookie named in its cookie option' : '',
        },
        evidence: [...evidence, said, ev('request-header:authorization', authorizationShown(auth))],
        fixes: ['sendJwt'],
      },
    );
  } else if (fstCode === 'FST_JWT_BAD_REQUEST' || fstCode === 'FST_JWT_BAD_COOKIE_REQUEST') {
    report.claim('credential-malformed', 'jwtBadRequest', 0.85, {
      data: { code: fstCode, said: err.message, url },
      evidence: [...evidence, said],
      fixes: ['sendExactly'],
    });
  } else if (fstCode === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED') {
    report.claim('credential-expired', 'jwtExpired', 0.9, {
      evidence: [...evidence, said],
      fixes: ['newToken', 'clockTolerance'],
    });
  } else if (fstCode === 'FST_JWT_AUTHORIZATION_TOKEN_INVALID') {
    if (/malformed/i.test(err.message)) {
      report.claim('credential-malformed', 'jwtMalformed', 0.85, {
        data: { said: err.message },
        evidence: [...evidence, said],
        fixes: ['sendJwtItself'],
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
      fixes: ['trustedIssuer'],
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
    fixes: ['role'],
  });
}

export default defineProducer({
  meta: {
    id: 'fastify',
    product: 'fastify',
    layer: 'application',
    causes: [
      'csrf',
      'credential-missing',
      'credential-malformed',
      'credential-expired',
      'credential-invalid',
      'insufficient-role',
    ],
    statuses: [401, 403],
    ...texts,
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
