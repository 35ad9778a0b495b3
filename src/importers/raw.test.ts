import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { headerValue } from '../model/exchange.ts';
import { fromRaw, looksLikeRaw, parseRaw } from './raw.ts';
import { throwsInputError } from './test-support.ts';

function fixture(name: string): { source: string; input: string } {
  return JSON.parse(readFileSync(new URL(`./fixtures/raw/${name}`, import.meta.url), 'utf8'));
}

const NGINX_403_BODY =
  '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n';

function port(input: string): string {
  return /Host: 127\.0\.0\.1:(\d+)/i.exec(input)![1]!;
}

const rejects = (text: string, pattern: RegExp) =>
  throwsInputError(() => fromRaw(text, 'pasted.txt'), 'pasted.txt', pattern);

test('curl -v over HTTP/1.1, with the progress meter merged in', () => {
  const { input } = fixture('curl-v-http1.json');
  const e = fromRaw(input, 'v.txt');
  assert.equal(e.source.kind, 'raw');
  assert.equal(e.response.status, 403);
  assert.equal(e.response.statusText, 'Forbidden');
  assert.equal(e.response.httpVersion, 'HTTP/1.1');
  assert.equal(headerValue(e.response.headers, 'server'), 'nginx/1.22.1');
  assert.equal(e.response.content.text, NGINX_403_BODY, 'curl info and progress lines are not part of the body');
  assert.equal(e.response.content.size, 153);
  assert.equal(e.request?.method, 'GET');
  assert.equal(e.request?.url, `http://127.0.0.1:${port(input)}/private/a.txt?x=1`);
  assert.equal(headerValue(e.request?.headers, 'authorization'), 'Bearer fake-token-123');
  assert.deepEqual(e.request?.cookies, [{ name: 'sid', value: 'fake-session' }]);
  assert.deepEqual(e.request?.queryString, [{ name: 'x', value: '1' }]);
  assert.equal(e.serverIPAddress, '127.0.0.1');
});

test('curl -v over TLS and HTTP/2: https from the TLS lines, "HTTP/2 403" without a reason', () => {
  const { input } = fixture('curl-v-h2-tls.json');
  const e = fromRaw(input);
  assert.equal(e.response.status, 403);
  assert.equal(e.response.statusText, '');
  assert.equal(e.response.httpVersion, 'HTTP/2');
  assert.match(e.request!.url, /^https:\/\/localhost:\d+\/private\/a\.txt$/);
  assert.equal(e.response.content.text, NGINX_403_BODY);
});

test('without TLS lines the same curl -v text is http', () => {
  const { input } = fixture('curl-v-h2-tls.json');
  const plain = input
    .split('\n')
    .filter(
      (l) => !/^\*\s+(?:ALPN|TLS|SSL|Server certificate|subject|issuer|start date|expire date|h2h3 \[:scheme)/.test(l),
    )
    .join('\n');
  assert.match(fromRaw(plain).request!.url, /^http:\/\/localhost:/);
});

test('curl -v of a POST: the request body is not in the output, and a note says so', () => {
  const e = fromRaw(fixture('curl-v-post.json').input);
  assert.equal(e.request?.method, 'POST');
  assert.equal(e.request?.postData, undefined);
  assert.ok(
    e.notes?.some((n) => /request body/.test(n)),
    JSON.stringify(e.notes),
  );
});

test('curl -v -L: the last exchange is read, the redirect is noted', () => {
  const e = fromRaw(fixture('curl-v-redirect.json').input);
  assert.equal(e.response.status, 403);
  assert.match(e.request!.url, /\/private\/a\.txt$/);
  assert.ok(
    e.notes?.some((n) => /2 responses/.test(n)),
    JSON.stringify(e.notes),
  );
});

test('curl -i: a response alone has no request', () => {
  const e = fromRaw(fixture('curl-i-response.json').input);
  assert.equal(e.request, undefined);
  assert.equal(e.response.status, 403);
  assert.equal(e.response.content.text, NGINX_403_BODY);
  assert.equal(e.response.content.mimeType, 'text/html');
});

test('wire bytes as an intercepting proxy shows them: request with body, then response', () => {
  const { input } = fixture('wire-post-nginx.json');
  const e = fromRaw(input);
  assert.equal(e.request?.method, 'POST');
  assert.equal(e.request?.url, `http://127.0.0.1:${port(input)}/private/form`);
  assert.equal(e.request?.postData?.text, '{"note":"café"}', 'cut at Content-Length (16 bytes, é is two)');
  assert.equal(e.request?.postData?.mimeType, 'application/json');
  assert.equal(e.response.status, 403);
  assert.equal(e.response.content.text, NGINX_403_BODY);
});

test('chunked framing on the wire is decoded', () => {
  const e = fromRaw(fixture('wire-chunked-node.json').input);
  assert.equal(e.response.content.text, '{"error":"forbidden","reason":"missing scope read:items"}');
  assert.equal(e.response.content.mimeType, 'application/json');
  assert.equal(e.request?.postData, undefined);
});

test('LF line endings read the same as CRLF', () => {
  for (const name of ['curl-v-http1.json', 'wire-post-nginx.json', 'curl-i-response.json']) {
    const { input } = fixture(name);
    const crlf = fromRaw(input);
    const lf = fromRaw(input.replace(/\r\n/g, '\n'));
    assert.equal(lf.response.status, crlf.response.status, name);
    assert.deepEqual(lf.response.headers, crlf.response.headers, name);
    assert.deepEqual(lf.request?.headers, crlf.request?.headers, name);
    assert.equal(lf.response.content.text, crlf.response.content.text!.replace(/\r\n/g, '\n'), name);
  }
});

test('HTTP/2 pseudo-headers instead of a request line; :status instead of a status line', () => {
  const e = fromRaw(
    [
      ':method: GET',
      ':authority: api.example.com',
      ':scheme: https',
      ':path: /v1/me',
      'authorization: Bearer x',
      '',
      ':status: 403',
      'content-type: application/json',
      '',
      '{"message":"Forbidden"}',
    ].join('\n'),
  );
  assert.equal(e.request?.url, 'https://api.example.com/v1/me');
  assert.equal(e.request?.method, 'GET');
  assert.deepEqual(e.request?.headers, [{ name: 'authorization', value: 'Bearer x' }]);
  assert.equal(e.response.status, 403);
  assert.equal(e.response.content.text, '{"message":"Forbidden"}');
});

test('an interim 100 Continue is skipped; folded header lines are joined; an absolute target is the URL', () => {
  const e = fromRaw(
    [
      'PUT http://proxy.example/upload HTTP/1.1',
      'Host: proxy.example',
      'X-Long: a',
      '  b',
      '',
      'HTTP/1.1 100 Continue',
      '',
      'HTTP/1.1 403 Forbidden',
      'Server: squid',
      '',
      'denied',
    ].join('\r\n'),
  );
  assert.equal(e.request?.url, 'http://proxy.example/upload');
  assert.equal(headerValue(e.request?.headers, 'x-long'), 'a b');
  assert.equal(e.response.status, 403);
  assert.equal(e.response.content.text, 'denied');
});

test('Host on port 443 means https', () => {
  const e = fromRaw('GET /x HTTP/1.1\nHost: example.com:443\n\nHTTP/1.1 403 Forbidden\n\n');
  assert.equal(e.request?.url, 'https://example.com:443/x');
});

test('a request alone: parseRaw returns it, fromRaw says a response is needed', () => {
  const p = parseRaw('GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n');
  assert.equal(p.request?.url, 'http://example.com/a');
  assert.equal(p.response, undefined);
  rejects('GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n', /expected a response .* found a request only/);
});

test('errors: one line naming the input, the line and what was expected', () => {
  rejects('', /expected raw HTTP text, found an empty input/);
  rejects(
    'hello there\nHTTP/1.1 403 Forbidden',
    /line 1: expected a request line .* or a status line .*found "hello there"/,
  );
  rejects('HTTP/1.1 403 Forbidden\nServer nginx\n\n', /line 2: expected a header "Name: value", found "Server nginx"/);
  rejects('GET /a HTTP/1.1\nAccept: */*\n\nHTTP/1.1 403 Forbidden\n\n', /line 1: expected a Host header/);
});

test('looksLikeRaw tells raw HTTP from other text', () => {
  for (const name of ['curl-v-http1.json', 'curl-v-h2-tls.json', 'curl-i-response.json', 'wire-post-nginx.json']) {
    assert.ok(looksLikeRaw(fixture(name).input), name);
  }
  assert.ok(!looksLikeRaw('curl https://example.com'));
  assert.ok(!looksLikeRaw('{"response":{}}'));
  assert.ok(!looksLikeRaw('GET is a verb'));
});

test('a status below 100 ("000", as curl prints when no response came) is refused, not read as status 0', () => {
  assert.throws(
    () => fromRaw('HTTP/1.1 000 \n'),
    (e: unknown) => e instanceof InputError && /expected a status line/.test(e.message),
  );
  assert.throws(() => fromRaw('HTTP/1.1 099 Odd\n'), InputError);
  assert.equal(fromRaw('HTTP/1.1 100 Continue\n').response.status, 100);
});
