// nginx's error log: one line per event, in the server's local time,
//   2026/12/05 14:00:00 [error] 1234#1234: *5 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:8080"
// The message says why a request was refused where the 403 page does not:
// a deny rule ("access forbidden by rule", the same for `deny all`, an
// address rule and a `limit_except`), a directory without an index, a file
// the worker cannot open, a Basic credential missing or refused.
// https://nginx.org/en/docs/ngx_core_module.html#error_log
import type { CauseId } from '../../model/vocabulary.ts';
import type { LogFormat, LogReason } from '../../model/logs.ts';
import type { Fix } from '../../model/report.ts';
import { localTime } from '../time.ts';

const LINE = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$/;

interface Known {
  re: RegExp;
  code: string;
  causes: CauseId[];
  words: string;
  fix: Fix;
}

const htpasswd: Fix = {
  title: 'Check the user and password against the auth_basic_user_file',
  difficulty: 'easy',
  commands: ['nginx -T 2>/dev/null | grep -n auth_basic_user_file', 'htpasswd -v FILE {{user}}'],
  verify: 'htpasswd accepts the password the client sends.',
};

const KNOWN: Known[] = [
  {
    re: /^access forbidden by rule/,
    code: 'access-forbidden-by-rule',
    // The same words for `deny all`, an address rule and a deny inside limit_except.
    causes: ['path-forbidden', 'ip-restricted', 'method-not-allowed'],
    words: 'access forbidden by rule',
    fix: {
      title: 'Find the allow/deny (or limit_except) rule of the location that serves the path',
      difficulty: 'easy',
      commands: ["nginx -T 2>/dev/null | grep -nE 'location|allow|deny|limit_except'"],
      verify: 'No deny covers the location, or the client address is in an allow before it.',
    },
  },
  {
    re: /^directory index of "[^"]*" is forbidden/,
    code: 'directory-index-forbidden',
    causes: ['directory-listing'],
    words: 'directory index of … is forbidden',
    fix: {
      title: 'Give the directory an index file, or turn autoindex on for its location if listing is wanted',
      difficulty: 'easy',
      commands: ['ls -la {{file}}', "nginx -T 2>/dev/null | grep -nE 'location|index|autoindex'"],
      verify: 'The directory has an index file nginx names, or autoindex is on.',
    },
  },
  {
    re: /\(13: Permission denied\)/,
    code: 'permission-denied',
    causes: ['filesystem-permission'],
    words: '(13: Permission denied)',
    fix: {
      title: 'Let the worker user read the file and enter every directory on its path',
      difficulty: 'easy',
      commands: ['namei -l {{file}}', 'sudo -u www-data head -c1 {{file}} >/dev/null && echo readable'],
      verify: 'The worker user (user directive, often www-data) can read the file.',
    },
  },
  {
    re: /^no user\/password was provided for basic authentication/,
    code: 'basic-no-credentials',
    causes: ['credential-missing'],
    words: 'no user/password was provided for basic authentication',
    fix: {
      title: 'Send the Basic credential the location asks for',
      difficulty: 'easy',
      commands: ["curl -u USER -sI 'URL'"],
      verify: 'The request with the credential is answered without the 401.',
    },
  },
  {
    re: /^user "[^"]*": password mismatch/,
    code: 'basic-password-mismatch',
    causes: ['credential-invalid'],
    words: 'user …: password mismatch',
    fix: htpasswd,
  },
  {
    re: /^user "[^"]*" was not found in/,
    code: 'basic-user-not-found',
    causes: ['credential-invalid'],
    words: 'user … was not found in …',
    fix: htpasswd,
  },
  {
    re: /^limiting requests, excess/,
    code: 'limit-req',
    causes: ['rate-limited'],
    words: 'limiting requests, excess …',
    fix: {
      title: 'Read the limit_req zone and burst that refused the requests',
      difficulty: 'medium',
      commands: ["nginx -T 2>/dev/null | grep -nE 'limit_req'"],
      verify: 'The client’s rate is within the zone’s rate plus its burst.',
    },
  },
];

const FIELD = (name: string) => new RegExp(`, ${name}: ("(?:[^"\\\\]|\\\\.){0,8192}"|[^,]{0,1024})`);
const CLIENT = FIELD('client');
const REQUEST = FIELD('request');

function reasonOf(message: string): LogReason | undefined {
  const k = KNOWN.find((x) => x.re.test(message));
  return k && { causes: k.causes, product: 'nginx', code: k.code, words: k.words, fix: k.fix };
}

export default {
  id: 'nginx-error',
  product: 'nginx',
  kind: 'error',
  description: 'nginx error log',
  docs: ['https://nginx.org/en/docs/ngx_core_module.html#error_log'],
  parse(line) {
    const m = LINE.exec(line);
    if (!m) return undefined;
    const message = m[8];
    const client = CLIENT.exec(message)?.[1];
    const request = REQUEST.exec(message)?.[1]?.replace(/^"|"$/g, '');
    const [method, target] = request?.split(' ') ?? [];
    const opened = /(?:open\(\)|directory index of|^) ?"([^"]{1,4096})"/.exec(message)?.[1];
    const user = /^user "([^"]{1,256})"/.exec(message)?.[1];
    const reason = reasonOf(message);
    return {
      kind: 'error',
      time: localTime(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]),
      ...(client ? { client } : {}),
      ...(method && target ? { method, path: target.split('?')[0] } : {}),
      ...(opened ? { file: opened } : {}),
      ...(user ? { principal: user } : {}),
      message,
      ...(reason ? { reason } : {}),
    };
  },
} satisfies LogFormat;
