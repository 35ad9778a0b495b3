// lighttpd's error log on lines lighttpd 1.4.69 wrote on 127.0.0.1 here with
// debug.log-request-handling enabled (test/servers/lighttpd.ts), and its
// access log in mod_accesslog's default format, which `combined` reads:
// https://redmine.lighttpd.net/projects/lighttpd/wiki/Mod_accesslog
// (accesslog.format default "%h %V %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import lighttpdError from './lighttpd-error.ts';
import combined from './combined.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

const DENY = '2026-12-05 14:57:18: (mod_access.c.88) url denied as we match access_deny /config.inc';
const OPEN =
  '2026-12-05 14:57:18: (http-header-glue.c.333) file open failed: /tmp/why403-lighttpd-ODtVZt/www/secret.txt: Permission denied';
const STARTED = '2026-12-05 14:57:18: (server.c.1704) server started (lighttpd/1.4.69)';
const DEBUG = '2026-12-05 14:55:48: (response.c.422) Request-URI     : /config.inc';
// mod_accesslog, default format: the second field is the Host the client asked for.
const ACCESS = '127.0.0.1 127.0.0.1:33773 - [05/Dec/2026:14:57:18 +0000] "GET /config.inc HTTP/1.1" 403 341 "-" "node"';

test('lighttpd-error: url.access-deny names the URL path; its causes are what a conditional may test', () => {
  const r = lighttpdError.parse(DENY);
  assert.ok(r?.kind === 'error');
  assert.equal(r.path, '/config.inc');
  assert.equal((r as { client?: string }).client, undefined);
  assert.deepEqual(r.time, new Date(2026, 11, 5, 14, 57, 18));
  assert.equal(r.reason?.code, 'mod_access-deny');
  assert.deepEqual(r.reason?.causes, ['path-forbidden', 'ip-restricted', 'method-not-allowed']);
});

test('lighttpd-error: a file the worker may not open is a filesystem permission', () => {
  const r = lighttpdError.parse(OPEN);
  assert.ok(r?.kind === 'error');
  assert.equal(r.file, '/tmp/why403-lighttpd-ODtVZt/www/secret.txt');
  assert.deepEqual(r.reason?.causes, ['filesystem-permission']);
});

test('lighttpd-error: notices and debug lines are records without a reason', () => {
  for (const line of [STARTED, DEBUG]) {
    const r = lighttpdError.parse(line);
    assert.ok(r?.kind === 'error', line);
    assert.equal(r.reason, undefined);
  }
});

test('combined reads lighttpd’s default access log', () => {
  assert.deepEqual(combined.parse(ACCESS), {
    kind: 'access',
    time: new Date('2026-12-05T14:57:18Z'),
    client: '127.0.0.1',
    method: 'GET',
    path: '/config.inc',
    status: 403,
  });
});

test('lighttpd-error reads no other format’s lines, and no other format reads its', () => {
  const ours = [DENY, OPEN, STARTED, DEBUG];
  const theirs = [
    ACCESS,
    '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
    '127.0.0.1:54962 [05/Dec/2026:14:57:18.312] why403_fe closed/<NOSRV> 0/-1/-1/-1/0 403 192 - - PR-- 1/1/0/0/0 0/0 "GET /closed/reports/q3.pdf HTTP/1.1"',
    '1796482606.851      1 127.0.0.1 TCP_DENIED/403 3495 GET http://127.0.0.1:9/blocked/a.txt? - HIER_NONE/- text/html',
  ];
  for (const line of theirs) assert.equal(lighttpdError.parse(line), undefined, line);
  for (const format of LOG_FORMATS)
    for (const line of ours)
      assert.equal(Boolean(format.parse(line)), format.id === 'lighttpd-error', `${format.id} on ${line}`);
});
