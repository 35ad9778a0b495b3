// The Common and Combined Log Formats: nginx's default access log
// (`combined`), Apache's `common` and `combined` LogFormats, lighttpd's
// default accesslog.format, and most servers that copy them:
//   127.0.0.1 - alice [05/Dec/2026:14:00:00 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "curl/7.88.1"
// https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format
// https://httpd.apache.org/docs/2.4/logs.html#common
import type { AccessRecord, LogFormat } from '../../model/logs.ts';
import { clfTime } from '../time.ts';

// The same line as a regular expression, for the lines the scanner below
// does not take (it reads the usual shape in one pass, without backtracking).
// Quoted fields allow \" inside; the two alternatives cannot both match a character.
const LINE = /^(\S+) \S+ (\S+) \[([^\]]{10,40})\] "((?:[^"\\]|\\.){0,8192})" (\d{3}) \S+/;

const SPACE = 32;
const QUOTE = 34;
const BACKSLASH = 92;
const isDigit = (c: number) => c >= 48 && c <= 57;

function record(client: string, user: string, time: string, request: string, status: number): AccessRecord {
  const sp = request.indexOf(' ');
  const method = sp > 0 ? request.slice(0, sp) : '';
  const rest = sp > 0 ? request.slice(sp + 1) : '';
  const end = rest.indexOf(' ');
  const target = end === -1 ? rest : rest.slice(0, end);
  const q = target.indexOf('?');
  const r: AccessRecord = { kind: 'access', time: clfTime(time), client, status };
  if (user !== '-') r.principal = user;
  if (method && target) {
    r.method = method;
    r.path = q === -1 ? target : target.slice(0, q);
  }
  return r;
}

/** The usual shape, scanned: `client ident user [time] "request" status bytes…`; undefined when it is not that. */
function scan(line: string): AccessRecord | undefined {
  const a = line.indexOf(' ');
  const b = a > 0 ? line.indexOf(' ', a + 1) : -1;
  const c = b > a + 1 ? line.indexOf(' ', b + 1) : -1;
  if (c <= b + 1 || line.charCodeAt(c + 1) !== 91 /* [ */) return undefined;
  const close = line.indexOf(']', c + 2);
  const timeLength = close - c - 2;
  if (timeLength < 10 || timeLength > 40 || line.charCodeAt(close + 1) !== SPACE) return undefined;
  if (line.charCodeAt(close + 2) !== QUOTE) return undefined;
  let end = close + 3;
  for (;;) {
    end = line.indexOf('"', end);
    if (end === -1) return undefined;
    let slashes = 0;
    while (line.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) break;
    end++;
  }
  if (end - close - 3 > 8192 || line.charCodeAt(end + 1) !== SPACE) return undefined;
  const s0 = line.charCodeAt(end + 2);
  const s1 = line.charCodeAt(end + 3);
  const s2 = line.charCodeAt(end + 4);
  if (!isDigit(s0) || !isDigit(s1) || !isDigit(s2) || line.charCodeAt(end + 5) !== SPACE) return undefined;
  const after = line.charCodeAt(end + 6);
  if (Number.isNaN(after) || after === SPACE) return undefined;
  return record(
    line.slice(0, a),
    line.slice(b + 1, c),
    line.slice(c + 2, close),
    line.slice(close + 3, end),
    (s0 - 48) * 100 + (s1 - 48) * 10 + (s2 - 48),
  );
}

export default {
  id: 'combined',
  product: 'nginx, Apache httpd, lighttpd',
  kind: 'access',
  description: 'Common or Combined Log Format access log',
  docs: [
    'https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format',
    'https://httpd.apache.org/docs/2.4/logs.html#common',
  ],
  parse(line) {
    const fast = scan(line);
    if (fast) return fast;
    const m = LINE.exec(line);
    if (!m) return undefined;
    const [, client, user, time, request, status] = m;
    return record(client, user, time, request, Number(status));
  },
} satisfies LogFormat;
