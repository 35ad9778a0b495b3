// The public npm registry (registry.npmjs.org) refuses with {"error": "…"}
// bodies and npm-notice headers that the npm client prints as "npm notice …".
// What identifies it: the registry host, the npm-notice header, Cloudflare in
// front (cf-ray, Server: cloudflare), and its own sentences ("You do not have
// permission to publish "X". Are you logged in as the correct user?", "You
// must provide a one-time pass"). Verdaccio answers in the same JSON shape
// with other sentences and X-Powered-By: verdaccio/… or hidden: that rules
// npm out.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const DOCS = {
  owner: 'https://docs.npmjs.com/cli/v10/commands/npm-owner',
  access: 'https://docs.npmjs.com/cli/v10/commands/npm-access',
  tfa: 'https://docs.npmjs.com/requiring-2fa-for-package-publishing-and-settings-modification',
  tokens: 'https://docs.npmjs.com/creating-and-viewing-access-tokens',
  trusted: 'https://docs.npmjs.com/trusted-publishers',
};

const NO_PERMISSION = /you do not have permission to publish ["'“]?([^"'”]+)["'”]?/i;
const OTP = /one-time pass/i;

function errorText(ctx: Context): string | undefined {
  const j = ctx.body.json;
  if (j && typeof j === 'object' && !Array.isArray(j)) return jsonString(j, 'error')?.trim() ?? jsonString(j, 'message')?.trim();
  return undefined;
}

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const host = ctx.url?.hostname ?? '';
  const notice = ctx.header('npm-notice');
  const error = errorText(ctx);
  const registryHost = /^registry\.npmjs\.(org|com)$/.test(host);
  const verdaccio = /^(verdaccio\/|hidden$)/i.test(ctx.header('x-powered-by') ?? '');
  const npmSentence = Boolean(error && (NO_PERMISSION.test(error) && /logged in as the correct user/i.test(error)));
  if (registryHost) evidence.push(ev('request:url', `the public npm registry ${host}`));
  if (notice) evidence.push(ev('header:npm-notice', notice));
  if (npmSentence) evidence.push(ev('body:error', error!));
  let confidence = 0;
  if (verdaccio) confidence = 0;
  else if (registryHost) confidence = 0.95;
  else if (notice) confidence = 0.9;
  else if (npmSentence) confidence = 0.8;
  return { confidence, evidence, error, notice };
}

function packageOf(ctx: Context, fromMessage?: string): string {
  if (fromMessage) return fromMessage;
  const seg = ctx.url?.pathname.split('/').filter(Boolean)[0];
  return seg ? decodeURIComponent(seg) : 'PACKAGE';
}

export default defineRule({
  meta: {
    id: 'npm-registry',
    kind: 'producer',
    product: 'npm-registry',
    layer: 'application',
    description: 'The public npm registry’s refusals: publishing a package you do not maintain, a publish that needs a 2FA one-time password, missing or rejected tokens.',
    docs: [DOCS.owner, DOCS.access, DOCS.tfa, DOCS.tokens],
    causes: ['not-owner', 'insufficient-scope', 'account-state', 'credential-missing', 'credential-invalid'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'npm-registry' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const causes: CauseClaim[] = [];
    const text = [sig.error, sig.notice, ctx.header('www-authenticate')].filter(Boolean).join(' | ');
    const whoami: Fix['verify'] = 'npm whoami prints the account you meant to publish as.';

    const noPerm = sig.error ? NO_PERMISSION.exec(sig.error) : null;
    if (noPerm) {
      const pkg = packageOf(ctx, noPerm[1]);
      const e = [ev('body:error', sig.error!)];
      causes.push({
        id: 'not-owner',
        weight: 0.8,
        summary: `The registry answered "${sig.error}": the logged-in account is not a maintainer of ${pkg} (or the name belongs to someone else).`,
        evidence: e,
        gap: { required: [`maintainer of ${pkg}`], held: ['the account npm whoami names'] },
        fixes: [
          { title: `Have an owner of ${pkg} add you as a maintainer`, difficulty: 'medium', commands: [`npm owner ls ${pkg}`, `npm owner add YOUR_USER ${pkg}  # run by a current owner`], verify: `npm access list collaborators ${pkg} lists your account with read-write; ${whoami}`, docs: DOCS.owner },
          { title: 'For a package owned by an organisation, grant your team write access', difficulty: 'medium', commands: [`npm access grant read-write ORG:TEAM ${pkg}`], verify: `npm access list collaborators ${pkg}`, docs: DOCS.access },
          { title: 'If the name is someone else’s, publish under your own scope', difficulty: 'easy', commands: ['npm pkg set name=@YOUR_SCOPE/NAME', 'npm publish --access public'], verify: 'npm view @YOUR_SCOPE/NAME version' },
        ],
      });
      if (ctx.requestHeader('authorization'))
        causes.push({
          id: 'insufficient-scope',
          weight: 0.25,
          summary: 'A granular access token without read-and-write permission on this package (or its scope) gets the same answer.',
          evidence: e,
          fixes: [{ title: 'Create a granular token with read and write on the package', difficulty: 'easy', commands: [`npm token create  # or on npmjs.com: Access Tokens → Generate New Token → Granular, packages: ${pkg}, read and write`], verify: 'npm token list shows the token with read-write on the package.', docs: DOCS.tokens }],
        });
    } else if (OTP.test(text)) {
      causes.push({
        id: 'account-state',
        weight: 0.85,
        summary: `The registry answered "${sig.notice ?? sig.error}": two-factor authentication is required to publish (the account or the package demands it), and no one-time password came with the request.`,
        evidence: [sig.notice ? ev('header:npm-notice', sig.notice) : ev('body:error', sig.error ?? '')],
        fixes: [
          { title: 'Publish with a one-time password from your authenticator', difficulty: 'easy', commands: ['npm publish --otp=123456'], verify: 'npm view PACKAGE version shows the new version.', docs: DOCS.tfa },
          { title: 'In CI, use trusted publishing (OIDC) or a granular token allowed to bypass 2FA', difficulty: 'medium', commands: ['npm token create  # granular, "Bypass two-factor authentication" where the package settings allow it'], verify: 'npm profile get shows your two-factor auth mode; the CI publish succeeds.', docs: DOCS.trusted },
        ],
      });
    } else if (ctx.status === 401) {
      const sent = ctx.requestHeader('authorization');
      causes.push({
        id: sent ? 'credential-invalid' : 'credential-missing',
        weight: 0.6,
        summary: sent ? `The registry did not accept the token sent (${text || 'no message'}): revoked, expired (granular tokens expire) or for another registry.` : `No token reached the registry (${text || 'no message'}).`,
        evidence: text ? [ev('body:error', text)] : [],
        fixes: [{ title: 'Log in again, or create a new token and put it in .npmrc', difficulty: 'easy', commands: ['npm login', 'npm token create', 'npm config set //registry.npmjs.org/:_authToken=NPM_TOKEN'], verify: whoami, docs: DOCS.tokens }],
      });
    } else return { producer };
    return { producer, causes };
  },
});
