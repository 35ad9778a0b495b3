// lighttpd answers every 403 it makes itself with the same XHTML page:
// url.access-deny (global, or inside a $HTTP["url"] or $HTTP["remoteip"]
// condition), a file its worker cannot open, a directory without an index
// file. By default it logs nothing for any of them; with
// debug.log-request-handling it logs "url denied as we match access_deny" for
// a path rule and an address rule alike, and "file open failed: … Permission
// denied" for file permissions. So the response narrows it down only by the
// request's shape, and the configuration and the filesystem tell the rest.
import { defineProducer, ev, signals, type Fix } from '../define.ts';
import { namedServer } from '../_lib/server-header.ts';

const SERVER = /^lighttpd(\/[\d.]+)?/i;
// lighttpd's built-in status page (http_response_body in its source): an XML
// declaration in iso-8859-1, XHTML 1.0 Transitional, a one-space-indented head.
const PAGE =
  /^<\?xml version="1\.0" encoding="iso-8859-1"\?>\s*<!DOCTYPE html PUBLIC "-\/\/W3C\/\/DTD XHTML 1\.0 Transitional\/\/EN"\s+"http:\/\/www\.w3\.org\/TR\/xhtml1\/DTD\/xhtml1-transitional\.dtd">\s*<html xmlns="http:\/\/www\.w3\.org\/1999\/xhtml" xml:lang="en" lang="en">\n <head>\n  <title>(\d{3} [^<]*)<\/title>/;
/** Debian's stock /etc/lighttpd/lighttpd.conf: `url.access-deny = ( "~", ".inc" )`. */
const STOCK_DENIED_SUFFIXES = ['~', '.inc'];

const CONF = '/etc/lighttpd/lighttpd.conf';
const ERROR_LOG = '/var/log/lighttpd/error.log';

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const pageEvidence = ev(
  'body',
  'lighttpd’s generic 403 page: the same for access-deny rules, address conditions, unreadable files and missing index files',
);

const debugLogFix: Fix = {
  title: 'Turn on request-handling debug, repeat the request once, and read the error log',
  difficulty: 'medium',
  commands: [
    `echo 'debug.log-request-handling = "enable"' >> ${CONF}  # remove it afterwards`,
    `lighttpd -tt -f ${CONF} && systemctl reload lighttpd`,
    `tail -n 30 ${ERROR_LOG}`,
  ],
  verify:
    '"url denied as we match access_deny" = a url.access-deny rule (by path or inside a $HTTP["remoteip"] condition); "file open failed: … Permission denied" = file permissions; nothing after "handling the request as Indexfile" = no index file.',
  docs: 'https://redmine.lighttpd.net/projects/lighttpd/wiki/DebugVariables',
};

const accessDenyFix: Fix = {
  title: 'Find the url.access-deny rule, and the condition around it, that covers this path',
  difficulty: 'easy',
  commands: ['grep -rn -B3 access-deny /etc/lighttpd/', `lighttpd -p -f ${CONF} | grep -n -B5 access-deny`],
  verify:
    'No access-deny applies to this path: no listed suffix matches its end, and no $HTTP["url"] condition around a `url.access-deny = ( "" )` matches it.',
  docs: 'https://redmine.lighttpd.net/projects/lighttpd/wiki/Docs_ModAccess',
};

const directoryFixes = (path: string): Fix[] => [
  {
    title: 'Request a file inside the directory, or add an index file',
    difficulty: 'easy',
    commands: [`ls -la <document-root>${path}`, `grep -n index-file.names ${CONF}`],
    verify: 'The directory holds one of the names in index-file.names.',
  },
  {
    title: 'Turn on listings for this directory if they are wanted',
    difficulty: 'medium',
    commands: [
      `lighty-enable-mod dir-listing  # or: $HTTP["url"] =~ "^${path}" { dir-listing.activate = "enable" }`,
      `lighttpd -tt -f ${CONF} && systemctl reload lighttpd`,
    ],
    docs: 'https://redmine.lighttpd.net/projects/lighttpd/wiki/Docs_ModDirlisting',
  },
  debugLogFix,
];

const addressFix: Fix = {
  title: 'Compare your address with the remoteip conditions',
  difficulty: 'medium',
  commands: ['curl -s https://ifconfig.me  # your public address, then:', 'grep -rn -A3 remoteip /etc/lighttpd/'],
  verify:
    'Your address (as lighttpd sees it, after any proxy and mod_extforward) is not matched by a condition that sets url.access-deny.',
};

const permissionFix = (file: string): Fix => ({
  title: 'Check that the worker user can read the file and enter every directory above it',
  difficulty: 'easy',
  commands: [`namei -l <document-root>${file}`, `sudo -u www-data test -r <document-root>${file} && echo readable`],
  verify: 'Every directory on the path has x for www-data and the file has r.',
});

export default defineProducer({
  meta: {
    id: 'lighttpd',
    product: 'lighttpd',
    layer: 'web-server',
    description:
      'lighttpd built-in 403 page: url.access-deny rules (by path or by client address), files its worker cannot read, directories without an index.',
    docs: [
      'https://redmine.lighttpd.net/projects/lighttpd/wiki/Docs_ModAccess',
      'https://redmine.lighttpd.net/projects/lighttpd/wiki/Docs_Configuration',
      'https://redmine.lighttpd.net/projects/lighttpd/wiki/Docs_ModDirlisting',
      'https://redmine.lighttpd.net/projects/lighttpd/wiki/DebugVariables',
    ],
    causes: ['path-forbidden', 'ip-restricted', 'filesystem-permission', 'directory-listing'],
    statuses: [403],
    messages: {
      directory:
        'A directory was requested: lighttpd answers 403 when it holds none of index-file.names and directory listings are off (the default).',
      stockSuffix:
        'The file name ends with "{{suffix}}", which Debian’s stock lighttpd.conf refuses everywhere: `url.access-deny = ( "~", ".inc" )` (editor backups and include files).',
      accessDeny:
        'A url.access-deny rule may refuse this path for everyone: a listed suffix, or `url.access-deny = ( "" )` inside a $HTTP["url"] condition.',
      remoteIp:
        'A $HTTP["remoteip"] condition around `url.access-deny = ( "" )` may exclude your address; lighttpd’s page and even its debug log line are the same as for a path rule.',
      unreadable:
        'The lighttpd worker (server.username, www-data on Debian) may be unable to read the file or to enter a directory on its path.',
    },
  },
  recognise(ctx) {
    const server = namedServer(ctx, SERVER);
    const page = PAGE.exec(ctx.body.text.trimStart())?.[1];
    const found = signals();
    if (server) found.add(0.45, server.evidence);
    // The page proves lighttpd made the answer; a Server header alone may sit
    // on an application's response that lighttpd only passed through.
    if (page) found.add(server ? 0.9 : 0.6, ev('body', `lighttpd’s built-in XHTML status page ("${page}")`));
    return found.result({ ownPage: Boolean(page) });
  },
  explain(ctx, { ownPage }, report) {
    if (!ownPage) return;
    const path = ctx.url?.pathname ?? '';
    const lastSegment = safeDecode(path.split('/').pop() ?? '');
    const suffix = STOCK_DENIED_SUFFIXES.find((s) => lastSegment.endsWith(s));

    if (path.endsWith('/'))
      report.claim('directory-listing', 'directory', 0.55, {
        evidence: [pageEvidence, ev('request:url', `path ends with "/" (${path})`)],
        fixes: directoryFixes(path),
      });
    report.claim('path-forbidden', suffix ? 'stockSuffix' : 'accessDeny', suffix ? 0.6 : 0.35, {
      data: { suffix },
      evidence: [pageEvidence, ...(suffix ? [ev('request:url', `file name ends with "${suffix}"`)] : [])],
      fixes: [accessDenyFix, debugLogFix],
    });
    report.claim('ip-restricted', 'remoteIp', 0.3, { evidence: [pageEvidence], fixes: [addressFix] });
    report.claim('filesystem-permission', 'unreadable', 0.25, {
      evidence: [pageEvidence],
      fixes: [permissionFix(path || '/FILE'), debugLogFix],
    });
  },
});
