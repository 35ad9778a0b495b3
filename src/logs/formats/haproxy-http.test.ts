// HAProxy's HTTP log format on the configuration manual's example (section
// 8.2.3, with a syslog daemon's prefix) and on lines HAProxy 2.6.12 wrote on
// 127.0.0.1 here with `log stdout format raw` (test/e2e/logs-proxies.test.ts
// reads a whole log of them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import haproxyHttp from './haproxy-http.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

// https://docs.haproxy.org/2.6/configuration.html#8.2.3 (the example, its continuation lines joined)
const DOCUMENTED =
  'Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"';
// HAProxy 2.6.12, `http-request deny` in a backend (test/servers/haproxy.ts).
const DENIED =
  '127.0.0.1:54962 [05/Dec/2026:14:57:18.312] why403_fe closed/<NOSRV> 0/-1/-1/-1/0 403 192 - - PR-- 1/1/0/0/0 0/0 "GET /closed/reports/q3.pdf HTTP/1.1"';
// HAProxy 2.6.12, `http-request auth` asking for a credential.
const AUTH =
  '127.0.0.1:54968 [05/Dec/2026:14:57:18.333] why403_fe why403_fe/<NOSRV> 0/-1/-1/-1/0 401 262 - - LR-- 2/2/0/0/0 0/0 "GET /members/report.txt HTTP/1.1"';
// HAProxy 2.6.12, a connection that sent no request (a port check).
const BADREQ =
  '127.0.0.1:54952 [05/Dec/2026:14:57:18.208] why403_fe why403_fe/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>"';

test('haproxy-http: the manual’s example, syslog prefix and captured headers included', () => {
  assert.deepEqual(haproxyHttp.parse(DOCUMENTED), {
    kind: 'access',
    time: new Date(2009, 1, 6, 12, 14, 14, 655),
    client: '10.0.1.2',
    method: 'GET',
    path: '/index.html',
    status: 200,
  });
});

test('haproxy-http: a deny rule’s 403 (PR--) carries its reason; the query is cut', () => {
  const r = haproxyHttp.parse(DENIED);
  assert.ok(r?.kind === 'access');
  assert.equal(r.status, 403);
  assert.equal(r.client, '127.0.0.1');
  assert.equal(r.path, '/closed/reports/q3.pdf');
  assert.deepEqual(r.time, new Date(2026, 11, 5, 14, 57, 18, 312));
  assert.equal(r.reason?.code, 'PR');
  assert.deepEqual(r.reason?.causes, ['path-forbidden', 'ip-restricted', 'method-not-allowed']);
  const q = haproxyHttp.parse(DENIED.replace('q3.pdf', 'q3.pdf?token=FAKE'));
  assert.equal(q?.kind === 'access' && q.path, '/closed/reports/q3.pdf');
});

test('haproxy-http: LR-- (locally handled) and CR-- say no refusal; <BADREQ> has no request', () => {
  const auth = haproxyHttp.parse(AUTH);
  assert.ok(auth?.kind === 'access');
  assert.equal(auth.status, 401);
  assert.equal(auth.reason, undefined);
  const bad = haproxyHttp.parse(BADREQ);
  assert.ok(bad?.kind === 'access');
  assert.equal(bad.status, 400);
  assert.equal(bad.path, undefined);
  assert.equal(bad.method, undefined);
  // A 403 the server behind HAProxy answered ("----") is not HAProxy's refusal.
  const passed = haproxyHttp.parse(DOCUMENTED.replace(' 200 2750 ', ' 403 2750 '));
  assert.ok(passed?.kind === 'access');
  assert.equal(passed.reason, undefined);
});

test('haproxy-http reads no other format’s lines, and no other format reads its', () => {
  const ours = [DOCUMENTED, DENIED, AUTH, BADREQ];
  const theirs = [
    '127.0.0.1 - - [05/Dec/2026:14:47:55 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "node"',
    '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
    '1796482606.851      1 127.0.0.1 TCP_DENIED/403 3495 GET http://127.0.0.1:9/blocked/a.txt? - HIER_NONE/- text/html',
    '2026-12-05 14:57:18: (mod_access.c.88) url denied as we match access_deny /config.inc',
  ];
  for (const line of theirs) assert.equal(haproxyHttp.parse(line), undefined, line);
  for (const format of LOG_FORMATS)
    for (const line of ours)
      assert.equal(Boolean(format.parse(line)), format.id === 'haproxy-http', `${format.id} on ${line}`);
});
