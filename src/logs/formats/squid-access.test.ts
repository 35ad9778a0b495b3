// Squid's native access.log on lines Squid 5.7 wrote on 127.0.0.1 here as a
// forward proxy (test/servers/squid.ts: an http_access deny on a port, and
// proxy_auth with basic_ncsa_auth on another). The field layout is the
// documented native format, https://wiki.squid-cache.org/Features/LogFormat
// (`logformat squid %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`,
// as /etc/squid/squid.conf's logformat documentation lists it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import squidAccess from './squid-access.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

const POLICY =
  '1796482606.851      1 127.0.0.1 TCP_DENIED/403 3495 GET http://127.0.0.1:9/blocked/a.txt? - HIER_NONE/- text/html';
const NO_CREDENTIAL =
  '1796482606.856      1 127.0.0.1 TCP_DENIED/407 3598 GET http://127.0.0.1:40837/members/a.txt - HIER_NONE/- text/html';
const WRONG_PASSWORD =
  '1796482606.950     93 127.0.0.1 TCP_DENIED/407 3598 GET http://127.0.0.1:40837/members/a.txt alice HIER_NONE/- text/html';
const ALLOWED =
  '1796482606.959      6 127.0.0.1 TCP_MISS/200 231 GET http://127.0.0.1:40837/members/a.txt alice HIER_DIRECT/127.0.0.1 -';
// A connection that sent no request (a port check).
const NO_REQUEST =
  '1796482606.788      0 127.0.0.1 NONE_NONE/000 0 - error:transaction-end-before-headers - HIER_NONE/- -';

test('squid-access: TCP_DENIED/403 is the proxy’s policy; the time is Unix seconds with milliseconds', () => {
  assert.deepEqual(squidAccess.parse(POLICY), {
    kind: 'access',
    time: new Date(1796482606851),
    client: '127.0.0.1',
    method: 'GET',
    path: '/blocked/a.txt',
    status: 403,
    reason: squidAccess.parse(POLICY)?.reason,
  });
  const r = squidAccess.parse(POLICY);
  assert.equal(r?.reason?.code, 'TCP_DENIED/403');
  assert.deepEqual(r?.reason?.causes, ['proxy-interference']);
});

test('squid-access: TCP_DENIED/407 without a user is a missing credential, with one a refused one', () => {
  const none = squidAccess.parse(NO_CREDENTIAL);
  assert.ok(none?.kind === 'access');
  assert.equal(none.status, 407);
  assert.equal(none.principal, undefined);
  assert.deepEqual(none.reason?.causes, ['credential-missing']);
  const wrong = squidAccess.parse(WRONG_PASSWORD);
  assert.ok(wrong?.kind === 'access');
  assert.equal(wrong.principal, 'alice');
  assert.deepEqual(wrong.reason?.causes, ['credential-invalid']);
  const ok = squidAccess.parse(ALLOWED);
  assert.ok(ok?.kind === 'access');
  assert.equal(ok.status, 200);
  assert.equal(ok.reason, undefined);
  assert.equal(ok.principal, 'alice');
});

test('squid-access: a line without a request has no method or path', () => {
  const r = squidAccess.parse(NO_REQUEST);
  assert.ok(r?.kind === 'access');
  assert.equal(r.status, 0);
  assert.equal(r.method, undefined);
  assert.equal(r.path, undefined);
});

test('squid-access reads no other format’s lines, and no other format reads its', () => {
  const ours = [POLICY, NO_CREDENTIAL, WRONG_PASSWORD, ALLOWED, NO_REQUEST];
  const theirs = [
    '127.0.0.1 - - [05/Dec/2026:14:47:55 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "node"',
    '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
    '127.0.0.1:54962 [05/Dec/2026:14:57:18.312] why403_fe closed/<NOSRV> 0/-1/-1/-1/0 403 192 - - PR-- 1/1/0/0/0 0/0 "GET /closed/reports/q3.pdf HTTP/1.1"',
    '2026-12-05 14:57:18: (mod_access.c.88) url denied as we match access_deny /config.inc',
  ];
  for (const line of theirs) assert.equal(squidAccess.parse(line), undefined, line);
  for (const format of LOG_FORMATS)
    for (const line of ours)
      assert.equal(Boolean(format.parse(line)), format.id === 'squid-access', `${format.id} on ${line}`);
});
