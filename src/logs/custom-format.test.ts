import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customFormat } from './custom-format.ts';
import combined from './formats/combined.ts';
import { UsageError } from '../errors.ts';

// nginx's own definition of `combined`
// (https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format), given
// as a --log-format, reads a combined line as the combined format does.
test('nginx’s definition of combined, as a --log-format, reads what the combined format reads', () => {
  const spec =
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
  const own = customFormat(spec);
  // https://httpd.apache.org/docs/2.4/logs.html#combined
  const line =
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"';
  assert.deepEqual(own.parse(line), combined.parse(line));
  assert.equal(own.parse('something else'), undefined);
});

test('--log-format: methods and URIs as their own variables, ISO and msec times, X-Forwarded-For', () => {
  const own = customFormat('$msec $http_x_forwarded_for $request_method $request_uri $status');
  assert.deepEqual(
    own.parse('1733407200.123 203.0.113.7, 10.0.0.1 GET /a/b?c=d 403'),
    undefined,
    'a list of addresses has spaces',
  );
  const iso = customFormat('$time_iso8601 $remote_addr $request_method $request_uri $status');
  assert.deepEqual(iso.parse('2026-12-05T14:00:00+00:00 10.0.0.1 GET /a/b?c=d 403'), {
    kind: 'access',
    status: 403,
    time: new Date('2026-12-05T14:00:00Z'),
    client: '10.0.0.1',
    method: 'GET',
    path: '/a/b',
  });
  const msec = customFormat('$msec "$http_x_forwarded_for" $request_method $uri $status');
  assert.deepEqual(msec.parse('1733407200.123 "203.0.113.7, 10.0.0.1" POST /upload 401')?.client, '203.0.113.7');
});

test('--log-format without $status or a path is a usage error', () => {
  assert.throws(() => customFormat('$remote_addr "$request"'), UsageError);
  assert.throws(() => customFormat('$remote_addr $status'), /\$request, or \$request_uri or \$uri/);
});

// A guard, not a measure: before fields stopped at the next literal's character, this line took
// two seconds at 200 repeats and grew as their cube; at 20,000 it would not end within the timeout.
test(
  '--log-format: where a field ends is decided by one character, so a hostile line cannot backtrack',
  { timeout: 30_000 },
  () => {
    const own = customFormat('$remote_addr-$request_uri-$request_method-$status done');
    const hostile = 'a-'.repeat(20_000) + 'x';
    assert.equal(own.parse(hostile), undefined);
    assert.equal(own.parse('10.0.0.1-/a-GET-403 done')?.path, '/a');
    assert.throws(() => customFormat('$remote_addr$request $status'), /nothing between them/);
  },
);
