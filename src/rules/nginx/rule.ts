// nginx answers every access-phase refusal with the same built-in page and
// the same "access forbidden by rule" log line: `deny` rules, IP allow/deny,
// `limit_except`, a file its worker cannot read, a directory without index.
// The response alone narrows it down only by the request's shape; probes and
// the error log tell the rest.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';

// OpenResty's pages and Server header name openresty: they belong to its own rule.
const SERVER = /^nginx(\/[\d.]+)?/i;
const PAGE_SIGNATURE = /<hr><center>nginx(\/[\d.]+)?<\/center>/i;

function signature(ctx: Context) {
  const server = ctx.header('server');
  const page = PAGE_SIGNATURE.exec(ctx.body.text);
  return { server: server && SERVER.test(server) ? server : undefined, page: page?.[0] };
}

const ERROR_LOG = 'grep -F "$(date +%Y/%m/%d)" /var/log/nginx/error.log | grep -E "forbidden|Permission denied|directory index"';

export default defineRule({
  meta: {
    id: 'nginx',
    kind: 'producer',
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
  },
  applies: (ctx) => Boolean(signature(ctx).server || signature(ctx).page),
  run(ctx) {
    const sig = signature(ctx);
    const evidence = [
      ...(sig.server ? [ev('header:server', sig.server)] : []),
      ...(sig.page ? [ev('body', `nginx error page footer ${sig.page}`)] : []),
    ];
    // Only nginx's own error page proves nginx refused; a Server header alone
    // may sit in front of an application that answered.
    const ownPage = Boolean(sig.page);
    const producer = { product: 'nginx' as const, layer: 'web-server' as const, confidence: ownPage ? 0.9 : 0.45, evidence };
    if (!ownPage) return { producer };

    const causes: CauseClaim[] = [];
    if (ctx.status === 401) {
      const basic = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'basic');
      const sent = ctx.requestHeader('authorization');
      const realm = basic?.params.realm;
      const fixes = [
        {
          title: 'Send the user name and password this location expects (auth_basic)',
          difficulty: 'easy' as const,
          commands: [`curl -u USER ${ctx.url?.href ?? 'URL'}`],
          verify: 'The same request answers 200 instead of 401.',
        },
        {
          title: 'Check the user exists in the auth_basic_user_file and reset the password',
          difficulty: 'medium' as const,
          commands: ['grep -n auth_basic_user_file -r /etc/nginx/', 'htpasswd /etc/nginx/.htpasswd USER'],
          docs: 'https://nginx.org/en/docs/http/ngx_http_auth_basic_module.html',
        },
      ];
      if (sent && /^basic\s/i.test(sent))
        causes.push({ id: 'credential-invalid', weight: 0.8, summary: `nginx rejected the Basic credentials for realm "${realm ?? '?'}": unknown user or wrong password.`, evidence: [...evidence, ev('request-header:authorization', 'Basic credentials were sent')], fixes });
      else if (sent && basic)
        // auth_basic reads only the Basic scheme; anything else counts as no credential at all.
        causes.push({ id: 'credential-malformed', weight: 0.75, summary: `nginx wants HTTP Basic credentials (realm "${realm ?? '?'}") but the request sent a ${sent.split(/\s/)[0]} credential, which auth_basic ignores.`, evidence: [...evidence, ev('header:www-authenticate', `Basic realm="${realm}"`), ev('request-header:authorization', `${sent.split(/\s/)[0]} … (not Basic)`)], fixes });
      else
        causes.push({ id: 'credential-missing', weight: 0.8, summary: `nginx requires HTTP Basic authentication (realm "${realm ?? '?'}") and the request sent none.`, evidence: [...evidence, ev('header:www-authenticate', basic ? `Basic realm="${realm}"` : 'no Basic challenge')], fixes });
      return { producer, causes };
    }
    if (ctx.status !== 403) return { producer };

    const path = ctx.url?.pathname ?? '';
    const lastSegment = path.split('/').pop() ?? '';
    const errorLogFix = {
      title: 'Read nginx’s error log for this request: it names the reason',
      difficulty: 'easy' as const,
      commands: [ERROR_LOG],
      verify: '"access forbidden by rule" = a deny/allow rule; "(13: Permission denied)" = file permissions; "directory index of … is forbidden" = no index file.',
    };
    const pageEvidence = ev('body', 'nginx’s generic 403 page: the same for deny rules, IP rules, unreadable files and missing index files');

    if (path.endsWith('/')) {
      causes.push({
        id: 'directory-listing',
        weight: 0.55,
        summary: 'A directory was requested: nginx answers 403 when there is no index file and autoindex is off.',
        evidence: [pageEvidence, ev('request:url', `path ends with "/" (${path})`)],
        fixes: [
          { title: 'Request a file inside the directory, or add an index file', difficulty: 'easy', commands: [`ls -la <root>${path}`], verify: 'The directory holds index.html (or what `index` lists).' },
          { title: 'Turn on listings for this location if they are wanted', difficulty: 'medium', commands: ['autoindex on;  # in the location block, then: nginx -t && nginx -s reload'], docs: 'https://nginx.org/en/docs/http/ngx_http_autoindex_module.html' },
          errorLogFix,
        ],
      });
    }
    if (!['GET', 'HEAD'].includes(ctx.method)) {
      causes.push({
        id: 'method-not-allowed',
        weight: 0.4,
        summary: `The ${ctx.method} method may be refused by a limit_except block, which nginx answers with 403 rather than 405.`,
        evidence: [pageEvidence, ev('request:method', ctx.method)],
        fixes: [
          { title: 'Check the location’s limit_except block', difficulty: 'easy', commands: ['grep -rn -A3 limit_except /etc/nginx/'], verify: `The ${ctx.method} method is listed, or the client is allowed inside the block.` },
        ],
      });
    }
    const hidden = lastSegment.startsWith('.');
    causes.push({
      id: 'path-forbidden',
      weight: hidden ? 0.6 : 0.35,
      summary: hidden
        ? `A hidden file (${lastSegment}) was requested; nginx configurations commonly deny dot-files with \`location ~ /\\. { deny all; }\`.`
        : 'A `deny` rule in the nginx configuration may refuse this path for everyone.',
      evidence: [pageEvidence, ...(hidden ? [ev('request:url', `hidden file ${lastSegment}`)] : [])],
      fixes: [
        { title: 'Find the deny rule that covers this location', difficulty: 'easy', commands: ['nginx -T 2>/dev/null | grep -nE "location|deny|allow"'], verify: 'No `deny all` applies to the location that serves this path.' },
        errorLogFix,
      ],
    });
    causes.push({
      id: 'ip-restricted',
      weight: 0.3,
      summary: 'An allow/deny rule on client addresses may exclude your address; nginx’s page is the same as for a plain deny.',
      evidence: [pageEvidence],
      fixes: [
        { title: 'Compare your address with the location’s allow rules', difficulty: 'medium', commands: ['curl -s https://ifconfig.me  # your public address, then:', 'nginx -T 2>/dev/null | grep -nE "allow|deny"'], verify: 'Your address (as nginx sees it, after any proxy) falls inside an `allow` range.' },
      ],
    });
    causes.push({
      id: 'filesystem-permission',
      weight: 0.25,
      summary: 'The nginx worker may be unable to read the file or to traverse a directory on its path.',
      evidence: [pageEvidence],
      fixes: [
        { title: 'Check that the worker user can read the file and enter every directory above it', difficulty: 'easy', commands: ['namei -l <root>' + (path || '/FILE'), "sudo -u www-data test -r <root>" + (path || '/FILE') + " && echo readable"], verify: 'Every directory on the path has x for the worker user and the file has r.' },
        errorLogFix,
      ],
    });
    return { producer, causes };
  },
});
