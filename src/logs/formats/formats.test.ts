// Each log format on lines its product really writes: the documented
// examples (URLs beside them) and lines nginx 1.22 and Apache httpd 2.4.71
// wrote on 127.0.0.1 here (test/e2e/logs.test.ts reads whole logs of them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import combined from './combined.ts';
import nginxError from './nginx-error.ts';
import apacheError from './apache-error.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

test('combined: the Apache documentation’s Common and Combined examples', () => {
  // https://httpd.apache.org/docs/2.4/logs.html#common
  const common = combined.parse(
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
  );
  assert.deepEqual(common, {
    kind: 'access',
    time: new Date('2000-10-10T20:55:36Z'),
    client: '127.0.0.1',
    principal: 'frank',
    method: 'GET',
    path: '/apache_pb.gif',
    status: 200,
  });
  // https://httpd.apache.org/docs/2.4/logs.html#combined
  const full = combined.parse(
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
  );
  assert.equal(full?.kind === 'access' && full.status, 200);
});

test('combined: the query is cut from the path (it may hold a credential); a quoted quote is read', () => {
  const r = combined.parse(
    '10.0.0.7 - - [05/Dec/2026:14:00:00 +0000] "GET /a?token=SECRET HTTP/1.1" 403 9 "-" "x \\"y\\""',
  );
  assert.equal(r?.kind === 'access' && r.path, '/a');
  assert.equal(combined.parse('not a log line'), undefined);
});

test('nginx-error: the reasons nginx 1.22 wrote for each refusal', () => {
  const line = (msg: string) =>
    `2026/12/05 14:47:55 [error] 2150#2150: *2 ${msg}, client: 127.0.0.1, server: localhost, request: "GET /x/ HTTP/1.1", host: "127.0.0.1:33305"`;
  const read = (msg: string) => {
    const r = nginxError.parse(line(msg));
    assert.ok(r?.kind === 'error');
    return r;
  };
  const rule = read('access forbidden by rule');
  assert.deepEqual(rule.reason?.causes, ['path-forbidden', 'ip-restricted', 'method-not-allowed']);
  assert.equal(rule.client, '127.0.0.1');
  assert.equal(rule.method, 'GET');
  assert.equal(rule.path, '/x/');
  assert.deepEqual(rule.time, new Date(2026, 11, 5, 14, 47, 55));
  assert.deepEqual(read('directory index of "/srv/www/files/" is forbidden').reason?.causes, ['directory-listing']);
  const file = read('open() "/srv/www/secret.txt" failed (13: Permission denied)');
  assert.deepEqual(file.reason?.causes, ['filesystem-permission']);
  assert.equal(file.file, '/srv/www/secret.txt');
  const user = read('user "alice": password mismatch');
  assert.deepEqual(user.reason?.causes, ['credential-invalid']);
  assert.equal(user.principal, 'alice');
  assert.equal(read('user "bob" was not found in "/etc/nginx/htpasswd"').reason?.code, 'basic-user-not-found');
  // An event that refuses nothing is a record without a reason.
  assert.equal(read('upstream timed out (110: Connection timed out) while reading response header').reason, undefined);
});

test('apache-error: httpd 2.4’s AH codes, with and without an errno before the client', () => {
  const r = apacheError.parse(
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
  );
  assert.ok(r?.kind === 'error');
  assert.equal(r.reason?.code, 'AH01630');
  assert.equal(r.client, '127.0.0.1');
  assert.equal(r.file, '/tmp/www/private/a.txt');
  assert.deepEqual(r.time, new Date(2026, 11, 5, 14, 47, 55, 623));
  const perm = apacheError.parse(
    '[Sat Dec 05 14:47:55.631384 2026] [core:error] [pid 2156:tid 2162] (13)Permission denied: [client 127.0.0.1:46658] AH00132: file permissions deny server access: /tmp/www/secret.txt',
  );
  assert.ok(perm?.kind === 'error');
  assert.deepEqual(perm.reason?.causes, ['filesystem-permission']);
  assert.equal(perm.client, '127.0.0.1');
  const dir = apacheError.parse(
    '[Sat Dec 05 14:47:55.629855 2026] [autoindex:error] [pid 2156:tid 2161] [client 127.0.0.1:46644] AH01276: Cannot serve directory /tmp/www/files/: No matching DirectoryIndex (index.html) found, and server-generated directory index forbidden by Options directive',
  );
  assert.ok(dir?.kind === 'error');
  assert.equal(dir.file, '/tmp/www/files/');
  const pw = apacheError.parse(
    '[Sat Dec 05 14:47:55.636357 2026] [auth_basic:error] [pid 2156:tid 2158] [client 127.0.0.1:46658] AH01617: user alice: authentication failure for "/admin/index.html": Password Mismatch',
  );
  assert.ok(pw?.kind === 'error');
  assert.equal(pw.principal, 'alice');
  assert.equal(pw.file, '/admin/index.html');
});

test('apache-error: the documentation’s httpd 2.2-style line, without codes', () => {
  // https://httpd.apache.org/docs/2.4/logs.html#errorlog
  const r = apacheError.parse(
    '[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test',
  );
  assert.ok(r?.kind === 'error');
  assert.equal(r.reason?.code, 'client-denied');
  assert.equal(r.file, '/export/home/live/ap/htdocs/test');
});

test('no format reads another’s lines', () => {
  const samples = {
    combined: '127.0.0.1 - - [05/Dec/2026:14:47:55 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "node"',
    'nginx-error':
      '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    'apache-error':
      '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
  };
  for (const format of LOG_FORMATS)
    for (const [id, line] of Object.entries(samples))
      assert.equal(Boolean(format.parse(line)), format.id === id, `${format.id} on a ${id} line`);
});

test('why403 logs --help names every format it reads', async () => {
  const { LOGS_HELP } = await import('../../cli/logs.ts');
  for (const format of LOG_FORMATS) assert.match(LOGS_HELP, new RegExp(`^  ${format.id} `, 'm'), format.id);
});
