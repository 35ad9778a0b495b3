import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { headerValue } from '../model/exchange.ts';
import { fromJson, fromJsonAll, parseJson } from './json.ts';
import { chromium, throwsInputError } from './test-support.ts';

const harEntry = JSON.parse(chromium.harText).log.entries[0];
const shorthand = JSON.parse(
  readFileSync(new URL('./fixtures/json/nginx-deny-shorthand.json', import.meta.url), 'utf8'),
);
const nginxFixture = JSON.stringify(shorthand.input);

const rejects = (input: string | unknown, pattern: RegExp) =>
  throwsInputError(() => fromJson(input, 'x.json'), 'x.json', pattern);

test('{request, response} with headers as objects and "body" shorthand', () => {
  const raw = JSON.parse(nginxFixture);
  assert.ok(
    !Array.isArray(raw.request.headers) && typeof raw.response.body === 'string',
    'the fixture uses the shorthand forms',
  );
  const e = fromJson(nginxFixture, 'deny.json');
  assert.deepEqual(e.source, { kind: 'json', name: 'deny.json' });
  assert.equal(e.request?.method, raw.request.method);
  assert.equal(e.request?.url, raw.request.url);
  for (const [name, value] of Object.entries(raw.request.headers))
    assert.equal(headerValue(e.request?.headers, name), value, name);
  assert.equal(e.response.status, raw.response.status);
  assert.equal(e.response.statusText, raw.response.statusText);
  for (const [name, value] of Object.entries(raw.response.headers))
    assert.equal(headerValue(e.response.headers, name), value, name);
  assert.equal(e.response.content.mimeType, raw.response.headers['Content-Type']);
  assert.equal(e.response.content.text, raw.response.body);
  assert.equal(e.response.content.size, Buffer.byteLength(raw.response.body));
});

test("a single HAR entry, as Chromium's HAR writer produced it", () => {
  const e = fromJson(harEntry, 'entry');
  assert.equal(e.request?.method, 'POST');
  assert.equal(e.request?.postData?.text, chromium.received.body);
  assert.equal(headerValue(e.request?.headers, 'authorization'), 'Bearer fake-token-for-why403-tests');
  assert.deepEqual(
    e.request?.cookies,
    [{ name: 'sid', value: 'fake-session-123' }],
    'HAR cookie extras (path, domain, expires) are dropped',
  );
  assert.equal(e.response.status, 403);
  assert.equal(e.response.content.text, '{"error":"insufficient_scope","required":"items:write"}');
  assert.equal(e.serverIPAddress, '127.0.0.1');
  assert.equal(e.startedDateTime, harEntry.startedDateTime);
  // The same entry as JSON text reads the same.
  assert.deepEqual(fromJson(JSON.stringify(harEntry), 'entry'), e);
});

test('repeated headers as a list value; a JSON body given as a value; cookies and query filled in', () => {
  const e = fromJson({
    request: {
      method: 'POST',
      url: 'https://api.example.com/x?a=1&b=%C3%A9',
      headers: { Cookie: 'a=1; b=2', 'Content-Type': 'application/json' },
      body: { q: 1 },
    },
    response: { status: '403', headers: { 'Set-Cookie': ['x=1', 'y=2'] }, body: { error: 'denied' } },
  });
  assert.deepEqual(e.request?.cookies, [
    { name: 'a', value: '1' },
    { name: 'b', value: '2' },
  ]);
  assert.deepEqual(e.request?.queryString, [
    { name: 'a', value: '1' },
    { name: 'b', value: 'é' },
  ]);
  assert.deepEqual(e.request?.postData, { mimeType: 'application/json', text: '{"q":1}' });
  assert.equal(e.response.status, 403);
  assert.equal(headerValue(e.response.headers, 'set-cookie'), 'x=1\ny=2');
  assert.equal(e.response.content.text, '{"error":"denied"}');
});

test('a response alone; a list of exchanges', () => {
  const alone = fromJson('{"response":{"status":401,"headers":[{"name":"WWW-Authenticate","value":"Bearer"}]}}');
  assert.equal(alone.request, undefined);
  assert.equal(headerValue(alone.response.headers, 'www-authenticate'), 'Bearer');
  const all = fromJsonAll([JSON.parse(nginxFixture), harEntry], 'two.json');
  assert.deepEqual(
    all.map((e) => [e.response.status, e.source.index]),
    [
      [403, 0],
      [403, 1],
    ],
  );
  rejects([JSON.parse(nginxFixture), harEntry], /expected one exchange, found a list of 2/);
});

test('a request alone parses, but is not an exchange', () => {
  const [p] = parseJson('{"request":{"url":"https://example.com/"}}');
  assert.equal(p?.request?.method, 'GET');
  rejects('{"request":{"url":"https://example.com/"}}', /expected a "response" object/);
});

test('errors: one line naming the input, the field and what was expected', () => {
  rejects('{"response": {', /^x\.json: expected JSON, /);
  rejects('{"hello": 1}', /expected a JSON object \{"request": …, "response": …\}, found keys hello/);
  rejects('"text"', /expected a JSON object/);
  rejects(
    '{"response":{"status":"forbidden"}}',
    /response\.status: expected an HTTP status code such as 403, found "forbidden"/,
  );
  rejects('{"response":{}}', /response\.status: .* found nothing/);
  rejects(
    '{"request":{"url":"/relative"},"response":{"status":403}}',
    /request\.url: expected an absolute URL .* found "\/relative"/,
  );
  rejects(
    '{"request":{"url":"https://e.x/","method":"GET /"},"response":{"status":403}}',
    /request\.method: expected an HTTP method/,
  );
  rejects(
    '{"response":{"status":403,"headers":[{"value":"x"}]}}',
    /response\.headers\[0\]: expected \{ "name": …, "value": … \}/,
  );
  rejects('{"response":{"status":403,"headers":"Server: x"}}', /response\.headers: expected a list/);
  rejects(JSON.parse(chromium.harText), /this is a HAR file/);
  rejects('[{"response":{"status":403}}, {"x":1}]', /^x\.json: \[1\] expected a JSON object/);
});

test('response.content keeps only the model fields of the right types', () => {
  const e = fromJson({
    response: {
      status: 401,
      headers: { 'Content-Type': 'text/plain' },
      content: { mimeType: {}, encoding: null, size: 'big', text: { error: 'x' }, extra: 1 },
    },
  });
  assert.deepEqual(e.response.content, { mimeType: 'text/plain', text: '{"error":"x"}' });
  const f = fromJson({
    response: {
      status: 403,
      content: { mimeType: 'text/html', encoding: 'base64', size: 3, text: 'PGI+', truncated: true },
    },
  });
  assert.deepEqual(f.response.content, {
    mimeType: 'text/html',
    encoding: 'base64',
    size: 3,
    text: 'PGI+',
    truncated: true,
  });
});
