// OpenResty is nginx with LuaJIT, so its refusals come from two places that
// share one stock page ("<hr><center>openresty</center>"): nginx's own access
// phase (deny/allow, auth_basic, unreadable files) and Lua code that ends the
// request with ngx.exit(403) / ngx.exit(401) from access_by_lua* — WAF
// modules, IP lists, API-key checks, rate limits. The page is identical for
// all of them, so the rule ranks them by how often each produces a bare stock
// page and lets the error log and the Lua code decide.
import { defineProducer, ev, signals, type Context, type Fix } from '../define.ts';
import { challenge } from '../_lib/challenges.ts';
import { sendPasswordFix, sentCredential } from '../_lib/basic-auth.ts';
import { namedServer } from '../_lib/server-header.ts';

const SERVER = /^openresty(\/[\d.]+)?/i;
const PAGE_SIGNATURE = /<hr><center>openresty(\/[\d.]+)?<\/center>/i;

const DOCS = {
  luaExit: 'https://github.com/openresty/lua-nginx-module#ngxexit',
  accessByLua: 'https://github.com/openresty/lua-nginx-module#access_by_lua_block',
  access: 'https://nginx.org/en/docs/http/ngx_http_access_module.html',
  authBasic: 'https://nginx.org/en/docs/http/ngx_http_auth_basic_module.html',
  limitTraffic: 'https://github.com/openresty/lua-resty-limit-traffic',
  install: 'https://openresty.org/en/installation.html',
};

// The OpenResty packages install under /usr/local/openresty; `openresty` is
// their wrapper around nginx (-t, -T, -s reload).
const ERROR_LOG = '/usr/local/openresty/nginx/logs/error.log';
const CONF_DIR = '/usr/local/openresty/nginx/conf';
const LUA_EXITS = `openresty -T 2>/dev/null | grep -nE "access_by_lua|rewrite_by_lua|ngx.exit|HTTP_FORBIDDEN|HTTP_UNAUTHORIZED|lua_package_path"`;
const LUA_GREP = `grep -rnE "ngx.exit\\((403|401|ngx.HTTP_FORBIDDEN|ngx.HTTP_UNAUTHORIZED)" ${CONF_DIR} /usr/local/openresty/site /usr/local/openresty/lualib 2>/dev/null`;

const errorLogFix = (what: string): Fix => ({
  title:
    'Read OpenResty’s error log for this request: nginx’s own refusals and the Lua code’s ngx.log lines land there',
  difficulty: 'easy',
  commands: [
    `grep -F "$(date +%Y/%m/%d)" ${ERROR_LOG} | grep -E "forbidden|Permission denied|directory index|\\[lua\\]|user \\""`,
  ],
  verify: `${what} A "[lua] …" line names the Lua file and line that called ngx.exit; "access forbidden by rule" is a deny/allow directive; "(13: Permission denied)" is file permissions.`,
});

const luaExitFix: Fix = {
  title: 'Find the access_by_lua* code that ends the request with ngx.exit(403) and the condition it tested',
  difficulty: 'medium',
  commands: [LUA_EXITS, LUA_GREP],
  verify:
    'After changing the Lua code or its data (IP list, keys, rules): `openresty -t && openresty -s reload`, then the same request no longer gets the stock 403 page.',
  docs: DOCS.luaExit,
};

const basicFixes = (ctx: Context, realm: string, url = ctx.url?.href ?? 'URL'): Fix[] => [
  sendPasswordFix(ctx, `for realm "${realm}" (auth_basic)`),
  {
    title: 'Check the user in the auth_basic_user_file OpenResty reads, and reset the password',
    difficulty: 'medium',
    commands: [
      `openresty -T 2>/dev/null | grep -nE "auth_basic|auth_basic_user_file"`,
      `htpasswd ${CONF_DIR}/.htpasswd USER`,
      'openresty -t && openresty -s reload',
    ],
    verify: `curl -u USER:PASSWORD -o /dev/null -w "%{http_code}\\n" ${url} prints 200.`,
    docs: DOCS.authBasic,
  },
];

const luaCredentialFixes: Fix[] = [
  {
    title: 'Find which credential the Lua access handler expects (header, query key, cookie) and send it',
    difficulty: 'medium',
    commands: [
      LUA_EXITS,
      `grep -rnE "ngx.exit\\((401|ngx.HTTP_UNAUTHORIZED)|get_headers\\(\\)|ngx.var.http_" ${CONF_DIR} /usr/local/openresty/site 2>/dev/null`,
    ],
    verify: 'The same request with that credential answers 200 instead of the stock 401 page.',
    docs: DOCS.luaExit,
  },
  errorLogFix('Lua handlers usually log why they refused.'),
];

const addressFixes: Fix[] = [
  {
    title: 'Compare the address OpenResty sees with its allow/deny directives and the Lua IP lists',
    difficulty: 'medium',
    commands: [
      'curl -s https://ifconfig.me  # your public address, then:',
      `openresty -T 2>/dev/null | grep -nE "allow|deny|remote_addr|real_ip"`,
      LUA_GREP,
    ],
    verify:
      'Your address (after any proxy, as set by real_ip) is allowed and not on a Lua block list; the request then answers 200.',
    docs: DOCS.access,
  },
  errorLogFix('An IP refusal by a directive logs "access forbidden by rule".'),
];

const wafFixes: Fix[] = [
  {
    title: 'Find the WAF rule that matched in its own log, and add an exception for this request',
    difficulty: 'medium',
    commands: [
      LUA_EXITS,
      `grep -rn "$(date +%Y/%m/%d)" /usr/local/openresty/nginx/logs/ 2>/dev/null | grep -iE "waf|rule|block"`,
    ],
    verify: 'The WAF’s log shows no block for the repeated request, which answers 200.',
  },
  luaExitFix,
];

const denyFixes: Fix[] = [
  {
    title: 'Find the deny rule or Lua check that covers this location',
    difficulty: 'easy',
    commands: [`openresty -T 2>/dev/null | grep -nE "location|deny|access_by_lua"`],
    verify: 'No `deny all` and no ngx.exit(403) applies to the location that serves this path.',
    docs: DOCS.access,
  },
  errorLogFix('A directive logs "access forbidden by rule".'),
];

const limiterFix: Fix = {
  title: 'Check the Lua limiter and its rejection status',
  difficulty: 'medium',
  commands: [`openresty -T 2>/dev/null | grep -nE "limit_req|limit_conn|resty.limit|lua_shared_dict"`],
  verify: 'Slowing down (or waiting out the window) turns the 403 back into 200.',
  docs: DOCS.limitTraffic,
};

const methodFix = (method: string): Fix => ({
  title: 'Check limit_except blocks and ngx.req.get_method() checks for this location',
  difficulty: 'easy',
  commands: [`openresty -T 2>/dev/null | grep -nE -A3 "limit_except|get_method"`],
  verify: `The ${method} method is allowed for the client.`,
});

const directoryFixes: Fix[] = [
  {
    title: 'Request a file inside the directory, or add an index file / autoindex on',
    difficulty: 'easy',
    commands: [`openresty -T 2>/dev/null | grep -nE "root|index|autoindex"`],
    verify:
      'The directory holds the index file, or `autoindex on;` is set and `openresty -t && openresty -s reload` ran.',
  },
  errorLogFix('"directory index of … is forbidden" confirms it.'),
];

const permissionFixes = (file: string): Fix[] => [
  {
    title: 'Check that the worker user can read the file and enter every directory above it',
    difficulty: 'easy',
    commands: [`openresty -T 2>/dev/null | grep -nE "^\\s*user|root|alias"`, `namei -l <root>${file}`],
    verify: 'Every directory on the path has x for the worker user and the file has r.',
  },
  errorLogFix('"(13: Permission denied)" confirms it.'),
];

export default defineProducer({
  meta: {
    id: 'openresty',
    product: 'openresty',
    layer: 'web-server',
    description:
      'OpenResty’s stock 401/403 pages (footer "openresty[/x.y]", Server: openresty): nginx access rules and auth_basic, and Lua access-phase code (access_by_lua*: WAF modules, IP lists, key checks, rate limits) ending the request with ngx.exit.',
    docs: [DOCS.luaExit, DOCS.accessByLua, DOCS.access, DOCS.authBasic, DOCS.limitTraffic],
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
    messages: {
      basicRejected:
        'OpenResty (auth_basic) rejected the Basic credentials for realm "{{realm}}": unknown user or wrong password.',
      basicWrongScheme:
        'OpenResty wants HTTP Basic credentials (realm "{{realm}}") but the request sent a {{scheme}} credential, which auth_basic ignores.',
      basicMissing: 'OpenResty requires HTTP Basic authentication (realm "{{realm}}") and the request sent none.',
      luaRejected: 'A Lua access handler in OpenResty refused the credential the request carried (ngx.exit(401)).',
      luaMissing:
        'A Lua access handler in OpenResty requires a credential and the request carried none (ngx.exit(401)).',
      ipList:
        'Your address may be refused by an allow/deny directive or by a Lua IP list checked in access_by_lua* (ngx.var.remote_addr).',
      waf: 'A Lua WAF in the access phase (lua-resty-waf, ngx_lua_waf or similar) may have matched the request and called ngx.exit(403).',
      hiddenFile:
        'A hidden file ({{file}}) was requested; OpenResty configurations commonly deny dot-files with `location ~ /\\. { deny all; }`.',
      denyRule: 'A `deny all` in the location, or a Lua route check, may refuse this path for everyone.',
      luaForbidsCredential:
        'A Lua access handler (an auth module or gateway policy) may have rejected the credential the request carried and answered 403 instead of 401.',
      luaWantsCredential:
        'A Lua access handler (an auth module or gateway policy) may require a key, token or header the request did not carry, and answers 403 without one.',
      limiter:
        'A Lua rate limiter (lua-resty-limit-traffic or custom code) may be rejecting your address with 403 rather than 429/503.',
      limitExcept:
        'The {{method}} method may be refused by a limit_except block or a Lua method check, answered with 403 rather than 405.',
      directory: 'A directory was requested: OpenResty answers 403 when there is no index file and autoindex is off.',
      unreadable:
        'If OpenResty serves this file itself, its worker may be unable to read it or traverse a directory above it.',
    },
  },
  recognise(ctx) {
    const server = namedServer(ctx, SERVER);
    const otherServer = !server && Boolean(ctx.header('server'));
    const page = PAGE_SIGNATURE.exec(ctx.body.text)?.[0];
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
        const details = { evidence: [...evidence, luaAuth, credentialEv], fixes: luaCredentialFixes };
        if (hasCredential) report.claim('credential-invalid', 'luaRejected', 0.6, details);
        else report.claim('credential-missing', 'luaMissing', 0.65, details);
        return;
      }
      // nginx's auth_basic inside OpenResty: the challenge names the realm.
      const realm = basic.params.realm ?? '?';
      const sent = sentCredential(ctx);
      const fixes = basicFixes(ctx, realm);
      const shown = [...evidence, ev('header:www-authenticate', `Basic realm="${realm}"`)];
      const data = { realm, scheme: sent.scheme };
      if (sent.kind === 'basic') {
        const logFix = errorLogFix('A "user … was not found" or "password mismatch" line confirms it.');
        report.claim('credential-invalid', 'basicRejected', 0.8, {
          data,
          evidence: [...shown, sent.evidence],
          fixes: [...fixes, logFix],
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
    report.claim('ip-restricted', 'ipList', 0.35, { evidence: [stock], fixes: addressFixes });
    report.claim('waf-block', 'waf', 0.35, { evidence: [stock], fixes: wafFixes });
    report.claim('path-forbidden', hidden ? 'hiddenFile' : 'denyRule', hidden ? 0.6 : 0.35, {
      data: { file: lastSegment },
      evidence: [stock, ...(hidden ? [ev('request:url', `hidden file ${lastSegment}`)] : [])],
      fixes: denyFixes,
    });
    if (hasCredential)
      report.claim('credential-invalid', 'luaForbidsCredential', 0.3, {
        evidence: [stock, credentialEv],
        fixes: [luaExitFix, errorLogFix('Auth modules log the rejected key or token.')],
      });
    else
      report.claim('credential-missing', 'luaWantsCredential', 0.3, {
        evidence: [stock, credentialEv],
        fixes: [luaExitFix, errorLogFix('Auth modules log what they expected.')],
      });
    report.claim('rate-limited', 'limiter', 0.25, { evidence: [stock], fixes: [limiterFix] });
    if (!['GET', 'HEAD'].includes(ctx.method))
      report.claim('method-not-allowed', 'limitExcept', 0.3, {
        data: { method: ctx.method },
        evidence: [stock, ev('request:method', ctx.method)],
        fixes: [methodFix(ctx.method)],
      });
    // Static-file refusals need nginx to serve files itself, which OpenResty
    // deployments (gateways, Lua apps) do less often than plain nginx.
    if (path.endsWith('/'))
      report.claim('directory-listing', 'directory', 0.2, {
        evidence: [stock, ev('request:url', `path ends with "/" (${path})`)],
        fixes: directoryFixes,
      });
    report.claim('filesystem-permission', 'unreadable', 0.2, {
      evidence: [stock],
      fixes: permissionFixes(path || '/FILE'),
    });
  },
});
