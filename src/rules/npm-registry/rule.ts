// The public npm registry (registry.npmjs.org) refuses with {"error": "…"}
// bodies and npm-notice headers that the npm client prints as "npm notice …".
// What identifies it: the registry host, the npm-notice header, Cloudflare in
// front (cf-ray, Server: cloudflare), and its own sentences ("You do not have
// permission to publish "X". Are you logged in as the correct user?", "You
// must provide a one-time pass"). Verdaccio answers in the same JSON shape
// with other sentences and X-Powered-By: verdaccio/… or hidden: where the
// verdaccio rule recognises a response, this one gives way (yieldsTo).
import { defineProducer, ev, jsonString, signals, type Context, type Fix } from '../define.ts';

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
  if (j && typeof j === 'object' && !Array.isArray(j))
    return jsonString(j, 'error')?.trim() ?? jsonString(j, 'message')?.trim();
  return undefined;
}

function packageOf(ctx: Context, fromMessage?: string): string {
  if (fromMessage) return fromMessage;
  const seg = ctx.url?.pathname.split('/').filter(Boolean)[0];
  return seg ? decodeURIComponent(seg) : 'PACKAGE';
}

const WHOAMI = 'npm whoami prints the account you meant to publish as.';

function ownerFixes(pkg: string): Fix[] {
  return [
    {
      title: `Have an owner of ${pkg} add you as a maintainer`,
      difficulty: 'medium',
      commands: [`npm owner ls ${pkg}`, `npm owner add YOUR_USER ${pkg}  # run by a current owner`],
      verify: `npm access list collaborators ${pkg} lists your account with read-write; ${WHOAMI}`,
      docs: DOCS.owner,
    },
    {
      title: 'For a package owned by an organisation, grant your team write access',
      difficulty: 'medium',
      commands: [`npm access grant read-write ORG:TEAM ${pkg}`],
      verify: `npm access list collaborators ${pkg}`,
      docs: DOCS.access,
    },
    {
      title: 'If the name is someone else’s, publish under your own scope',
      difficulty: 'easy',
      commands: ['npm pkg set name=@YOUR_SCOPE/NAME', 'npm publish --access public'],
      verify: 'npm view @YOUR_SCOPE/NAME version',
    },
  ];
}

const granularTokenFix = (pkg: string): Fix => ({
  title: 'Create a granular token with read and write on the package',
  difficulty: 'easy',
  commands: [
    `npm token create  # or on npmjs.com: Access Tokens → Generate New Token → Granular, packages: ${pkg}, read and write`,
  ],
  verify: 'npm token list shows the token with read-write on the package.',
  docs: DOCS.tokens,
});

const OTP_FIXES: Fix[] = [
  {
    title: 'Publish with a one-time password from your authenticator',
    difficulty: 'easy',
    commands: ['npm publish --otp=123456'],
    verify: 'npm view PACKAGE version shows the new version.',
    docs: DOCS.tfa,
  },
  {
    title: 'In CI, use trusted publishing (OIDC) or a granular token allowed to bypass 2FA',
    difficulty: 'medium',
    commands: ['npm token create  # granular, "Bypass two-factor authentication" where the package settings allow it'],
    verify: 'npm profile get shows your two-factor auth mode; the CI publish succeeds.',
    docs: DOCS.trusted,
  },
];

const TOKEN_FIX: Fix = {
  title: 'Log in again, or create a new token and put it in .npmrc',
  difficulty: 'easy',
  commands: ['npm login', 'npm token create', 'npm config set //registry.npmjs.org/:_authToken=NPM_TOKEN'],
  verify: WHOAMI,
  docs: DOCS.tokens,
};

export default defineProducer({
  meta: {
    id: 'npm-registry',
    product: 'npm-registry',
    layer: 'application',
    description:
      'The public npm registry’s refusals: publishing a package you do not maintain, a publish that needs a 2FA one-time password, missing or rejected tokens.',
    docs: [DOCS.owner, DOCS.access, DOCS.tfa, DOCS.tokens],
    causes: ['not-owner', 'insufficient-scope', 'account-state', 'credential-missing', 'credential-invalid'],
    yieldsTo: ['verdaccio'],
    statuses: [401, 403],
    messages: {
      notOwner:
        'The registry answered "{{error}}": the logged-in account is not a maintainer of {{pkg}} (or the name belongs to someone else).',
      tokenScope:
        'A granular access token without read-and-write permission on this package (or its scope) gets the same answer.',
      otp: 'The registry answered "{{message}}": two-factor authentication is required to publish (the account or the package demands it), and no one-time password came with the request.',
      tokenRejected:
        'The registry did not accept the token sent ({{text}}): revoked, expired (granular tokens expire) or for another registry.',
      noToken: 'No token reached the registry ({{text}}).',
    },
  },
  recognise(ctx) {
    const host = ctx.url?.hostname ?? '';
    const notice = ctx.header('npm-notice');
    const error = errorText(ctx);
    const found = signals();
    if (/^registry\.npmjs\.(org|com)$/.test(host))
      found.add(0.95, ev('request:url', `the public npm registry ${host}`));
    if (notice) found.add(0.9, ev('header:npm-notice', notice));
    if (error && NO_PERMISSION.test(error) && /logged in as the correct user/i.test(error))
      found.add(0.8, ev('body:error', error));
    return found.result({ error, notice });
  },
  explain(ctx, { error, notice }, report) {
    const text = [error, notice, ctx.header('www-authenticate')].filter(Boolean).join(' | ');
    const noPerm = error ? NO_PERMISSION.exec(error) : null;
    if (noPerm) {
      const pkg = packageOf(ctx, noPerm[1]);
      const evidence = [ev('body:error', error!)];
      report.claim('not-owner', 'notOwner', 0.8, {
        data: { error, pkg },
        evidence,
        gap: { required: [`maintainer of ${pkg}`], held: ['the account npm whoami names'] },
        fixes: ownerFixes(pkg),
      });
      if (ctx.requestHeader('authorization'))
        report.claim('insufficient-scope', 'tokenScope', 0.25, { evidence, fixes: [granularTokenFix(pkg)] });
    } else if (OTP.test(text)) {
      report.claim('account-state', 'otp', 0.85, {
        data: { message: notice ?? error ?? '' },
        evidence: [notice ? ev('header:npm-notice', notice) : ev('body:error', error ?? '')],
        fixes: OTP_FIXES,
      });
    } else if (ctx.status === 401) {
      const sent = ctx.requestHeader('authorization');
      report.claim(sent ? 'credential-invalid' : 'credential-missing', sent ? 'tokenRejected' : 'noToken', 0.6, {
        data: { text: text || 'no message' },
        evidence: text ? [ev('body:error', text)] : [],
        fixes: [TOKEN_FIX],
      });
    }
  },
});
