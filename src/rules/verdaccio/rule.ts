// Verdaccio, the self-hosted npm registry, refuses with a JSON body
// {"error": "…"} whose sentences come from @verdaccio/core's API_ERROR and
// @verdaccio/auth: "authorization required to access|publish package X"
// (nobody logged in; an unknown or expired token also ends up anonymous),
// "user U is not allowed to access|publish package X" (the user is not in the
// package's `access:` / `publish:` list in config.yaml), "unauthorized
// access" (htpasswd: wrong password at login). Its X-Powered-By says
// "verdaccio/<version>" when `user_agent` is set and "hidden" by default
// (Verdaccio 6); its 401s challenge "Basic, Bearer". The public npm registry
// answers in the same {"error": …} shape, but from behind Cloudflare (cf-ray,
// Server: cloudflare) with npm-notice headers: those rule Verdaccio out.
import { defineProducer, ev, jsonString, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const REQUIRED = /^authorization required to (access|publish|unpublish) package (\S+)$/;
const NOT_ALLOWED = /^user (\S+) is not allowed to (access|publish|unpublish) package (\S+)$/;
const OTHER_MESSAGES =
  /^(unauthorized access|bad username\/password, access denied|You must be logged in to publish packages\.|not allowed to (access|publish|unpublish) package|user registration disabled|username is already registered|this user already exists|maximum amount of users reached)$/;

function errorMessage(ctx: Context): string | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  return jsonString(j, 'error')?.trim();
}

// The public registry is served through Cloudflare and adds npm-notice: not Verdaccio.
function publicNpm(ctx: Context): boolean {
  if (ctx.header('cf-ray') || ctx.header('npm-notice') || /cloudflare/i.test(ctx.header('server') ?? '')) return true;
  return /(^|\.)npmjs\.(org|com)$/.test(ctx.url?.hostname ?? '');
}

function registryOf(ctx: Context): string {
  return ctx.url ? `${ctx.url.origin}/` : 'REGISTRY_URL';
}

export default defineProducer({
  meta: {
    id: 'verdaccio',
    product: 'verdaccio',
    layer: 'application',
    causes: ['credential-missing', 'credential-invalid', 'insufficient-role'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const powered = ctx.header('x-powered-by') ?? '';
    const message = errorMessage(ctx);
    const named = /^verdaccio\/\d/i.test(powered);
    const hidden = powered === 'hidden';
    const challenge = /^Basic, Bearer$/i.test(ctx.header('www-authenticate') ?? '');
    const required = message !== undefined && REQUIRED.test(message);
    const notAllowed = message !== undefined && NOT_ALLOWED.test(message);
    const known = required || notAllowed || (message !== undefined && OTHER_MESSAGES.test(message));
    const found = signals();
    if (publicNpm(ctx)) return undefined;
    // A signal of strength 0 is evidence that counts only beside another one.
    if (named) found.add(0.97, ev('header:x-powered-by', powered));
    if (hidden)
      found.add(
        message ? 0.5 : 0,
        ev('header:x-powered-by', 'hidden (Verdaccio’s default when user_agent is not set)'),
      );
    if (challenge) found.add(0, ev('header:www-authenticate', 'Basic, Bearer'));
    if (known) found.add(hidden || challenge ? 0.93 : required || notAllowed ? 0.8 : 0, ev('body:error', message!));
    return found.result({ message });
  },
  explain(ctx, { message }, report) {
    if (!message) return;
    const registry = registryOf(ctx);
    const bodyEv = ev('body:error', message);
    const sentAuth = ctx.requestHeader('authorization');
    const where = { registry, host: ctx.url?.host ?? 'REGISTRY_HOST' };

    const required = REQUIRED.exec(message);
    const notAllowed = NOT_ALLOWED.exec(message);
    if (required) {
      const [, action, pkg] = required;
      if (sentAuth) {
        // Verdaccio turns a token it cannot read (expired, from another server,
        // or signed with an old secret) into an anonymous user.
        const scheme = sentAuth.split(' ')[0];
        report.claim('credential-invalid', 'tokenIgnored', 0.7, {
          data: { ...where, message, scheme },
          evidence: [bodyEv, ev('request:header:authorization', `${scheme} credentials sent`)],
          fixes: ['login'],
        });
        report.claim('credential-missing', 'needsLogin', 0.2, {
          data: { ...where, pkg, action },
          evidence: [bodyEv],
          fixes: ['login'],
        });
      } else {
        report.claim('credential-missing', 'anonymous', 0.85, {
          data: { ...where, message, pkg, action },
          evidence: [bodyEv, ...(ctx.exchange.request ? [ev('request', 'no Authorization header')] : [])],
          fixes: ['login', 'allowAnonymous'],
        });
      }
    } else if (notAllowed) {
      const [, user, action, pkg] = notAllowed;
      report.claim('insufficient-role', 'notAllowed', 0.9, {
        data: {
          registry,
          message,
          user,
          action,
          pkg,
          npmCommand: `npm ${action === 'access' ? 'view' : action} ${action === 'access' ? pkg : ''} --registry ${registry}`,
        },
        evidence: [bodyEv],
        gap: { required: [`${action} on ${pkg} (config.yaml packages → ${action}:)`], held: [`user ${user}`] },
        fixes: ['allowUser', 'loginAsAllowed'],
      });
    } else if (/^unauthorized access$|^bad username\/password, access denied$/.test(message)) {
      const raw = /org\.couchdb\.user:([^/?]+)/.exec(ctx.url?.pathname ?? '')?.[1];
      const user = raw === undefined ? undefined : decodeURIComponent(raw);
      report.claim('credential-invalid', 'wrongPassword', 0.85, {
        data: { registry, message, forUser: user ? ` for ${user}` : '', htpasswdUser: user ?? 'USER' },
        evidence: [bodyEv, ...(user ? [ev('request:url', `npm login for ${user}`)] : [])],
        fixes: ['rightPassword', 'resetPassword'],
      });
      // The password travelled in the body: no Authorization header does not mean nothing was sent.
      if (user && !sentAuth)
        report.claim('credential-missing', 'passwordInBody', -0.6, {
          evidence: [ev('request:url', 'PUT /-/user/org.couchdb.user:…')],
        });
    } else if (/^You must be logged in to publish packages\.$/.test(message)) {
      report.claim('credential-missing', 'mustLogIn', 0.85, {
        data: { ...where, message },
        evidence: [bodyEv],
        fixes: ['login'],
      });
    }
  },
});
