// Apache httpd 2.4 answers every access refusal with one built-in page — "You
// don't have permission to access this resource." — whether mod_authz_core
// refused (Require all denied, Require ip: both AH01630 in the error log), a
// directory had no index and no Indexes option (AH01276), or the file was
// unreadable to the server's user (AH00132). The response narrows it down only
// by the request's shape; the error log names the reason.
import { defineProducer, ev, signals, type Context, type Fix } from '../define.ts';
import { claimBasicAuth } from '../_lib/basic-auth.ts';
import { BASIC_MESSAGES, sendPasswordFix } from '../_lib/basic-auth.ts';
import { namedServer } from '../_lib/server-header.ts';

const SERVER = /^Apache(\/[\d.]+)?(\s|$)/;
// Current 2.4 wording; older releases named the path ("to access /x\non this server.<br />").
const FORBIDDEN_TEXT =
  /<p>You don't have permission to access (this resource|\S*\s*on this server)\.(<br \/>)?\s*<\/p>/;
const UNAUTHORIZED_TEXT =
  /<p>This server could not verify that you\s+are authorized to access the document\s+requested\./;
const PAGE_SHELL =
  /^<!DOCTYPE HTML PUBLIC "-\/\/(W3C|IETF)\/\/DTD HTML[^>]*>\s*<html><head>\s*<title>\d{3} [^<]+<\/title>\s*<\/head><body>/i;
const ADDRESS = /<address>(Apache[^<]*?) Server at ([^<]+?) Port (\d+)<\/address>/;

const ERROR_LOG =
  'grep -E "AH01630|AH01276|AH00132|AH00035|AH01797|AH01617|AH01618" /var/log/apache2/error.log | tail -n 20';
const errorLogFix: Fix = {
  title: 'Read Apache’s error log for this request: its AH code names the reason',
  difficulty: 'easy',
  commands: [ERROR_LOG],
  verify:
    'AH01630 "client denied by server configuration" = a Require rule; AH01276 = directory without index and without Options Indexes; AH00132/AH00035 = file or directory permissions.',
  docs: 'https://httpd.apache.org/docs/2.4/mod/mod_authz_core.html',
};

const basicFixes = (ctx: Context): Fix[] => [
  sendPasswordFix(ctx, 'this directory expects (AuthType Basic)'),
  {
    title: 'Check the user exists in the AuthUserFile and reset the password',
    difficulty: 'medium',
    commands: ['grep -rn -E "AuthUserFile|AuthName" /etc/apache2/', 'htpasswd /etc/apache2/.htpasswd USER'],
    verify: 'The error log no longer shows AH01617 (wrong password) or AH01618 (unknown user) for this request.',
    docs: 'https://httpd.apache.org/docs/2.4/mod/mod_auth_basic.html',
  },
];

const directoryFixes = (path: string): Fix[] => [
  {
    title: 'Request a file inside the directory, or add the index file DirectoryIndex names',
    difficulty: 'easy',
    commands: [`ls -la <DocumentRoot>${path}`, 'grep -rn DirectoryIndex /etc/apache2/'],
    verify: 'The directory holds index.html (or what DirectoryIndex lists).',
  },
  {
    title: 'Turn listings on for this directory if they are wanted',
    difficulty: 'medium',
    commands: [
      'Options +Indexes   # inside the <Directory> block, then: apachectl configtest && systemctl reload apache2',
    ],
    docs: 'https://httpd.apache.org/docs/2.4/mod/core.html#options',
  },
  errorLogFix,
];

const limitFixes = (method: string): Fix[] => [
  {
    title: 'Check the directory’s <Limit>/<LimitExcept> blocks and AllowMethods',
    difficulty: 'easy',
    commands: ['grep -rn -B2 -A4 -E "<Limit|AllowMethods" /etc/apache2/'],
    verify: `The ${method} method is allowed for this path.`,
    docs: 'https://httpd.apache.org/docs/2.4/mod/core.html#limitexcept',
  },
  errorLogFix,
];

const requireFixes: Fix[] = [
  {
    title: 'Find the Require rules that cover this path',
    difficulty: 'easy',
    commands: ['apachectl -S', 'grep -rn -B3 -A3 -E "Require|<Directory|<Location|<Files" /etc/apache2/'],
    verify:
      'The <Directory>/<Location> that serves this path grants the request (`Require all granted` or a Require you satisfy).',
    docs: 'https://httpd.apache.org/docs/2.4/howto/access.html',
  },
  errorLogFix,
];

const addressFix: Fix = {
  title: 'Compare your address with the Require ip/host rules',
  difficulty: 'medium',
  commands: ['grep -rn -E "Require (not )?(ip|host)" /etc/apache2/'],
  verify: 'Your address, as Apache sees it (after any proxy; see mod_remoteip), matches a `Require ip` range.',
  docs: 'https://httpd.apache.org/docs/2.4/mod/mod_authz_host.html',
};

const permissionFixes = (file: string): Fix[] => [
  {
    title: 'Check that the server user can read the file and enter every directory above it',
    difficulty: 'easy',
    commands: [`namei -l <DocumentRoot>${file}`, `sudo -u www-data test -r <DocumentRoot>${file} && echo readable`],
    verify: 'Every directory on the path has x for www-data and the file has r.',
  },
  errorLogFix,
];

const PAGE_TEXT = {
  forbidden: 'Apache’s built-in 403 page: "You don\'t have permission to access this resource."',
  unauthorized: 'Apache’s built-in 401 page: "This server could not verify that you are authorized…"',
};

function pageOf(ctx: Context): 'forbidden' | 'unauthorized' | undefined {
  const body = ctx.body.text;
  if (!PAGE_SHELL.test(body.trimStart())) return undefined;
  return FORBIDDEN_TEXT.test(body) ? 'forbidden' : UNAUTHORIZED_TEXT.test(body) ? 'unauthorized' : undefined;
}

export default defineProducer({
  meta: {
    id: 'apache-httpd',
    product: 'apache-httpd',
    layer: 'web-server',
    description:
      'Apache httpd 2.4 built-in 401/403 pages: Require rules (all denied, ip), Options -Indexes, unreadable files, LimitExcept, HTTP Basic authentication.',
    docs: [
      'https://httpd.apache.org/docs/2.4/mod/mod_authz_core.html',
      'https://httpd.apache.org/docs/2.4/mod/mod_authz_host.html',
      'https://httpd.apache.org/docs/2.4/mod/core.html#options',
      'https://httpd.apache.org/docs/2.4/mod/core.html#limitexcept',
      'https://httpd.apache.org/docs/2.4/mod/mod_auth_basic.html',
      'https://httpd.apache.org/docs/2.4/howto/access.html',
    ],
    causes: [
      'path-forbidden',
      'ip-restricted',
      'filesystem-permission',
      'directory-listing',
      'method-not-allowed',
      'credential-missing',
      'credential-malformed',
      'credential-invalid',
    ],
    statuses: [401, 403],
    messages: {
      basicRejected:
        'Apache rejected the Basic credentials for realm "{{realm}}": unknown user (AH01618) or wrong password (AH01617).',
      basicWrongScheme:
        'Apache wants HTTP Basic credentials (realm "{{realm}}") but the request sent a {{scheme}} credential, which mod_auth_basic ignores.',
      basicMissing: 'Apache requires HTTP Basic authentication (realm "{{realm}}") and the request sent none.',
      directory:
        'A directory was requested: Apache answers 403 (AH01276) when no DirectoryIndex file exists and Options does not include Indexes.',
      limitExcept:
        'The {{method}} method may be refused by a <LimitExcept>/<Limit> block, which Apache answers with 403 (AH01630) rather than 405.',
      htFile:
        '{{file}} is refused by Apache’s stock `<FilesMatch "^\\.ht"> Require all denied`, which keeps .htaccess and .htpasswd private.',
      hiddenFile: 'A hidden file ({{file}}) was requested; configurations commonly deny dot-files for everyone.',
      requireDenied:
        'A `Require all denied` (or a Require that nothing satisfies) in the Apache configuration may refuse this path for everyone (AH01630).',
      requireIp:
        'A `Require ip`/`Require host` rule may exclude your address; Apache’s page and log line (AH01630) are the same as for a plain deny.',
      unreadable:
        'The Apache user (www-data on Debian) may be unable to read the file or to enter a directory on its path (AH00132/AH00035).',
    },
  },
  recognise(ctx) {
    const page = pageOf(ctx);
    const server = namedServer(ctx, SERVER);
    const address = ADDRESS.exec(ctx.body.text)?.[1];
    // Only Apache's own page proves Apache refused; an application behind it
    // (PHP, a proxied backend) answers with its own body under the same Server header.
    const signed = Boolean(server || address);
    const found = signals();
    if (server) found.add(0.45, server.evidence);
    if (page) found.add(signed ? 0.95 : 0.85, ev('body', PAGE_TEXT[page]));
    if (address) found.evidence.push(ev('body:address', address));
    return found.result({ page });
  },
  explain(ctx, { page, evidence }, report) {
    if (ctx.status === 401 && page === 'unauthorized') {
      claimBasicAuth(ctx, report, BASIC_MESSAGES, { evidence, fixes: basicFixes(ctx) });
      return;
    }
    if (ctx.status !== 403 || page !== 'forbidden') return;

    const path = ctx.url?.pathname ?? '';
    const lastSegment = path.split('/').pop() ?? '';
    const pageEvidence = ev(
      'body',
      'Apache’s 403 page is the same for Require rules, unreadable files and directories without an index',
    );

    if (path.endsWith('/'))
      report.claim('directory-listing', 'directory', 0.55, {
        evidence: [pageEvidence, ev('request:url', `path ends with "/" (${path})`)],
        fixes: directoryFixes(path),
      });
    if (!['GET', 'HEAD'].includes(ctx.method))
      report.claim('method-not-allowed', 'limitExcept', 0.4, {
        data: { method: ctx.method },
        evidence: [pageEvidence, ev('request:method', ctx.method)],
        fixes: limitFixes(ctx.method),
      });
    const htFile = /^\.ht/i.test(lastSegment);
    const hidden = lastSegment.startsWith('.');
    report.claim(
      'path-forbidden',
      htFile ? 'htFile' : hidden ? 'hiddenFile' : 'requireDenied',
      htFile ? 0.7 : hidden ? 0.55 : 0.35,
      {
        data: { file: lastSegment },
        evidence: [pageEvidence, ...(hidden ? [ev('request:url', `hidden file ${lastSegment}`)] : [])],
        fixes: requireFixes,
      },
    );
    report.claim('ip-restricted', 'requireIp', 0.3, { evidence: [pageEvidence], fixes: [addressFix] });
    report.claim('filesystem-permission', 'unreadable', 0.25, {
      evidence: [pageEvidence],
      fixes: permissionFixes(path || '/FILE'),
    });
  },
});
