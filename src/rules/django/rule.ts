// Django's two built-in 403 pages. CsrfViewMiddleware's failure page
// (django/views/csrf.py) says "CSRF verification failed. Request aborted." and,
// depending on the reason and on DEBUG, explains it: a missing CSRF cookie, a
// missing Referer on HTTPS, or (DEBUG only) the reason string itself. Every
// other PermissionDenied — permission_required, a view's own ownership check —
// ends in django.views.defaults.permission_denied, whose page without a
// 403.html template is a bare "403 Forbidden" that says nothing more; there
// only the request (was a session cookie sent?) narrows it.
import { defineProducer, ev, signals, type Context, type Evidence, type Fix } from '../define.ts';
import { requestCookieNames } from '../_lib/framework-requests.ts';

const CSRF_DOCS = 'https://docs.djangoproject.com/en/stable/howto/csrf/';
const CSRF_REF = 'https://docs.djangoproject.com/en/stable/ref/csrf/';

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

function csrfFixes(kind: CsrfReason['kind'] | undefined, url: string): Fix[] {
  const token: Fix = {
    title:
      'Send the CSRF token with the request: {% csrf_token %} in the form, or the X-CSRFToken header (value of the csrftoken cookie) for JavaScript',
    difficulty: 'easy',
    commands: [
      `# fetch the form first to get the cookie and token, then post both:\ncurl -c jar -b jar ${url} && curl -b jar -X POST -H "X-CSRFToken: $(awk '$6=="csrftoken"{print $7}' jar)" -H "Referer: ${url}" ${url}`,
    ],
    verify: 'The POST carries the csrftoken cookie and a matching csrfmiddlewaretoken field or X-CSRFToken header.',
    docs: CSRF_DOCS,
  };
  const cookie: Fix = {
    title:
      'Make sure the csrftoken cookie reaches the server: load the page that sets it first, and check CSRF_COOKIE_DOMAIN / CSRF_COOKIE_SECURE / SameSite against how the site is reached',
    difficulty: 'medium',
    commands: ['python manage.py diffsettings | grep -E "CSRF_|SESSION_COOKIE"'],
    verify: 'The browser’s cookie jar holds csrftoken for this host before the form is posted.',
    docs: CSRF_REF,
  };
  const origins: Fix = {
    title: 'Add the site’s origin to CSRF_TRUSTED_ORIGINS (and keep Referer headers: no Referrer-Policy: no-referrer)',
    difficulty: 'medium',
    commands: [
      'python manage.py diffsettings | grep -E "CSRF_TRUSTED_ORIGINS|SECURE_PROXY_SSL_HEADER|SECURE_REFERRER_POLICY"',
    ],
    verify: 'An HTTPS POST from the site’s own pages sends Referer (and Origin) that match a trusted origin.',
    docs: 'https://docs.djangoproject.com/en/stable/ref/settings/#csrf-trusted-origins',
  };
  switch (kind) {
    case 'no-cookie':
      return [cookie, token];
    case 'no-referer':
    case 'bad-referer':
    case 'origin':
      return [origins, token];
    default:
      return [token, cookie];
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

const PERMISSION_FIX: Fix = {
  title: 'Find which permission the view requires and grant it (a group, or the user’s permissions in the admin)',
  difficulty: 'medium',
  commands: [
    'grep -rn -E "permission_required|PermissionRequiredMixin|has_perm|raise PermissionDenied" --include=*.py .',
    'python manage.py shell -c "from django.contrib.auth import get_user_model; u = get_user_model().objects.get(username=\'USER\'); print(sorted(u.get_all_permissions()))"',
  ],
  verify: 'The user’s permissions include the one the view checks (app_label.codename).',
  docs: 'https://docs.djangoproject.com/en/stable/topics/auth/default/#permissions-and-authorization',
};

const OWNER_FIX: Fix = {
  title: 'Look for the view’s own checks that raise PermissionDenied, and which object they compare the user with',
  difficulty: 'medium',
  commands: ['grep -rn -B5 "raise PermissionDenied" --include=*.py .'],
  verify: 'The requested object belongs to (or is shared with) the signed-in user.',
};

const loginFix = (url: string): Fix => ({
  title: 'Log in first and send the session cookie (sessionid) with the request',
  difficulty: 'easy',
  commands: [`curl -b 'sessionid=…' ${url}`],
  verify: 'The request carries the sessionid cookie the login set.',
});

export default defineProducer({
  meta: {
    id: 'django',
    product: 'django',
    layer: 'application',
    description:
      'Django’s CSRF failure page (CsrfViewMiddleware, with its reason) and its plain 403 page for PermissionDenied (permission_required, ownership checks in views).',
    docs: [
      CSRF_REF,
      CSRF_DOCS,
      'https://docs.djangoproject.com/en/stable/ref/views/#the-403-http-forbidden-view',
      'https://docs.djangoproject.com/en/stable/topics/auth/default/#the-permission-required-decorator',
      'https://docs.djangoproject.com/en/stable/ref/exceptions/#permissiondenied',
    ],
    causes: ['csrf', 'credential-missing', 'insufficient-role', 'not-owner'],
    statuses: [403],
    messages: {
      csrfNoCookie:
        'Django’s CsrfViewMiddleware refused this {{method}}: the request carried no csrftoken cookie.{{given}}',
      csrfBadToken:
        'Django’s CsrfViewMiddleware refused this {{method}}: the CSRF token sent with the form (or X-CSRFToken header) is missing or does not match the csrftoken cookie.{{given}}',
      csrfNoReferer:
        'Django’s CsrfViewMiddleware refused this {{method}}: an HTTPS request came without a Referer header, which Django’s strict Referer check requires.{{given}}',
      csrfUntrusted:
        'Django’s CsrfViewMiddleware refused this {{method}}: the request’s {{header}} is not a trusted origin.{{given}}',
      csrfUnsaid:
        'Django’s CsrfViewMiddleware refused this {{method}}: the page does not say which check failed (DEBUG = False hides the reason for a missing or wrong token).{{given}}',
      anonymous:
        'No session cookie was sent: to Django this is an anonymous user, and permission_required(raise_exception=True) or a PermissionDenied check answers anonymous users with this 403 instead of a login redirect.',
      permission:
        'A view raised PermissionDenied, most often from permission_required / PermissionRequiredMixin: the signed-in user lacks a permission or group the view requires.',
      objectCheck:
        'Views also raise PermissionDenied on object-level checks (the object belongs to another user or team); Django’s page does not say which check failed.',
    },
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
          header: kind === 'origin' ? 'Origin' : 'Referer',
          given: reason ? ` Reason: "${reason.reason}"` : '',
        },
        evidence: pageEvidence,
        fixes: csrfFixes(reason?.kind, url),
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
        evidence: [...pageEvidence, sessionEv],
        fixes: [loginFix(url)],
      });
    report.claim('insufficient-role', 'permission', signedIn ? 0.5 : 0.3, {
      evidence: [...pageEvidence, sessionEv],
      fixes: [PERMISSION_FIX],
    });
    report.claim('not-owner', 'objectCheck', signedIn ? 0.35 : 0.2, { evidence: pageEvidence, fixes: [OWNER_FIX] });
  },
});
