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
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const DOCS_PACKAGES = 'https://verdaccio.org/docs/packages';
const DOCS_AUTH = 'https://verdaccio.org/docs/authentication';
const DOCS_HTPASSWD = 'https://verdaccio.org/docs/plugin-auth';

const REQUIRED = /^authorization required to (access|publish|unpublish) package (\S+)$/;
const NOT_ALLOWED = /^user (\S+) is not allowed to (access|publish|unpublish) package (\S+)$/;
const OTHER_MESSAGES = /^(unauthorized access|bad username\/password, access denied|You must be logged in to publish packages\.|not allowed to (access|publish|unpublish) package|user registration disabled|username is already registered|this user already exists|maximum amount of users reached)$/;

function errorMessage(ctx: Context): string | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  return jsonString(j, 'error')?.trim();
}

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const powered = ctx.header('x-powered-by') ?? '';
  const message = errorMessage(ctx);
  const named = /^verdaccio\/\d/i.test(powered);
  const hidden = powered === 'hidden';
  const challenge = /^Basic, Bearer$/i.test(ctx.header('www-authenticate') ?? '');
  const known = Boolean(message && (REQUIRED.test(message) || NOT_ALLOWED.test(message) || OTHER_MESSAGES.test(message)));
  // The public registry is served through Cloudflare and adds npm-notice: not Verdaccio.
  const npmjs = Boolean(ctx.header('cf-ray') || ctx.header('npm-notice') || /cloudflare/i.test(ctx.header('server') ?? '') || /(^|\.)npmjs\.(org|com)$/.test(ctx.url?.hostname ?? ''));
  if (named) evidence.push(ev('header:x-powered-by', powered));
  if (hidden) evidence.push(ev('header:x-powered-by', 'hidden (Verdaccio’s default when user_agent is not set)'));
  if (challenge) evidence.push(ev('header:www-authenticate', 'Basic, Bearer'));
  if (known) evidence.push(ev('body:error', message!));
  let confidence = 0;
  if (npmjs) confidence = 0;
  else if (named) confidence = 0.97;
  else if (known && (hidden || challenge)) confidence = 0.93;
  else if (message && REQUIRED.test(message)) confidence = 0.8;
  else if (message && NOT_ALLOWED.test(message)) confidence = 0.8;
  else if (hidden && message) confidence = 0.5;
  return { confidence, evidence, message };
}

function registryOf(ctx: Context): string {
  return ctx.url ? `${ctx.url.origin}/` : 'REGISTRY_URL';
}

export default defineRule({
  meta: {
    id: 'verdaccio',
    kind: 'producer',
    product: 'verdaccio',
    layer: 'application',
    description: 'Verdaccio (self-hosted npm registry) refusals: no login for a package whose config.yaml access/publish rule needs one, a user outside the package’s access:/publish: list, a wrong password at npm login (htpasswd).',
    docs: [DOCS_PACKAGES, DOCS_AUTH, DOCS_HTPASSWD, 'https://github.com/verdaccio/verdaccio/blob/master/packages/core/core/src/error-utils.ts'],
    causes: ['credential-missing', 'credential-invalid', 'insufficient-role'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'verdaccio' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const message = sig.message;
    if (!message) return { producer };
    const registry = registryOf(ctx);
    const bodyEv = ev('body:error', message);
    const causes: CauseClaim[] = [];
    const sentAuth = ctx.requestHeader('authorization');
    const login: Fix = {
      title: 'Log in to this registry, so npm sends your token',
      difficulty: 'easy',
      commands: [`npm login --registry ${registry}`, `npm config get //${ctx.url?.host ?? 'REGISTRY_HOST'}/:_authToken  # the token npm will send`],
      verify: `npm whoami --registry ${registry} prints your user name.`,
      docs: DOCS_AUTH,
    };

    const required = REQUIRED.exec(message);
    const notAllowed = NOT_ALLOWED.exec(message);
    if (required) {
      const [, action, pkg] = required;
      if (sentAuth) {
        // Verdaccio turns a token it cannot read (expired, from another server, or signed with an old secret) into an anonymous user.
        causes.push({ id: 'credential-invalid', weight: 0.7, summary: `Verdaccio answered "${message}" although the request carried ${sentAuth.split(' ')[0]} credentials: it did not accept them (expired or revoked token, a token from another registry or from before the server's secret changed, or a wrong password) and treated the request as anonymous.`, evidence: [bodyEv, ev('request:header:authorization', `${sentAuth.split(' ')[0]} credentials sent`)], fixes: [login] });
        causes.push({ id: 'credential-missing', weight: 0.2, summary: `The package ${pkg} needs a logged-in user to ${action}.`, evidence: [bodyEv], fixes: [login] });
      } else {
        causes.push({ id: 'credential-missing', weight: 0.85, summary: `Verdaccio answered "${message}": the request carried no credentials, and config.yaml's rule for ${pkg} lets only logged-in users ${action} it (\`${action}: $authenticated\` or named users).`, evidence: [bodyEv, ...(ctx.exchange.request ? [ev('request', 'no Authorization header')] : [])], fixes: [login, { title: `Or let anonymous users ${action} ${pkg} (only if that is intended)`, difficulty: 'medium', commands: [`# config.yaml\npackages:\n  '${pkg}':\n    ${action}: $all`, 'systemctl restart verdaccio  # or restart the container'], verify: `npm view ${pkg} --registry ${registry} (for access) works without a token.`, docs: DOCS_PACKAGES }] });
      }
    } else if (notAllowed) {
      const [, user, action, pkg] = notAllowed;
      causes.push({
        id: 'insufficient-role',
        weight: 0.9,
        summary: `Verdaccio answered "${message}": ${user} authenticated, but is not in the \`${action}:\` list of the config.yaml rule that matches ${pkg} (nor in a group it names).`,
        evidence: [bodyEv],
        gap: { required: [`${action} on ${pkg} (config.yaml packages → ${action}:)`], held: [`user ${user}`] },
        fixes: [
          {
            title: `Add ${user} (or a group ${user} belongs to) to the \`${action}:\` line of the package rule that matches ${pkg}, then restart Verdaccio`,
            difficulty: 'medium',
            commands: [`# config.yaml — the first pattern that matches ${pkg} decides\npackages:\n  '${pkg}':\n    access: $authenticated\n    ${action}: ${user}`, 'systemctl restart verdaccio  # or restart the container'],
            verify: `npm whoami --registry ${registry} prints ${user}, and \`npm ${action === 'access' ? 'view' : action} ${action === 'access' ? pkg : ''} --registry ${registry}\` succeeds.`,
            docs: DOCS_PACKAGES,
          },
          { title: `Or log in as a user the rule already names`, difficulty: 'easy', commands: [`npm logout --registry ${registry}`, `npm login --registry ${registry}`], verify: `npm whoami --registry ${registry} prints a user listed in \`${action}:\`.` },
        ],
      });
    } else if (/^unauthorized access$|^bad username\/password, access denied$/.test(message)) {
      const user = /org\.couchdb\.user:([^/?]+)/.exec(ctx.url?.pathname ?? '')?.[1];
      causes.push({
        id: 'credential-invalid',
        weight: 0.85,
        summary: `Verdaccio answered "${message}": the password${user ? ` for ${decodeURIComponent(user)}` : ''} did not match the htpasswd entry (npm login sends it in the request body, not in a header).`,
        evidence: [bodyEv, ...(user ? [ev('request:url', `npm login for ${decodeURIComponent(user)}`)] : [])],
        fixes: [
          { title: 'Log in again with the right password', difficulty: 'easy', commands: [`npm login --registry ${registry}`], verify: `npm whoami --registry ${registry} prints your user name.`, docs: DOCS_AUTH },
          { title: 'Or have the admin reset the password in the htpasswd file', difficulty: 'easy', commands: [`htpasswd -B /verdaccio/storage/htpasswd ${user ? decodeURIComponent(user) : 'USER'}  # the file named by auth.htpasswd.file in config.yaml`], verify: `npm login --registry ${registry} succeeds.`, docs: DOCS_HTPASSWD },
        ],
      });
      // The password travelled in the body: no Authorization header does not mean nothing was sent.
      if (user && !sentAuth) causes.push({ id: 'credential-missing', weight: -0.6, summary: 'npm login sends the password in the body, so the missing Authorization header is expected.', evidence: [ev('request:url', 'PUT /-/user/org.couchdb.user:…')] });
    } else if (/^You must be logged in to publish packages\.$/.test(message)) {
      causes.push({ id: 'credential-missing', weight: 0.85, summary: `Verdaccio answered "${message}"`, evidence: [bodyEv], fixes: [login] });
    } else return { producer };
    return { producer, causes };
  },
});
