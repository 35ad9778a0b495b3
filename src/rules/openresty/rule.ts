// OpenResty is nginx with LuaJIT, so its refusals come from two places that
// share one stock page ("<hr><center>openresty</center>"): nginx's own access
// phase (deny/allow, auth_basic, unreadable files) and Lua code that ends the
// request with ngx.exit(403) / ngx.exit(401) from access_by_lua* — WAF
// modules, IP lists, API-key checks, rate limits. The page is identical for
// all of them, so the rule ranks them by how often each produces a bare stock
// page and lets the error log and the Lua code decide. What it says and
// suggests (commands for the /usr/local/openresty layout) is in texts.json.
import { defineProducer, ev, signals } from '../define.ts';
import { challenge } from '../_lib/challenges.ts';
import { sendPasswordFix, sentCredential } from '../_lib/basic-auth.ts';
import { namedServer } from '../_lib/server-header.ts';
import { nginxPageFooter } from '../_lib/stock-page.ts';
import texts from './texts.json' with { type: 'json' };

const SERVER = /^openresty(\/[\d.]+)?/i;

export default defineProducer({
  meta: {
    id: 'openresty',
    product: 'openresty',
    layer: 'web-server',
    relays: true,
    causes: [
      'ip-restricted',
      'waf-block',
      'path-forbidden',
      'credential-missing',
      'credential-malformed',
      'credential-invalid',
      'rate-limited',
      'method-not-allowed',
      'directory-listing',
      'filesystem-permission',
    ],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const server = namedServer(ctx, SERVER);
    const otherServer = !server && Boolean(ctx.header('server'));
    const page = nginxPageFooter(ctx, 'openresty');
    const found = signals();
    if (server) found.add(0.45, server.evidence);
    // A Server header alone may front an upstream that answered itself; only
    // the stock page proves OpenResty refused. Behind another product's Server
    // name (APISIX, a gateway built on OpenResty) the page is still OpenResty's
    // core answering, but that product may have its own reading of it.
    if (page) found.add(otherServer ? 0.7 : 0.9, ev('body', `OpenResty error page footer ${page}`));
    return found.result({ ownPage: Boolean(page) });
  },
  explain(ctx, { ownPage, evidence }, report) {
    if (!ownPage) return;
    const hasCredential = Boolean(ctx.requestHeader('authorization') || ctx.credential.items.length);
    const credentialEv = hasCredential
      ? ev('request', 'a credential was sent')
      : ev('request', 'no Authorization header, API key or cookie was sent');
    if (ctx.status === 401) {
      const basic = challenge(ctx, 'basic');
      if (!basic) {
        // No challenge: auth_basic always sends one, so this 401 came from Lua
        // code (ngx.exit(401) in an access_by_lua* handler or a plugin on top).
        const luaAuth = ev(
          'header:www-authenticate',
          'no challenge: auth_basic always sends one, so Lua code answered ngx.exit(401)',
        );
        const details = {
          evidence: [...evidence, luaAuth, credentialEv],
          fixes: ['luaCredential', 'errorLogLua'] as const,
        };
        if (hasCredential) report.claim('credential-invalid', 'luaRejected', 0.6, details);
        else report.claim('credential-missing', 'luaMissing', 0.65, details);
        return;
      }
      // nginx's auth_basic inside OpenResty: the challenge names the realm.
      const realm = basic.params.realm ?? '?';
      const sent = sentCredential(ctx);
      const fixes = [sendPasswordFix(ctx, `for realm "${realm}" (auth_basic)`), 'resetPassword'] as const;
      const shown = [...evidence, ev('header:www-authenticate', `Basic realm="${realm}"`)];
      const data = { realm, scheme: sent.scheme, url: ctx.url?.href ?? 'URL' };
      if (sent.kind === 'basic') {
        report.claim('credential-invalid', 'basicRejected', 0.8, {
          data,
          evidence: [...shown, sent.evidence],
          fixes: [...fixes, 'errorLogBasic'],
        });
      } else if (sent.kind === 'other')
        report.claim('credential-malformed', 'basicWrongScheme', 0.75, {
          data,
          evidence: [...shown, sent.evidence],
          fixes,
        });
      else report.claim('credential-missing', 'basicMissing', 0.8, { data, evidence: shown, fixes });
      return;
    }

    const path = ctx.url?.pathname ?? '';
    const lastSegment = path.split('/').pop() ?? '';
    const hidden = lastSegment.startsWith('.');
    const stock = ev(
      'body',
      'OpenResty’s stock 403 page: the same for nginx deny rules and for Lua code calling ngx.exit(403)',
    );
    report.claim('ip-restricted', 'ipList', 0.35, { evidence: [stock], fixes: ['compareAddress', 'errorLogAddress'] });
    report.claim('waf-block', 'waf', 0.35, { evidence: [stock], fixes: ['findWafRule', 'luaExit'] });
    report.claim('path-forbidden', hidden ? 'hiddenFile' : 'denyRule', hidden ? 0.6 : 0.35, {
      data: { file: lastSegment },
      evidence: [stock, ...(hidden ? [ev('request:url', `hidden file ${lastSegment}`)] : [])],
      fixes: ['findDeny', 'errorLogDeny'],
    });
    if (hasCredential)
      report.claim('credential-invalid', 'luaForbidsCredential', 0.3, {
        evidence: [stock, credentialEv],
        fixes: ['luaExit', 'errorLogRejectedKey'],
      });
    else
      report.claim('credential-missing', 'luaWantsCredential', 0.3, {
        evidence: [stock, credentialEv],
        fixes: ['luaExit', 'errorLogExpected'],
      });
    report.claim('rate-limited', 'limiter', 0.25, { evidence: [stock], fixes: ['limiter'] });
    if (!['GET', 'HEAD'].includes(ctx.method))
      report.claim('method-not-allowed', 'limitExcept', 0.3, {
        data: { method: ctx.method },
        evidence: [stock, ev('request:method', ctx.method)],
        fixes: ['methodCheck'],
      });
    // Static-file refusals need nginx to serve files itself, which OpenResty
    // deployments (gateways, Lua apps) do less often than plain nginx.
    if (path.endsWith('/'))
      report.claim('directory-listing', 'directory', 0.2, {
        evidence: [stock, ev('request:url', `path ends with "/" (${path})`)],
        fixes: ['directoryIndex', 'errorLogDirectory'],
      });
    report.claim('filesystem-permission', 'unreadable', 0.2, {
      data: { file: path || '/FILE' },
      evidence: [stock],
      fixes: ['workerCanRead', 'errorLogPermission'],
    });
  },
});
