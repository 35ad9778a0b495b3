// Apache httpd's error log (2.4, and 2.2's shorter form), local time:
//   [Sat Dec 05 14:00:00.123456 2026] [authz_core:error] [pid 123:tid 456] [client 127.0.0.1:54321] AH01630: client denied by server configuration: /var/www/html/private/a.txt
// Each message has a stable AH code; the ones below are the reasons httpd
// gives for a 401 or 403. It names the file, not the URL.
// https://httpd.apache.org/docs/2.4/logs.html#errorlog
// https://httpd.apache.org/docs/2.4/mod/core.html#errorlogformat
import type { CauseId } from '../../model/vocabulary.ts';
import type { LogFormat, LogReason } from '../../model/logs.ts';
import type { Fix } from '../../model/report.ts';
import { localTime, monthOf } from '../time.ts';

const LINE =
  /^\[\w{3} (\w{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? (\d{4})\] \[(?:[\w-]{0,64}:)?\w+\](?: \[pid \d+(?::tid \d+)?\])?(?: \(\d+\)[^:[\]]{0,64}:)?(?: \[client ([^\]]{1,128})\])? (.*)$/;

const denyRule: Fix = {
  title: 'Find the Require (or Deny from) that covers the file, and whether it names addresses',
  difficulty: 'easy',
  commands: ["grep -rnE 'Require|Deny from|Allow from|<(Directory|Location|Files)' /etc/apache2/ 2>/dev/null"],
  verify: 'No Require all denied covers it, or the client address is in a Require ip.',
};
const filePermissions: Fix = {
  title: 'Let the server user read the file and enter every directory on its path',
  difficulty: 'easy',
  commands: ['namei -l {{file}}'],
  verify: 'The server user (often www-data) can read the file and search each directory.',
};
const htpasswd: Fix = {
  title: 'Check the user and password against the AuthUserFile',
  difficulty: 'easy',
  commands: ['grep -rn AuthUserFile /etc/apache2/ 2>/dev/null', 'htpasswd -v FILE {{user}}'],
  verify: 'htpasswd accepts the password the client sends.',
};

const KNOWN: Record<string, { causes: CauseId[]; words: string; fix: Fix }> = {
  // Require all denied, a failed Require ip/host, a Require inside LimitExcept: one message for all.
  AH01630: {
    causes: ['path-forbidden', 'ip-restricted', 'method-not-allowed'],
    words: 'client denied by server configuration',
    fix: denyRule,
  },
  // mod_access_compat's Order/Deny from.
  AH01797: {
    causes: ['path-forbidden', 'ip-restricted', 'method-not-allowed'],
    words: 'client denied by server configuration',
    fix: denyRule,
  },
  AH01276: {
    causes: ['directory-listing'],
    words:
      'Cannot serve directory …: No matching DirectoryIndex … and server-generated directory index forbidden by Options directive',
    fix: {
      title: 'Give the directory an index file, or allow listings (Options +Indexes) if they are wanted',
      difficulty: 'easy',
      commands: ['ls -la {{file}}', "grep -rnE 'DirectoryIndex|Options' /etc/apache2/ 2>/dev/null"],
      verify: 'The directory has a DirectoryIndex file, or Indexes is on.',
    },
  },
  AH00132: { causes: ['filesystem-permission'], words: 'file permissions deny server access', fix: filePermissions },
  AH00035: {
    causes: ['filesystem-permission'],
    words: 'access to … denied because search permissions are missing on a component of the path',
    fix: filePermissions,
  },
  AH00037: {
    causes: ['path-forbidden'],
    words: 'Symbolic link not allowed or link target not accessible',
    fix: {
      title: 'Allow the link (Options FollowSymLinks or SymLinksIfOwnerMatch), or serve the target directly',
      difficulty: 'easy',
      commands: ['ls -la {{file}}', "grep -rn 'FollowSymLinks\\|SymLinksIfOwnerMatch' /etc/apache2/ 2>/dev/null"],
      verify: 'The directory allows the link, and its target is readable.',
    },
  },
  AH01617: {
    causes: ['credential-invalid'],
    words: 'user …: authentication failure for …: Password Mismatch',
    fix: htpasswd,
  },
  AH01618: { causes: ['credential-invalid'], words: 'user … not found', fix: htpasswd },
  AH01614: {
    causes: ['credential-malformed'],
    words: 'client used wrong authentication scheme',
    fix: {
      title: 'Send the scheme the AuthType names (Basic for mod_auth_basic)',
      difficulty: 'easy',
      commands: ["curl -u USER -sI 'URL'"],
      verify: 'The request with a Basic credential is no longer refused for its scheme.',
    },
  },
  AH01631: {
    causes: ['insufficient-role'],
    words: 'user …: authorization failure for …',
    fix: {
      title: 'Find the Require user / Require group the user does not meet',
      difficulty: 'easy',
      commands: ["grep -rnE 'Require (user|group|valid-user)|AuthGroupFile' /etc/apache2/ 2>/dev/null"],
      verify: 'The user is named, or is in a group the Require names.',
    },
  },
};

function reasonOf(message: string): LogReason | undefined {
  const code = /^(AH\d{5}):/.exec(message)?.[1];
  if (code && KNOWN[code]) return { ...KNOWN[code], product: 'apache-httpd', code };
  // httpd 2.2 wrote no codes.
  if (/^client denied by server configuration/.test(message))
    return { ...KNOWN.AH01630, product: 'apache-httpd', code: 'client-denied' };
  return undefined;
}

export default {
  id: 'apache-error',
  product: 'apache-httpd',
  kind: 'error',
  description: 'Apache httpd error log',
  docs: ['https://httpd.apache.org/docs/2.4/logs.html#errorlog'],
  parse(line) {
    const m = LINE.exec(line);
    const month = m ? monthOf(m[1]) : undefined;
    if (!m || month === undefined) return undefined;
    const message = m[9];
    const client = m[8]?.replace(/:\d+$/, '');
    const file =
      /: (\/[^\s,]{0,4096})$/.exec(message)?.[1] ??
      /for "(\/[^"]{0,4096})"/.exec(message)?.[1] ??
      /(?:directory|access to) (\/[^\s:]{1,4096})/.exec(message)?.[1];
    const user = /^AH\d{5}: user ([^\s:]{1,256})/.exec(message)?.[1];
    const reason = reasonOf(message);
    return {
      kind: 'error',
      time: localTime(+m[7], month, +m[2], +m[3], +m[4], +m[5], m[6] ? Math.floor(Number(`0.${m[6]}`) * 1000) : 0),
      ...(client ? { client } : {}),
      ...(file ? { file } : {}),
      ...(user ? { principal: user } : {}),
      message,
      ...(reason ? { reason } : {}),
    };
  },
} satisfies LogFormat;
