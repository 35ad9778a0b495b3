// The public npm registry (registry.npmjs.org) refuses with {"error": "…"}
// bodies and npm-notice headers that the npm client prints as "npm notice …".
// What identifies it: the registry host, the npm-notice header, Cloudflare in
// front (cf-ray, Server: cloudflare), and its own sentences ("You do not have
// permission to publish "X". Are you logged in as the correct user?", "You
// must provide a one-time pass"). Verdaccio answers in the same JSON shape
// with other sentences and X-Powered-By: verdaccio/… or hidden: where the
// verdaccio rule recognises a response, this one gives way (yieldsTo).
import { defineProducer, ev, jsonString, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

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

export default defineProducer({
  meta: {
    id: 'npm-registry',
    product: 'npm-registry',
    layer: 'application',
    causes: ['not-owner', 'insufficient-scope', 'account-state', 'credential-missing', 'credential-invalid'],
    yieldsTo: ['verdaccio'],
    statuses: [401, 403],
    ...texts,
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
        fixes: ['addMaintainer', 'teamAccess', 'ownScope'],
      });
      if (ctx.requestHeader('authorization'))
        report.claim('insufficient-scope', 'tokenScope', 0.25, { data: { pkg }, evidence, fixes: ['granularToken'] });
    } else if (OTP.test(text)) {
      report.claim('account-state', 'otp', 0.85, {
        data: { message: notice ?? error ?? '' },
        evidence: [notice ? ev('header:npm-notice', notice) : ev('body:error', error ?? '')],
        fixes: ['otp', 'ciPublishing'],
      });
    } else if (ctx.status === 401) {
      const sent = ctx.requestHeader('authorization');
      report.claim(sent ? 'credential-invalid' : 'credential-missing', sent ? 'tokenRejected' : 'noToken', 0.6, {
        data: { text: text || 'no message' },
        evidence: text ? [ev('body:error', text)] : [],
        fixes: ['newToken'],
      });
    }
  },
});
