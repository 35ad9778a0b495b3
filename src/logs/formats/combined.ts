// The Common and Combined Log Formats: nginx's default access log
// (`combined`), Apache's `common` and `combined` LogFormats, lighttpd's
// default accesslog.format, and most servers that copy them:
//   127.0.0.1 - alice [05/Dec/2026:14:00:00 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "curl/7.88.1"
// https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format
// https://httpd.apache.org/docs/2.4/logs.html#common
import type { LogFormat } from '../../model/logs.ts';
import { clfTime } from '../time.ts';

// Quoted fields allow \" inside; the two alternatives cannot both match a character.
const LINE = /^(\S+) \S+ (\S+) \[([^\]]{10,40})\] "((?:[^"\\]|\\.){0,8192})" (\d{3}) \S+/;

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
    const m = LINE.exec(line);
    if (!m) return undefined;
    const [, client, user, time, request, status] = m;
    const [method, target] = request.split(' ');
    return {
      kind: 'access',
      time: clfTime(time),
      client,
      ...(user !== '-' ? { principal: user } : {}),
      ...(method && target ? { method, path: target.split('?')[0] } : {}),
      status: Number(status),
    };
  },
} satisfies LogFormat;
