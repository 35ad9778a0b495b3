// WordPress REST API errors: every one is a WP_Error serialised as
// {"code", "message", "data": {"status"}}, with core's codes prefixed rest_.
// Core picks the status with rest_authorization_required_code(): 401 when no
// user is logged in, 403 when one is but lacks the capability — so the status
// alone separates "WordPress did not see your login" from "your role may not".
// Messages are translated; the code is not, so the rule reads the code.
import { defineProducer, ev, signals, type Context, type Evidence, type Fix } from '../define.ts';

const AUTH_DOCS = 'https://developer.wordpress.org/rest-api/using-the-rest-api/authentication/';
const ROLES_DOCS = 'https://wordpress.org/documentation/article/roles-and-capabilities/';

interface WpError {
  code: string;
  message: string;
  status?: number;
}

function wpError(ctx: Context): WpError | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  if (typeof j.code !== 'string' || typeof j.message !== 'string') return undefined;
  const data = j.data as Record<string, unknown> | undefined;
  const status = data && typeof data === 'object' && typeof data.status === 'number' ? data.status : undefined;
  return { code: j.code, message: j.message, status };
}

// Application Password failures (wp_authenticate_application_password) keep their wp_authenticate codes.
const APP_PASSWORD_CODES = new Set([
  'incorrect_password',
  'invalid_username',
  'invalid_email',
  'application_passwords_disabled',
  'application_passwords_disabled_for_user',
]);

const restRoute = (ctx: Context): boolean =>
  Boolean(ctx.url?.pathname.includes('/wp-json/') || ctx.url?.searchParams.has('rest_route'));

/** The capability core checks before answering each code (wp-includes/rest-api/endpoints/*). */
function capabilityFor(code: string, path: string): string | undefined {
  if (code === 'rest_cannot_create_user' || (code === 'rest_cannot_create' && /\/users\b/.test(path)))
    return 'create_users';
  if (/^rest_cannot_(edit|delete)_users?$/.test(code) || /^rest_user_cannot_(edit|delete)$/.test(code))
    return code.includes('delete') ? 'delete_users' : 'edit_users';
  if (code === 'rest_cannot_view_plugins' || code === 'rest_cannot_manage_plugins') return 'activate_plugins';
  if (code === 'rest_cannot_view_themes') return 'switch_themes or edit_theme_options';
  if (code === 'rest_forbidden' && /\/settings\b/.test(path)) return 'manage_options';
  if (code === 'rest_cannot_create' && /\/pages\b/.test(path)) return 'edit_pages';
  if (code === 'rest_cannot_create' && /\/posts\b/.test(path)) return 'edit_posts';
  if (code === 'rest_cannot_publish') return 'publish_posts';
  if (code === 'rest_cannot_edit_others' || code === 'rest_cannot_edit')
    return 'edit_others_posts (or edit_posts on one’s own)';
  if (code === 'rest_cannot_delete') return 'delete_posts / delete_others_posts';
  if (code === 'rest_cannot_create_users' || code === 'rest_cannot_list_users') return 'list_users';
  return undefined;
}

const roleFix = (cap: string | undefined): Fix => ({
  title: cap
    ? `Give the user a role that has ${cap} (or add the capability to its role)`
    : 'Give the user a role with the capability this endpoint checks',
  difficulty: 'medium',
  commands: [
    'wp user list --fields=ID,user_login,roles',
    'wp user set-role USER editor',
    ...(cap && /^[a-z_]+$/.test(cap) ? [`wp cap add ROLE ${cap}`] : ['wp cap list ROLE']),
  ],
  verify: `wp eval 'var_dump(user_can(USER_ID, "${cap && /^[a-z_]+$/.test(cap) ? cap : 'edit_posts'}"));' prints bool(true)`,
  docs: ROLES_DOCS,
});

const appPasswordFix = (url: string): Fix => ({
  title:
    'Authenticate the request: send an Application Password (Users → Profile → Application Passwords) with Basic auth over HTTPS',
  difficulty: 'easy',
  commands: [
    `wp user application-password create USER why403 --porcelain`,
    `curl --user "USER:APPLICATION PASSWORD" ${url}`,
  ],
  verify: `curl --user "USER:APPLICATION PASSWORD" ${url.replace(/\/wp-json\/.*$/, '/wp-json/wp/v2/users/me')} answers 200 with your user, not 401.`,
  docs: AUTH_DOCS,
});

const headerPassThroughFix: Fix = {
  title:
    'If an Authorization header was sent, make sure the web server passes it to PHP (Apache CGI/FastCGI drops it by default)',
  difficulty: 'medium',
  commands: ['# .htaccess, before the WordPress block:', 'SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1'],
  verify: 'wp-admin → Tools → Site Health no longer reports "The Authorization header is missing".',
  docs: AUTH_DOCS,
};

const NONCE_FIX: Fix = {
  title:
    'Send a fresh wp_rest nonce as X-WP-Nonce (wp_create_nonce("wp_rest"), e.g. wpApiSettings.nonce); if a page cache served an old one, reload or exclude logged-in pages from the cache — or log out and in again',
  difficulty: 'easy',
  commands: ['wp eval \'wp_set_current_user(USER_ID); echo wp_create_nonce("wp_rest");\'', 'wp cache flush'],
  verify: 'The same call from the logged-in page, with the nonce printed into that page load, answers 2xx.',
  docs: AUTH_DOCS,
};

const ENABLE_APP_PASSWORDS_FIX: Fix = {
  title:
    'Serve the site over HTTPS and remove the wp_is_application_passwords_available(_for_user) filter that disables them (often a security plugin)',
  difficulty: 'medium',
  commands: ["wp eval 'var_dump(wp_is_application_passwords_available());'"],
  verify: "wp eval 'var_dump(wp_is_application_passwords_available_for_user(USER_ID));' prints bool(true)",
  docs: 'https://make.wordpress.org/core/2020/11/05/application-passwords-integration-guide/',
};

function nonceEvidence(ctx: Context): Evidence {
  const sent = ctx.requestHeader('x-wp-nonce')
    ? 'an X-WP-Nonce header was sent (stale or from another session)'
    : undefined;
  return ev(
    'request-header:x-wp-nonce',
    sent ?? (ctx.exchange.request ? 'no X-WP-Nonce header in the request' : 'the input has no request'),
  );
}

/** What a 401 says was sent: rest_authorization_required_code() answers 401 only when no user was logged in. */
function anonymousBecause(ctx: Context, auth: string | undefined): string {
  if (auth)
    return `an Authorization (${auth.split(/\s/)[0]}) header was sent but WordPress did not log anyone in with it`;
  if (/wordpress_logged_in_/.test(ctx.requestHeader('cookie') ?? ''))
    return 'a login cookie was sent without a valid X-WP-Nonce, so WordPress treated the request as anonymous';
  return 'no Authorization header and no login cookie were sent';
}

export default defineProducer({
  meta: {
    id: 'wordpress',
    product: 'wordpress',
    layer: 'application',
    description:
      'WordPress REST API errors (WP_Error JSON with rest_* codes): capability checks answered 401 for anonymous and 403 for signed-in users, the cookie nonce check, Application Password failures.',
    docs: [
      AUTH_DOCS,
      'https://developer.wordpress.org/reference/functions/rest_authorization_required_code/',
      'https://developer.wordpress.org/reference/functions/rest_cookie_check_errors/',
      'https://make.wordpress.org/core/2020/11/05/application-passwords-integration-guide/',
      ROLES_DOCS,
    ],
    causes: ['csrf', 'credential-missing', 'credential-invalid', 'insufficient-role', 'not-owner', 'feature-disabled'],
    statuses: [401, 403],
    messages: {
      nonce:
        'WordPress’s REST cookie check failed: the request was authenticated by the login cookie, but the X-WP-Nonce (wp_rest nonce) was missing, stale, or minted for another session — WordPress’s CSRF protection for cookie-authenticated calls.',
      notLoggedIn:
        'The site (a rest_authentication_errors filter) refuses REST requests from anyone not logged in, and this request did not authenticate.',
      appPasswordsOff:
        'Application Passwords are turned off on this site (or for this user, or the site is not on HTTPS), so the Basic credential cannot be used.',
      appPasswordRejected:
        'WordPress rejected the Basic credential ({{code}}): the user name is unknown or the password is not one of this user’s Application Passwords (the login password does not work here).',
      anonymous:
        'WordPress answered 401, which it does only when no user is logged in: {{sent}}. Core accepts only the login cookie (with a nonce) or Application Passwords; other Basic auth needs a plugin, and some servers strip the Authorization header.',
      pluginRejected: 'A plugin that handles this Authorization scheme may have rejected the credential itself.',
      capabilityLater: 'Once authenticated, the user will still need {{capability}}.',
      capability:
        'WordPress knows who you are (403, not 401) and your role lacks the capability{{capability}} this endpoint checks ({{code}}).',
      othersPosts:
        'Editing or deleting someone else’s post needs edit_others_posts / delete_others_posts; on your own posts edit_posts is enough.',
    },
  },
  recognise(ctx) {
    // Only denials: WP_Error envelopes with other statuses are not this rule's.
    if (ctx.status !== 401 && ctx.status !== 403) return undefined;
    const err = wpError(ctx);
    const found = signals();
    const link = ctx.header('link');
    if (link && /rel="https:\/\/api\.w\.org\/"/.test(link)) found.add(0.95, ev('header:link', link));
    if (ctx.header('x-wp-nonce') !== undefined || ctx.header('x-wp-total') !== undefined)
      found.add(0.9, ev('header:x-wp-*', 'a WordPress REST header (X-WP-Nonce / X-WP-Total)'));
    // The WP_Error envelope with data.status equal to the HTTP status; a rest_ code makes it WordPress's.
    if (err && err.status === ctx.status) {
      if (/^rest_[a-z_]+$/.test(err.code))
        found.add(0.9, ev('body:code', `${err.code} (a WordPress REST API error code; data.status ${err.status})`));
      else if (APP_PASSWORD_CODES.has(err.code) && restRoute(ctx))
        found.add(0.85, ev('body:code', `${err.code} on a /wp-json/ route`));
    }
    if (found.confidence && ctx.url && restRoute(ctx))
      found.add(0, ev('request:url', `${ctx.url.pathname} (the WordPress REST API prefix)`));
    return found.result({ err });
  },
  explain(ctx, { err }, report) {
    if (!err) return;
    const url = ctx.url?.href ?? 'https://SITE/wp-json/wp/v2/…';
    const body: Evidence = ev('body:code', `${err.code}: "${err.message}"`);
    const auth = ctx.requestHeader('authorization');

    if (err.code === 'rest_cookie_invalid_nonce') {
      const appPassword = {
        ...appPasswordFix(url),
        title: 'For scripts and other sites, drop the cookie and use an Application Password instead (no nonce needed)',
      };
      report.claim('csrf', 'nonce', 0.92, { evidence: [body, nonceEvidence(ctx)], fixes: [NONCE_FIX, appPassword] });
      return;
    }
    if (err.code === 'rest_not_logged_in') {
      report.claim('credential-missing', 'notLoggedIn', 0.85, {
        evidence: [body],
        fixes: [appPasswordFix(url), headerPassThroughFix],
      });
      return;
    }
    if (err.code === 'application_passwords_disabled' || err.code === 'application_passwords_disabled_for_user') {
      report.claim('feature-disabled', 'appPasswordsOff', 0.9, { evidence: [body], fixes: [ENABLE_APP_PASSWORDS_FIX] });
      return;
    }
    if (APP_PASSWORD_CODES.has(err.code)) {
      const fix = {
        ...appPasswordFix(url),
        title: 'Create an Application Password for this user and send it (not the login password)',
      };
      report.claim('credential-invalid', 'appPasswordRejected', 0.88, {
        data: { code: err.code },
        evidence: [body],
        fixes: [fix],
      });
      return;
    }
    if (!/^rest_(forbidden|cannot_|user_cannot_)/.test(err.code)) return;

    const cap = capabilityFor(err.code, ctx.url?.pathname ?? '');
    const gap = cap ? { required: [cap], held: [] } : undefined;
    if (ctx.status === 401) {
      // rest_authorization_required_code(): 401 means no user was logged in when the capability was checked.
      report.claim('credential-missing', 'anonymous', 0.75, {
        data: { sent: anonymousBecause(ctx, auth) },
        evidence: [
          body,
          ev('status', '401 from rest_authorization_required_code(): the request was anonymous'),
          ev('request-header:authorization', auth ? `${auth.split(/\s/)[0]} …` : 'absent'),
        ],
        fixes: [appPasswordFix(url), headerPassThroughFix],
      });
      if (auth)
        report.claim('credential-invalid', 'pluginRejected', 0.3, { evidence: [body], fixes: [appPasswordFix(url)] });
      if (cap)
        report.claim('insufficient-role', 'capabilityLater', 0.2, {
          data: { capability: cap },
          evidence: [body],
          gap,
          fixes: [roleFix(cap)],
        });
      return;
    }
    report.claim('insufficient-role', 'capability', 0.85, {
      data: { capability: cap ? ` ${cap}` : '', code: err.code },
      evidence: [body, ev('status', '403 from rest_authorization_required_code(): a user was logged in')],
      gap,
      fixes: [roleFix(cap)],
    });
    const others = /edit|delete/.test(err.code) && !/user/.test(err.code);
    if (others)
      report.claim('not-owner', 'othersPosts', 0.35, { evidence: [body], fixes: [roleFix('edit_others_posts')] });
  },
});
