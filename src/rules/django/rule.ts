// Django's two built-in 403 pages. CsrfViewMiddleware's failure page
// (django/views/csrf.py) says "CSRF verification failed. Request aborted." and,
// depending on the reason and on DEBUG, explains it: a missing CSRF cookie, a
// missing Referer on HTTPS, or (DEBUG only) the reason string itself. Every
// other PermissionDenied — permission_required, a view's own ownership check —
// ends in django.views.defaults.permission_denied, whose page without a
// 403.html template is a bare "403 Forbidden" that says nothing more; there
// only the request (was a session cookie sent?) narrows it.
import { defineProducer, ev, signals, type Context, type Evidence } from '../define.ts';
import { requestCookieNames } from '../_lib/framework-requests.ts';
import texts from './texts.json' with { type: 'json' };

// The CSRF failure page's structure survives translation (only its sentences are translated when DEBUG=False).
const CSRF_PAGE =
  /<meta name="robots" content="NONE,NOARCHIVE">[\s\S]*<div id="summary">\s*<h1>[^<]*<span>\(403\)<\/span><\/h1>/;
const CSRF_MAIN = /CSRF verification failed\. Request aborted\./;
// django.views.defaults.ERROR_PAGE_TEMPLATE rendered for 403 with empty details.
const PLAIN_403 =
  /^\s*<!doctype html>\s*<html lang="en">\s*<head>\s*<title>403 Forbidden<\/title>\s*<\/head>\s*<body>\s*<h1>403 Forbidden<\/h1><p><\/p>\s*<\/body>\s*<\/html>\s*$/;

type Page = 'csrf' | 'plain';

function pageOf(ctx: Context): Page | undefined {
  const body = ctx.body.text;
  if (CSRF_PAGE.test(body) || (CSRF_MAIN.test(body) && ctx.body.htmlTitle === '403 Forbidden')) return 'csrf';
  if (PLAIN_403.test(body)) return 'plain';
  return undefined;
}

/** Headers Django's default middleware adds (SecurityMiddleware, XFrameOptionsMiddleware, sessions' Vary). */
function djangoHeaders(ctx: Context): Evidence[] {
  const out: Evidence[] = [];
  if (ctx.header('x-frame-options')?.toUpperCase() === 'DENY')
    out.push(ev('header:x-frame-options', 'DENY (XFrameOptionsMiddleware default since Django 3.0)'));
  if (ctx.header('referrer-policy') === 'same-origin')
    out.push(ev('header:referrer-policy', 'same-origin (SecurityMiddleware default since Django 3.1)'));
  const server = ctx.header('server');
  if (server && /WSGIServer\/[\d.]+ CPython/.test(server))
    out.push(ev('header:server', `${server} (manage.py runserver)`));
  return out;
}

interface CsrfReason {
  reason: string;
  kind: 'no-cookie' | 'bad-token' | 'no-referer' | 'bad-referer' | 'origin' | 'other';
}

function csrfReason(body: string): CsrfReason | undefined {
  // DEBUG = True prints the reason verbatim.
  // The <pre> after "Reason given for failure:", up to the next </pre> (trimmed
  // below). Found in two steps: a lazy `([\s\S]*?)<\/pre>` would rescan the
  // rest of the body from every repetition of the heading when none is closed.
  const heading = /Reason given for failure:<\/p>\s*<pre>/.exec(body);
  const end = heading ? body.indexOf('</pre>', heading.index + heading[0].length) : -1;
  const pre = heading && end >= 0 ? body.slice(heading.index + heading[0].length, end) : undefined;
  const reason = pre
    ?.replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
  if (reason) {
    if (/^CSRF cookie not set/i.test(reason)) return { reason, kind: 'no-cookie' };
    if (/^CSRF token (missing|incorrect)|^CSRF token from|has incorrect length|invalid characters/i.test(reason))
      return { reason, kind: 'bad-token' };
    if (/^Referer checking failed - no Referer/i.test(reason)) return { reason, kind: 'no-referer' };
    if (/^Referer checking failed/i.test(reason)) return { reason, kind: 'bad-referer' };
    if (/^Origin checking failed/i.test(reason)) return { reason, kind: 'origin' };
    return { reason, kind: 'other' };
  }
  // DEBUG = False still explains two reasons in its own words.
  if (/requires a CSRF cookie when submitting forms/.test(body))
    return { reason: 'CSRF cookie not set.', kind: 'no-cookie' };
  if (/requires a “Referer header” to be sent/.test(body))
    return { reason: 'Referer checking failed - no Referer.', kind: 'no-referer' };
  return undefined;
}

/** The fixes for a CSRF failure, the likeliest first. */
function csrfFixes(kind: CsrfReason['kind'] | undefined): (keyof typeof texts.fixes)[] {
  switch (kind) {
    case 'no-cookie':
      return ['csrfCookie', 'csrfToken'];
    case 'no-referer':
    case 'bad-referer':
    case 'origin':
      return ['trustedOrigins', 'csrfToken'];
    default:
      return ['csrfToken', 'csrfCookie'];
  }
}

/** What each CSRF failure page's reason says went wrong, by message id. */
const CSRF_MESSAGE = {
  'no-cookie': 'csrfNoCookie',
  'bad-token': 'csrfBadToken',
  'no-referer': 'csrfNoReferer',
  'bad-referer': 'csrfUntrusted',
  origin: 'csrfUntrusted',
  other: 'csrfUnsaid',
} as const;

export default defineProducer({
  meta: {
    id: 'django',
    product: 'django',
    layer: 'application',
    causes: ['csrf', 'credential-missing', 'insufficient-role', 'not-owner'],
    statuses: [403],
    ...texts,
  },
  recognise(ctx) {
    // Django sends both pages only with a 403; the producer is not claimed for any other status.
    if (ctx.status !== 403 || !/^\s*</.test(ctx.body.text)) return undefined;
    const page = pageOf(ctx);
    if (!page) return undefined;
    const found = signals();
    const reason = page === 'csrf' ? csrfReason(ctx.body.text) : undefined;
    if (page === 'csrf') {
      found.add(0.95, ev('body', 'Django’s CSRF failure page: "CSRF verification failed. Request aborted."'));
      if (reason) found.add(0.95, ev('body:reason', reason.reason));
    } else
      found.add(
        0.7,
        ev(
          'body',
          'Django’s default 403 page (django.views.defaults.permission_denied, no 403.html template): a PermissionDenied, reason not shown',
        ),
      );
    // The page's own evidence, before the headers that only corroborate it.
    const pageEvidence = [...found.evidence];
    for (const e of djangoHeaders(ctx)) found.add(0.85, e);
    return found.result({ page, reason, pageEvidence });
  },
  explain(ctx, { page, reason, pageEvidence }, report) {
    const url = ctx.url?.href ?? 'URL';
    if (page === 'csrf') {
      const kind = reason?.kind ?? 'other';
      report.claim('csrf', CSRF_MESSAGE[kind], 0.95, {
        data: {
          method: ctx.method,
          url,
          header: kind === 'origin' ? 'Origin' : 'Referer',
          given: reason ? ` Reason: "${reason.reason}"` : '',
        },
        evidence: pageEvidence,
        fixes: csrfFixes(reason?.kind),
      });
      return;
    }
    // The plain page: some PermissionDenied. Which one only the request suggests.
    const cookies = requestCookieNames(ctx);
    const sessions = cookies.filter((c) => /session/i.test(c));
    const hasAuth = Boolean(ctx.requestHeader('authorization'));
    const signedIn = sessions.length > 0 || hasAuth;
    const sent = sessions.length
      ? `session cookie sent (${sessions.join(', ')})`
      : hasAuth
        ? 'an Authorization header was sent'
        : 'no session cookie and no Authorization header sent';
    const sessionEv = ev('request-header:cookie', sent);
    if (!signedIn)
      report.claim('credential-missing', 'anonymous', 0.6, {
        data: { url },
        evidence: [...pageEvidence, sessionEv],
        fixes: ['login'],
      });
    report.claim('insufficient-role', 'permission', signedIn ? 0.5 : 0.3, {
      evidence: [...pageEvidence, sessionEv],
      fixes: ['grantPermission'],
    });
    report.claim('not-owner', 'objectCheck', signedIn ? 0.35 : 0.2, { evidence: pageEvidence, fixes: ['ownerCheck'] });
  },
});
