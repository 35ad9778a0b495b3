// lighttpd's error log (server.errorlog), in the server's local time, each
// message after the source file and line that wrote it:
//   2026-12-05 14:57:18: (mod_access.c.88) url denied as we match access_deny /config.inc
// lighttpd 1.4 writes why it refused a request only with
// `debug.log-request-handling = "enable"`: mod_access names the URL path it
// denied (url.access-deny, whatever conditional — a path, the client
// address, the method — put it there), and a file the worker may not open is
// "file open failed: FILE: Permission denied". The lines name no client.
// https://redmine.lighttpd.net/projects/lighttpd/wiki/Server_errorlogDetails
// https://redmine.lighttpd.net/projects/lighttpd/wiki/Docs_ModAccess
// https://redmine.lighttpd.net/projects/lighttpd/wiki/DebugVariables
import type { LogFormat, LogReason } from '../../model/logs.ts';
import { localTime } from '../time.ts';

const LINE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}): \(([\w.-]{1,64})\.(\d{1,6})\) (.*)$/;
const ACCESS_DENY = /^url denied as we match access_deny (\S{1,8192})/;
const OPEN_DENIED = /^file open failed: (\/.{0,4096}): Permission denied$/;

const ACCESS_DENY_REASON: LogReason = {
  // url.access-deny may sit inside a $HTTP["url"], $HTTP["remoteip"] or $HTTP["request-method"] conditional alike.
  causes: ['path-forbidden', 'ip-restricted', 'method-not-allowed'],
  product: 'lighttpd',
  code: 'mod_access-deny',
  words: 'url denied as we match access_deny',
  fix: {
    title: 'Find the url.access-deny that matched, and the conditional around it',
    difficulty: 'easy',
    commands: ["lighttpd -p -f /etc/lighttpd/lighttpd.conf | grep -nE 'access-deny|\\$HTTP\\['"],
    verify: 'No url.access-deny (with its conditional) matches the request’s path, client address or method.',
  },
};
const OPEN_DENIED_REASON: LogReason = {
  causes: ['filesystem-permission'],
  product: 'lighttpd',
  code: 'file-open-permission-denied',
  words: 'file open failed: … Permission denied',
  fix: {
    title: 'Let the server user read the file and enter every directory on its path',
    difficulty: 'easy',
    commands: ['namei -l {{file}}', 'sudo -u www-data head -c1 {{file}} >/dev/null && echo readable'],
    verify: 'The server user (server.username, often www-data) can read the file.',
  },
};

export default {
  id: 'lighttpd-error',
  product: 'lighttpd',
  kind: 'error',
  description: 'lighttpd error log',
  docs: [
    'https://redmine.lighttpd.net/projects/lighttpd/wiki/Server_errorlogDetails',
    'https://redmine.lighttpd.net/projects/lighttpd/wiki/Docs_ModAccess',
    'https://redmine.lighttpd.net/projects/lighttpd/wiki/DebugVariables',
  ],
  parse(line) {
    const m = LINE.exec(line);
    if (!m) return undefined;
    const message = m[9];
    const denied = ACCESS_DENY.exec(message);
    const open = denied ? undefined : OPEN_DENIED.exec(message);
    return {
      kind: 'error',
      time: localTime(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]),
      ...(denied ? { path: denied[1].split('?')[0] } : {}),
      ...(open ? { file: open[1] } : {}),
      message,
      ...(denied ? { reason: ACCESS_DENY_REASON } : open ? { reason: OPEN_DENIED_REASON } : {}),
    };
  },
} satisfies LogFormat;
