// WordPress REST API errors: every one is a WP_Error serialised as
// {"code", "message", "data": {"status"}}, with core's codes prefixed rest_.
// Core picks the status with rest_authorization_required_code(): 401 when no
// user is logged in, 403 when one is but lacks the capability — so the status
// alone separates "WordPress did not see your login" from "your role may not".
// Messages are translated; the code is not, so the rule reads the code.
import { defineProducer, ev, signals, type Context, type Evidence } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

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

/** The role fix's placeholders: a plain capability name can be added to a role and checked directly. */
function roleData(cap: string | undefined) {
  const plain = Boolean(cap && /^[a-z_]+$/.test(cap));
  return {
    cap,
    capCommand: plain ? `wp cap add ROLE ${cap}` : 'wp cap list ROLE',
    capCheck: plain ? cap : 'edit_posts',
  };
}

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
    causes: ['csrf', 'credential-missing', 'credential-invalid', 'insufficient-role', 'not-owner', 'feature-disabled'],
    statuses: [401, 403],
    ...texts,
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
    const urls = { url, meUrl: url.replace(/\/wp-json\/.*$/, '/wp-json/wp/v2/users/me') };
    const body: Evidence = ev('body:code', `${err.code}: "${err.message}"`);
    const auth = ctx.requestHeader('authorization');

    if (err.code === 'rest_cookie_invalid_nonce') {
      report.claim('csrf', 'nonce', 0.92, {
        data: urls,
        evidence: [body, nonceEvidence(ctx)],
        fixes: ['nonce', 'appPasswordNoNonce'],
      });
      return;
    }
    if (err.code === 'rest_not_logged_in') {
      report.claim('credential-missing', 'notLoggedIn', 0.85, {
        data: urls,
        evidence: [body],
        fixes: ['appPassword', 'headerPassThrough'],
      });
      return;
    }
    if (err.code === 'application_passwords_disabled' || err.code === 'application_passwords_disabled_for_user') {
      report.claim('feature-disabled', 'appPasswordsOff', 0.9, { evidence: [body], fixes: ['enableAppPasswords'] });
      return;
    }
    if (APP_PASSWORD_CODES.has(err.code)) {
      report.claim('credential-invalid', 'appPasswordRejected', 0.88, {
        data: { ...urls, code: err.code },
        evidence: [body],
        fixes: ['appPasswordCreate'],
      });
      return;
    }
    if (!/^rest_(forbidden|cannot_|user_cannot_)/.test(err.code)) return;

    const cap = capabilityFor(err.code, ctx.url?.pathname ?? '');
    const gap = cap ? { required: [cap], held: [] } : undefined;
    if (ctx.status === 401) {
      // rest_authorization_required_code(): 401 means no user was logged in when the capability was checked.
      report.claim('credential-missing', 'anonymous', 0.75, {
        data: { ...urls, sent: anonymousBecause(ctx, auth) },
        evidence: [
          body,
          ev('status', '401 from rest_authorization_required_code(): the request was anonymous'),
          ev('request-header:authorization', auth ? `${auth.split(/\s/)[0]} …` : 'absent'),
        ],
        fixes: ['appPassword', 'headerPassThrough'],
      });
      if (auth)
        report.claim('credential-invalid', 'pluginRejected', 0.3, {
          data: urls,
          evidence: [body],
          fixes: ['appPassword'],
        });
      if (cap)
        report.claim('insufficient-role', 'capabilityLater', 0.2, {
          data: { ...roleData(cap), capability: cap },
          evidence: [body],
          gap,
          fixes: [cap ? 'roleWithCap' : 'role'],
        });
      return;
    }
    report.claim('insufficient-role', 'capability', 0.85, {
      data: { ...roleData(cap), capability: cap ? ` ${cap}` : '', code: err.code },
      evidence: [body, ev('status', '403 from rest_authorization_required_code(): a user was logged in')],
      gap,
      fixes: [cap ? 'roleWithCap' : 'role'],
    });
    const others = /edit|delete/.test(err.code) && !/user/.test(err.code);
    if (others)
      report.claim('not-owner', 'othersPosts', 0.35, {
        data: roleData('edit_others_posts'),
        evidence: [body],
        fixes: ['roleWithCap'],
      });
  },
});
