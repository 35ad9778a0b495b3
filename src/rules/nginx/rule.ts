// nginx answers every access-phase refusal with the same built-in page and
// the same "access forbidden by rule" log line: `deny` rules, IP allow/deny,
// `limit_except`, a file its worker cannot read, a directory without index.
// The response alone narrows it down only by the request's shape; probes and
// the error log tell the rest.
import { defineProducer, ev, signals, type Fix } from '../define.ts';
import { claimBasicAuth } from '../_lib/basic-auth.ts';

// OpenResty's pages and Server header name openresty: they belong to its own rule.
const SERVER = /^nginx(\/[\d.]+)?/i;
const PAGE_SIGNATURE = /<hr><center>nginx(\/[\d.]+)?<\/center>/i;

const ERROR_LOG = 'grep -F "$(date +%Y/%m/%d)" /var/log/nginx/error.log | grep -E "forbidden|Permission denied|directory index"';

const errorLogFix: Fix = {
  title: 'Read nginx’s error log for this request: it names the reason',
  difficulty: 'easy',
  commands: [ERROR_LOG],
  verify: '"access forbidden by rule" = a deny/allow rule; "(13: Permission denied)" = file permissions; "directory index of … is forbidden" = no index file.',
};

export default defineProducer({
  meta: {
    id: 'nginx',
    product: 'nginx',
    layer: 'web-server',
    description: 'nginx built-in 401/403 pages: deny rules, IP rules, limit_except, unreadable files, directories without an index.',
    docs: [
      'https://nginx.org/en/docs/http/ngx_http_access_module.html',
      'https://nginx.org/en/docs/http/ngx_http_core_module.html#limit_except',
      'https://nginx.org/en/docs/http/ngx_http_index_module.html',
      'https://nginx.org/en/docs/http/ngx_http_auth_basic_module.html',
    ],
    causes: ['path-forbidden', 'ip-restricted', 'filesystem-permission', 'directory-listing', 'method-not-allowed', 'credential-missing', 'credential-malformed', 'credential-invalid'],
    statuses: [401, 403],
    messages: {
      basicRejected: 'nginx rejected the Basic credentials for realm "{{realm}}": unknown user or wrong password.',
      basicWrongScheme: 'nginx wants HTTP Basic credentials (realm "{{realm}}") but the request sent a {{scheme}} credential, which auth_basic ignores.',
      basicMissing: 'nginx requires HTTP Basic authentication (realm "{{realm}}") and the request sent none.',
      directory: 'A directory was requested: nginx answers 403 when there is no index file and autoindex is off.',
      limitExcept: 'The {{method}} method may be refused by a limit_except block, which nginx answers with 403 rather than 405.',
      hiddenFile: 'A hidden file ({{file}}) was requested; nginx configurations commonly deny dot-files with `location ~ /\\. { deny all; }`.',
      denyRule: 'A `deny` rule in the nginx configuration may refuse this path for everyone.',
      ipRule: 'An allow/deny rule on client addresses may exclude your address; nginx’s page is the same as for a plain deny.',
      unreadable: 'The nginx worker may be unable to read the file or to traverse a directory on its path.',
    },
  },
  recognise(ctx) {
    const server = ctx.header('server');
    const page = PAGE_SIGNATURE.exec(ctx.body.text)?.[0];
    const found = signals();
    // Only nginx's own error page proves nginx refused; a Server header alone
    // may sit in front of an application that answered.
    if (server && SERVER.test(server)) found.add(0.45, ev('header:server', server));
    if (page) found.add(0.9, ev('body', `nginx error page footer ${page}`));
    return found.result({ ownPage: Boolean(page) });
  },
  explain(ctx, { ownPage, evidence }, report) {
    if (!ownPage) return;
    if (ctx.status === 401) {
      // auth_basic reads only the Basic scheme; anything else counts as no credential at all.
      claimBasicAuth(ctx, report, { rejected: 'basicRejected', wrongScheme: 'basicWrongScheme', missing: 'basicMissing' }, {
        evidence,
        fixes: [
          { title: 'Send the user name and password this location expects (auth_basic)', difficulty: 'easy', commands: [`curl -u USER ${ctx.url?.href ?? 'URL'}`], verify: 'The same request answers 200 instead of 401.' },
          {
            title: 'Check the user exists in the auth_basic_user_file and reset the password',
            difficulty: 'medium',
            commands: ['grep -n auth_basic_user_file -r /etc/nginx/', 'htpasswd /etc/nginx/.htpasswd USER'],
            docs: 'https://nginx.org/en/docs/http/ngx_http_auth_basic_module.html',
          },
        ],
      });
      return;
    }

    const path = ctx.url?.pathname ?? '';
    const lastSegment = path.split('/').pop() ?? '';
    const pageEvidence = ev('body', 'nginx’s generic 403 page: the same for deny rules, IP rules, unreadable files and missing index files');

    if (path.endsWith('/'))
      report.claim('directory-listing', 'directory', 0.55, {
        evidence: [pageEvidence, ev('request:url', `path ends with "/" (${path})`)],
        fixes: [
          { title: 'Request a file inside the directory, or add an index file', difficulty: 'easy', commands: [`ls -la <root>${path}`], verify: 'The directory holds index.html (or what `index` lists).' },
          { title: 'Turn on listings for this location if they are wanted', difficulty: 'medium', commands: ['autoindex on;  # in the location block, then: nginx -t && nginx -s reload'], docs: 'https://nginx.org/en/docs/http/ngx_http_autoindex_module.html' },
          errorLogFix,
        ],
      });
    if (!['GET', 'HEAD'].includes(ctx.method))
      report.claim('method-not-allowed', 'limitExcept', 0.4, {
        data: { method: ctx.method },
        evidence: [pageEvidence, ev('request:method', ctx.method)],
        fixes: [{ title: 'Check the location’s limit_except block', difficulty: 'easy', commands: ['grep -rn -A3 limit_except /etc/nginx/'], verify: `The ${ctx.method} method is listed, or the client is allowed inside the block.` }],
      });
    const hidden = lastSegment.startsWith('.');
    report.claim('path-forbidden', hidden ? 'hiddenFile' : 'denyRule', hidden ? 0.6 : 0.35, {
      data: { file: lastSegment },
      evidence: [pageEvidence, ...(hidden ? [ev('request:url', `hidden file ${lastSegment}`)] : [])],
      fixes: [{ title: 'Find the deny rule that covers this location', difficulty: 'easy', commands: ['nginx -T 2>/dev/null | grep -nE "location|deny|allow"'], verify: 'No `deny all` applies to the location that serves this path.' }, errorLogFix],
    });
    report.claim('ip-restricted', 'ipRule', 0.3, {
      evidence: [pageEvidence],
      fixes: [
        { title: 'Compare your address with the location’s allow rules', difficulty: 'medium', commands: ['curl -s https://ifconfig.me  # your public address, then:', 'nginx -T 2>/dev/null | grep -nE "allow|deny"'], verify: 'Your address (as nginx sees it, after any proxy) falls inside an `allow` range.' },
      ],
    });
    const file = path || '/FILE';
    report.claim('filesystem-permission', 'unreadable', 0.25, {
      evidence: [pageEvidence],
      fixes: [
        { title: 'Check that the worker user can read the file and enter every directory above it', difficulty: 'easy', commands: [`namei -l <root>${file}`, `sudo -u www-data test -r <root>${file} && echo readable`], verify: 'Every directory on the path has x for the worker user and the file has r.' },
        errorLogFix,
      ],
    });
  },
});
