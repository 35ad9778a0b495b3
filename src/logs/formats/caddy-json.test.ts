// caddy-json on the example of Caddy's documentation and on lines Caddy 2.6.2
// wrote on 127.0.0.1 here (test/e2e/logs-json.test.ts reads a whole log of
// them): the access logger's lines are requests, its error logger's are not,
// and no header is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import caddyJson, { jsonTime, withoutPort } from './caddy-json.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

// https://caddyserver.com/docs/logging ("an equivalent structured log message from Caddy"),
// on one line as Caddy writes it (the page's pretty-printed copy has a trailing comma after "headers").
const DOCS =
  '{"level":"info","ts":1646861401.5241024,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"41342","client_ip":"127.0.0.1","proto":"HTTP/2.0","method":"GET","host":"localhost","uri":"/","headers":{"User-Agent":["curl/7.82.0"],"Accept":["*/*"],"Accept-Encoding":["gzip, deflate, br"]},"tls":{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"example.com"}},"bytes_read":0,"user_id":"","duration":0.000929675,"size":10900,"status":200,"resp_headers":{"Server":["Caddy"],"Content-Encoding":["gzip"],"Content-Type":["text/html; charset=utf-8"],"Vary":["Accept-Encoding"]}}';

// Caddy 2.6.2 here: `respond /admin/* "Forbidden" 403`, the default time_format.
const REAL_403 =
  '{"level":"error","ts":1796482594.8181598,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"43630","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:18877","uri":"/admin/x?token=1","headers":{"User-Agent":["curl/7.88.1"],"Accept":["*/*"]}},"user_id":"","duration":0.000049274,"size":9,"status":403,"resp_headers":{"Server":["Caddy"],"Content-Type":["text/plain; charset=utf-8"]}}';

// Caddy 2.6.2 here: `format json { time_format iso8601 }`, basicauth passed (user_id) and refused.
const REAL_ISO_200 =
  '{"level":"info","ts":"2026-12-05T14:57:39.047Z","logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"55828","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:18877","uri":"/reports/q3.txt","headers":{"Authorization":[],"User-Agent":["curl/7.88.1"],"Accept":["*/*"]}},"user_id":"alice","duration":1.00598603,"size":2,"status":200,"resp_headers":{"Server":["Caddy"],"Etag":["\\"tpkuvz2\\""],"Content-Type":["text/plain; charset=utf-8"],"Last-Modified":["Sat, 05 Dec 2026 14:57:35 GMT"],"Accept-Ranges":["bytes"],"Content-Length":["2"]}}';
const REAL_ISO_401 =
  '{"level":"error","ts":"2026-12-05T14:57:40.037Z","logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"55830","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:18877","uri":"/reports/q3.txt","headers":{"Authorization":[],"User-Agent":["curl/7.88.1"],"Accept":["*/*"]}},"user_id":"","duration":0.963556233,"size":0,"status":401,"resp_headers":{"Server":["Caddy"],"Www-Authenticate":["Basic realm=\\"restricted\\""]}}';

// Caddy 2.6.2 here, `debug`: the error logger's line about the same 401 (not a second request).
const CADDY_ERROR_LINE =
  '{"level":"debug","ts":1796482660.0374506,"logger":"http.log.error.log0","msg":"not authenticated","request":{"remote_ip":"127.0.0.1","remote_port":"55830","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:18877","uri":"/reports/q3.txt","headers":{"Authorization":[],"User-Agent":["curl/7.88.1"],"Accept":["*/*"]}},"duration":0.963556233,"status":401,"err_id":"cq6afrxk8","err_trace":"caddyauth.Authentication.ServeHTTP (caddyauth.go:88)"}';

test('caddy-json: the documentation’s example (client_ip, float seconds)', () => {
  assert.deepEqual(caddyJson.parse(DOCS), {
    kind: 'access',
    time: new Date(1646861401524.1024),
    client: '127.0.0.1',
    method: 'GET',
    path: '/',
    status: 200,
  });
});

test('caddy-json: Caddy 2.6’s own lines; the query cut, the user kept, no header', () => {
  assert.deepEqual(caddyJson.parse(REAL_403), {
    kind: 'access',
    time: new Date(1796482594818.1598),
    client: '127.0.0.1',
    method: 'GET',
    path: '/admin/x',
    status: 403,
  });
  const ok = caddyJson.parse(REAL_ISO_200);
  assert.ok(ok?.kind === 'access');
  assert.equal(ok.principal, 'alice');
  assert.deepEqual(ok.time, new Date('2026-12-05T14:57:39.047Z'));
  const refused = caddyJson.parse(REAL_ISO_401);
  assert.ok(refused?.kind === 'access');
  assert.equal(refused.status, 401);
  assert.equal(refused.principal, undefined);
  assert.ok(!JSON.stringify(refused).includes('Authorization'));
});

test('caddy-json: the error logger’s lines and other JSON are not requests', () => {
  assert.equal(caddyJson.parse(CADDY_ERROR_LINE), undefined);
  assert.equal(
    caddyJson.parse(
      '{"level":"info","ts":1796482587.659669,"logger":"tls.cache.maintenance","msg":"stopped background certificate maintenance","cache":"0xc0002c0620"}',
    ),
    undefined,
  );
  assert.equal(caddyJson.parse('{"status":403,"request":'), undefined);
  assert.equal(caddyJson.parse('[1,2]'), undefined);
});

test('caddy-json: times in each time_format, addresses with a port', () => {
  // https://caddyserver.com/docs/caddyfile/directives/log (time_format)
  const at = new Date('2026-12-05T14:57:39.047Z');
  assert.deepEqual(jsonTime(at.getTime() / 1000), at); // unix_seconds_float
  assert.deepEqual(jsonTime(at.getTime()), at); // unix_milli_float
  assert.deepEqual(jsonTime(at.getTime() * 1e6), at); // unix_nano
  assert.deepEqual(jsonTime('2026-12-05T14:57:39.047Z'), at); // iso8601, rfc3339
  assert.deepEqual(jsonTime('05/Dec/2026:14:57:39 +0000'), new Date('2026-12-05T14:57:39Z')); // common_log
  assert.deepEqual(jsonTime('2026/12/05 14:57:39'), new Date(2026, 11, 5, 14, 57, 39)); // wall (local)
  assert.equal(jsonTime('yesterday'), undefined);
  assert.equal(withoutPort('127.0.0.1:41342'), '127.0.0.1');
  assert.equal(withoutPort('[::1]:41342'), '::1');
  assert.equal(withoutPort('::1'), '::1');
});

test('caddy-json reads no other format’s lines, and no other format reads Caddy’s', () => {
  const others = [
    '127.0.0.1 - - [05/Dec/2026:14:47:55 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "node"',
    '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
    '{"time_iso8601":"2026-12-05T14:57:31+00:00","remote_addr":"127.0.0.1","remote_user":"","request":"GET /private/a.txt?token=FAKE HTTP/1.1","status":"403","body_bytes_sent":"153","http_user_agent":"curl/7.88.1"}',
  ];
  for (const line of others) assert.equal(caddyJson.parse(line), undefined, line);
  for (const format of LOG_FORMATS)
    for (const line of [DOCS, REAL_403, REAL_ISO_200, REAL_ISO_401, CADDY_ERROR_LINE])
      if (format.id !== 'caddy-json') assert.equal(format.parse(line), undefined, `${format.id} on ${line}`);
});
