// json-access on lines nginx 1.22.1 wrote on 127.0.0.1 here with two
// `log_format … escape=json` of the kinds users write (the nginx
// documentation gives the escape parameter but no JSON example line):
//   log_format flat escape=json '{"time_iso8601":"$time_iso8601","remote_addr":"$remote_addr","remote_user":"$remote_user","request":"$request","status":"$status","body_bytes_sent":"$body_bytes_sent","http_user_agent":"$http_user_agent"}';
//   log_format nested escape=json '{"@timestamp":"$time_iso8601","@source":"$server_addr","@nginx_fields":{"remote_addr":"$remote_addr","remote_user":"$remote_user","status":"$status","uri":"$uri","request_uri":"$request_uri","request_method":"$request_method","http_user_agent":"$http_user_agent"}}';
// https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format
// and on Caddy's lines, which it must leave to caddy-json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import jsonAccess from './json-access.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

// nginx 1.22.1, `flat`: `location /private/ { deny all; }`, the allowed page, a refused Basic credential.
const FLAT_403 =
  '{"time_iso8601":"2026-12-05T14:57:31+00:00","remote_addr":"127.0.0.1","remote_user":"","request":"GET /private/a.txt?token=FAKE HTTP/1.1","status":"403","body_bytes_sent":"153","http_user_agent":"curl/7.88.1"}';
const FLAT_200 =
  '{"time_iso8601":"2026-12-05T14:57:31+00:00","remote_addr":"127.0.0.1","remote_user":"","request":"GET /index.html HTTP/1.1","status":"200","body_bytes_sent":"3","http_user_agent":"curl/7.88.1"}';
const FLAT_401 =
  '{"time_iso8601":"2026-12-05T14:57:31+00:00","remote_addr":"127.0.0.1","remote_user":"alice","request":"GET /admin/ HTTP/1.1","status":"401","body_bytes_sent":"179","http_user_agent":"curl/7.88.1"}';
// nginx 1.22.1, `nested`: the same three requests.
const NESTED_403 =
  '{"@timestamp":"2026-12-05T14:57:31+00:00","@source":"127.0.0.1","@nginx_fields":{"remote_addr":"127.0.0.1","remote_user":"","status":"403","uri":"/private/a.txt","request_uri":"/private/a.txt?token=FAKE","request_method":"GET","http_user_agent":"curl/7.88.1"}}';
const NESTED_401 =
  '{"@timestamp":"2026-12-05T14:57:31+00:00","@source":"127.0.0.1","@nginx_fields":{"remote_addr":"127.0.0.1","remote_user":"alice","status":"401","uri":"/admin/","request_uri":"/admin/","request_method":"GET","http_user_agent":"curl/7.88.1"}}';

// Caddy 2.6.2 here: its access logger's line and its error logger's line about a 401.
const CADDY_ACCESS =
  '{"level":"error","ts":1796482594.8181598,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"43630","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:18877","uri":"/admin/x?token=1","headers":{"User-Agent":["curl/7.88.1"],"Accept":["*/*"]}},"user_id":"","duration":0.000049274,"size":9,"status":403,"resp_headers":{"Server":["Caddy"],"Content-Type":["text/plain; charset=utf-8"]}}';
const CADDY_ERROR =
  '{"level":"debug","ts":1796482660.0374506,"logger":"http.log.error.log0","msg":"not authenticated","request":{"remote_ip":"127.0.0.1","remote_port":"55830","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:18877","uri":"/reports/q3.txt","headers":{"Authorization":[],"User-Agent":["curl/7.88.1"],"Accept":["*/*"]}},"duration":0.963556233,"status":401,"err_id":"cq6afrxk8","err_trace":"caddyauth.Authentication.ServeHTTP (caddyauth.go:88)"}';

const at = new Date('2026-12-05T14:57:31Z');

test('json-access: nginx escape=json with $request; the query cut, an empty $remote_user is no user', () => {
  assert.deepEqual(jsonAccess.parse(FLAT_403), {
    kind: 'access',
    time: at,
    client: '127.0.0.1',
    method: 'GET',
    path: '/private/a.txt',
    status: 403,
  });
  assert.equal(jsonAccess.parse(FLAT_200)?.kind === 'access' && jsonAccess.parse(FLAT_200)?.status, 200);
  const basic = jsonAccess.parse(FLAT_401);
  assert.ok(basic?.kind === 'access');
  assert.equal(basic.principal, 'alice');
  assert.equal(basic.path, '/admin/');
});

test('json-access: fields one object down, method and request_uri apart', () => {
  assert.deepEqual(jsonAccess.parse(NESTED_403), {
    kind: 'access',
    time: at,
    client: '127.0.0.1',
    method: 'GET',
    path: '/private/a.txt',
    status: 403,
  });
  const basic = jsonAccess.parse(NESTED_401);
  assert.ok(basic?.kind === 'access');
  assert.equal(basic.principal, 'alice');
  assert.equal(basic.status, 401);
});

test('json-access: a line needs a status and a method or path; Caddy’s lines are caddy-json’s', () => {
  assert.equal(jsonAccess.parse(CADDY_ACCESS), undefined);
  assert.equal(jsonAccess.parse(CADDY_ERROR), undefined);
  // Caddy's own startup lines: JSON, but no request.
  assert.equal(
    jsonAccess.parse(
      '{"level":"info","ts":1796482587.659669,"logger":"tls.cache.maintenance","msg":"stopped background certificate maintenance","cache":"0xc0002c0620"}',
    ),
    undefined,
  );
  assert.equal(jsonAccess.parse(FLAT_403.replace('"status":"403"', '"status":"-"')), undefined);
  assert.equal(jsonAccess.parse(FLAT_403.slice(0, 40)), undefined);
  assert.equal(jsonAccess.parse(' ' + FLAT_403), undefined);
});

test('json-access reads no other format’s lines, and no other format reads its lines', () => {
  const others = [
    '127.0.0.1 - - [05/Dec/2026:14:47:55 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "node"',
    '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
  ];
  for (const line of others) assert.equal(jsonAccess.parse(line), undefined, line);
  for (const format of LOG_FORMATS)
    for (const line of [FLAT_403, FLAT_200, FLAT_401, NESTED_403, NESTED_401])
      if (format.id !== 'json-access') assert.equal(format.parse(line), undefined, `${format.id} on ${line}`);
});

test('detection keeps caddy-json for a Caddy log and json-access for nginx’s JSON', () => {
  const best = (lines: string[]) => {
    let top: { id: string; n: number } | undefined;
    for (const f of LOG_FORMATS) {
      const n = lines.filter((l) => f.parse(l)).length;
      if (n && (!top || n > top.n)) top = { id: f.id, n };
    }
    return top?.id;
  };
  assert.equal(best([CADDY_ACCESS, CADDY_ACCESS]), 'caddy-json');
  assert.equal(best([FLAT_403, FLAT_200, FLAT_401]), 'json-access');
  assert.equal(best([NESTED_403, NESTED_401]), 'json-access');
});
