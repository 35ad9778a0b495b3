// Apache httpd 2.4 answers every access refusal with one built-in page — "You
// don't have permission to access this resource." — whether mod_authz_core
// refused (Require all denied, Require ip: both AH01630 in the error log), a
// directory had no index and no Indexes option (AH01276), or the file was
// unreadable to the server's user (AH00132). The response narrows it down only
// by the request's shape; the error log names the reason.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const SERVER = /^Apache(\/[\d.]+)?(\s|$)/;
// Current 2.4 wording; older releases named the path ("to access /x\non this server.<br />").
const FORBIDDEN_TEXT = /<p>You don't have permission to access (this resource|\S*\s*on this server)\.(<br \/>)?\s*<\/p>/;
const UNAUTHORIZED_TEXT = /<p>This server could not verify that you\s+are authorized to access the document\s+requested\./;
const PAGE_SHELL = /^<!DOCTYPE HTML PUBLIC "-\/\/(W3C|IETF)\/\/DTD HTML[^>]*>\s*<html><head>\s*<title>\d{3} [^<]+<\/title>\s*<\/head><body>/i;
const ADDRESS = /<address>(Apache[^<]*?) Server at ([^<]+?) Port (\d+)<\/address>/;

interface Signature {
  server?: string;
  page?: 'forbidden' | 'unauthorized';
  address?: string;
}

function signature(ctx: Context): Signature {
  const server = ctx.header('server');
  const body = ctx.body.text;
  const shell = PAGE_SHELL.test(body.trimStart());
  const page = shell && FORBIDDEN_TEXT.test(body) ? 'forbidden' : shell && UNAUTHORIZED_TEXT.test(body) ? 'unauthorized' : undefined;
  const address = ADDRESS.exec(body)?.[1];
  return { ...(server && SERVER.test(server) ? { server } : {}), ...(page ? { page } : {}), ...(address ? { address } : {}) };
}

const ERROR_LOG = 'grep -E "AH01630|AH01276|AH00132|AH00035|AH01797|AH01617|AH01618" /var/log/apache2/error.log | tail -n 20';
const errorLogFix: Fix = {
  title: 'Read Apache’s error log for this request: its AH code names the reason',
  difficulty: 'easy',
  commands: [ERROR_LOG],
  verify: 'AH01630 "client denied by server configuration" = a Require rule; AH01276 = directory without index and without Options Indexes; AH00132/AH00035 = file or directory permissions.',
  docs: 'https://httpd.apache.org/docs/2.4/mod/mod_authz_core.html',
};

export default defineRule({
  meta: {
    id: 'apache-httpd',
    kind: 'producer',
    product: 'apache-httpd',
    layer: 'web-server',
    description: 'Apache httpd 2.4 built-in 401/403 pages: Require rules (all denied, ip), Options -Indexes, unreadable files, LimitExcept, HTTP Basic authentication.',
    docs: [
      'https://httpd.apache.org/docs/2.4/mod/mod_authz_core.html',
      'https://httpd.apache.org/docs/2.4/mod/mod_authz_host.html',
      'https://httpd.apache.org/docs/2.4/mod/core.html#options',
      'https://httpd.apache.org/docs/2.4/mod/core.html#limitexcept',
      'https://httpd.apache.org/docs/2.4/mod/mod_auth_basic.html',
      'https://httpd.apache.org/docs/2.4/howto/access.html',
    ],
    causes: ['path-forbidden', 'ip-restricted', 'filesystem-permission', 'directory-listing', 'method-not-allowed', 'credential-missing', 'credential-malformed', 'credential-invalid'],
  },
  applies: (ctx) => {
    const sig = signature(ctx);
    return Boolean(sig.server || sig.page);
  },
  run(ctx) {
    const sig = signature(ctx);
    const evidence: Evidence[] = [
      ...(sig.server ? [ev('header:server', sig.server)] : []),
      ...(sig.page ? [ev('body', sig.page === 'forbidden' ? 'Apache’s built-in 403 page: "You don\'t have permission to access this resource."' : 'Apache’s built-in 401 page: "This server could not verify that you are authorized…"')] : []),
      ...(sig.address ? [ev('body:address', sig.address)] : []),
    ];
    // Only Apache's own page proves Apache refused; an application behind it
    // (PHP, a proxied backend) answers with its own body under the same Server header.
    const producer = { product: 'apache-httpd' as const, layer: 'web-server' as const, confidence: sig.page ? (sig.server || sig.address ? 0.95 : 0.85) : 0.45, evidence };
    if (!sig.page) return { producer };

    const causes: CauseClaim[] = [];
    if (ctx.status === 401 && sig.page === 'unauthorized') {
      const basic = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'basic');
      const realm = basic?.params.realm;
      const sent = ctx.requestHeader('authorization');
      const fixes: Fix[] = [
        { title: 'Send the user name and password this directory expects (AuthType Basic)', difficulty: 'easy', commands: [`curl -u USER ${ctx.url?.href ?? 'URL'}`], verify: 'The same request answers 200 instead of 401.' },
        {
          title: 'Check the user exists in the AuthUserFile and reset the password',
          difficulty: 'medium',
          commands: ['grep -rn -E "AuthUserFile|AuthName" /etc/apache2/', 'htpasswd /etc/apache2/.htpasswd USER'],
          verify: 'The error log no longer shows AH01617 (wrong password) or AH01618 (unknown user) for this request.',
          docs: 'https://httpd.apache.org/docs/2.4/mod/mod_auth_basic.html',
        },
      ];
      const challengeEv = ev('header:www-authenticate', basic ? `Basic realm="${realm ?? ''}"` : 'no Basic challenge');
      if (sent && /^basic\s/i.test(sent))
        causes.push({ id: 'credential-invalid', weight: 0.8, summary: `Apache rejected the Basic credentials for realm "${realm ?? '?'}": unknown user (AH01618) or wrong password (AH01617).`, evidence: [...evidence, challengeEv, ev('request-header:authorization', 'Basic credentials were sent')], fixes });
      else if (sent)
        causes.push({ id: 'credential-malformed', weight: 0.75, summary: `Apache wants HTTP Basic credentials (realm "${realm ?? '?'}") but the request sent a ${sent.split(/\s/)[0]} credential, which mod_auth_basic ignores.`, evidence: [...evidence, challengeEv, ev('request-header:authorization', `${sent.split(/\s/)[0]} … (not Basic)`)], fixes });
      else
        causes.push({ id: 'credential-missing', weight: 0.8, summary: `Apache requires HTTP Basic authentication (realm "${realm ?? '?'}") and the request sent none.`, evidence: [...evidence, challengeEv], fixes });
      return { producer, causes };
    }
    if (ctx.status !== 403 || sig.page !== 'forbidden') return { producer };

    const path = ctx.url?.pathname ?? '';
    const lastSegment = path.split('/').pop() ?? '';
    const pageEvidence = ev('body', 'Apache’s 403 page is the same for Require rules, unreadable files and directories without an index');

    if (path.endsWith('/')) {
      causes.push({
        id: 'directory-listing',
        weight: 0.55,
        summary: 'A directory was requested: Apache answers 403 (AH01276) when no DirectoryIndex file exists and Options does not include Indexes.',
        evidence: [pageEvidence, ev('request:url', `path ends with "/" (${path})`)],
        fixes: [
          { title: 'Request a file inside the directory, or add the index file DirectoryIndex names', difficulty: 'easy', commands: [`ls -la <DocumentRoot>${path}`, 'grep -rn DirectoryIndex /etc/apache2/'], verify: 'The directory holds index.html (or what DirectoryIndex lists).' },
          { title: 'Turn listings on for this directory if they are wanted', difficulty: 'medium', commands: ['Options +Indexes   # inside the <Directory> block, then: apachectl configtest && systemctl reload apache2'], docs: 'https://httpd.apache.org/docs/2.4/mod/core.html#options' },
          errorLogFix,
        ],
      });
    }
    if (!['GET', 'HEAD'].includes(ctx.method)) {
      causes.push({
        id: 'method-not-allowed',
        weight: 0.4,
        summary: `The ${ctx.method} method may be refused by a <LimitExcept>/<Limit> block, which Apache answers with 403 (AH01630) rather than 405.`,
        evidence: [pageEvidence, ev('request:method', ctx.method)],
        fixes: [
          { title: 'Check the directory’s <Limit>/<LimitExcept> blocks and AllowMethods', difficulty: 'easy', commands: ['grep -rn -B2 -A4 -E "<Limit|AllowMethods" /etc/apache2/'], verify: `The ${ctx.method} method is allowed for this path.`, docs: 'https://httpd.apache.org/docs/2.4/mod/core.html#limitexcept' },
          errorLogFix,
        ],
      });
    }
    const htFile = /^\.ht/i.test(lastSegment);
    const hidden = lastSegment.startsWith('.');
    causes.push({
      id: 'path-forbidden',
      weight: htFile ? 0.7 : hidden ? 0.55 : 0.35,
      summary: htFile
        ? `${lastSegment} is refused by Apache’s stock \`<FilesMatch "^\\.ht"> Require all denied\`, which keeps .htaccess and .htpasswd private.`
        : hidden
          ? `A hidden file (${lastSegment}) was requested; configurations commonly deny dot-files for everyone.`
          : 'A `Require all denied` (or a Require that nothing satisfies) in the Apache configuration may refuse this path for everyone (AH01630).',
      evidence: [pageEvidence, ...(hidden ? [ev('request:url', `hidden file ${lastSegment}`)] : [])],
      fixes: [
        { title: 'Find the Require rules that cover this path', difficulty: 'easy', commands: ['apachectl -S', 'grep -rn -B3 -A3 -E "Require|<Directory|<Location|<Files" /etc/apache2/'], verify: 'The <Directory>/<Location> that serves this path grants the request (`Require all granted` or a Require you satisfy).', docs: 'https://httpd.apache.org/docs/2.4/howto/access.html' },
        errorLogFix,
      ],
    });
    causes.push({
      id: 'ip-restricted',
      weight: 0.3,
      summary: 'A `Require ip`/`Require host` rule may exclude your address; Apache’s page and log line (AH01630) are the same as for a plain deny.',
      evidence: [pageEvidence],
      fixes: [
        { title: 'Compare your address with the Require ip/host rules', difficulty: 'medium', commands: ['grep -rn -E "Require (not )?(ip|host)" /etc/apache2/'], verify: 'Your address, as Apache sees it (after any proxy; see mod_remoteip), matches a `Require ip` range.', docs: 'https://httpd.apache.org/docs/2.4/mod/mod_authz_host.html' },
      ],
    });
    causes.push({
      id: 'filesystem-permission',
      weight: 0.25,
      summary: 'The Apache user (www-data on Debian) may be unable to read the file or to enter a directory on its path (AH00132/AH00035).',
      evidence: [pageEvidence],
      fixes: [
        { title: 'Check that the server user can read the file and enter every directory above it', difficulty: 'easy', commands: [`namei -l <DocumentRoot>${path || '/FILE'}`, `sudo -u www-data test -r <DocumentRoot>${path || '/FILE'} && echo readable`], verify: 'Every directory on the path has x for www-data and the file has r.' },
        errorLogFix,
      ],
    });
    return { producer, causes };
  },
});
