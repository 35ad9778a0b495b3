import { test } from 'node:test';
import assert from 'node:assert/strict';
import { htmlMainText, readWords } from './words.ts';
import type { Body } from '../model/rule.ts';

const jsonBody = (json: unknown): Body => ({ text: JSON.stringify(json), contentType: 'application/json', json });
const lines = (w: ReturnType<typeof readWords>) => w.lines.map((l) => `${l.source}=${l.text}`);

test('words: JSON error members at any depth, not the members beside them', () => {
  const w = readWords(
    jsonBody({
      errors: [{ message: 'Not allowed', extensions: { code: 'FORBIDDEN', requestId: 'r-1' }, path: ['order'] }],
      data: null,
      request_id: '0123456789abcdef0123',
      fault: { faultstring: 'Policy says no', detail: { errorcode: 'policies.denied' } },
    }),
    [],
    'application/json',
  );
  assert.deepEqual(lines(w), [
    'body:errors[0].message=Not allowed',
    'body:errors[0].extensions.code=FORBIDDEN',
    'body:fault.faultstring=Policy says no',
    'body:fault.detail.errorcode=policies.denied',
  ]);
});

test('words: a body that is a list of strings, and fields that name grants', () => {
  assert.deepEqual(lines(readWords(jsonBody(['BAD CSRF']), [], 'application/json')), ['body[0]=BAD CSRF']);
  const w = readWords(jsonBody({ error: 'forbidden', required_scopes: ['a', 'b'], missing_permission: 'x' }), [], '');
  assert.deepEqual(
    w.fields.map((f) => [f.path, f.value]),
    [
      ['required_scopes', ['a', 'b']],
      ['missing_permission', ['x']],
    ],
  );
});

test('words: reason headers, scope headers and a reason phrase of the server’s own', () => {
  const w = readWords(
    { text: '', contentType: '' },
    [
      { name: 'X-Denied-Reason', value: 'ip not allowed' },
      { name: 'X-Accepted-OAuth-Scopes', value: 'repo, admin:org' },
      { name: 'X-No-Cors-Reason', value: 'https://example.com/docs/cors.html' },
      { name: 'Server', value: 'nginx' },
    ],
    '',
    'Token Expired',
  );
  assert.deepEqual(lines(w), [
    'status-text=Token Expired',
    'header:x-denied-reason=ip not allowed',
    'header:x-accepted-oauth-scopes=repo, admin:org',
  ]);
  assert.deepEqual(w.fields[0].value, ['repo', 'admin:org']);
  assert.deepEqual(
    lines(readWords({ text: '', contentType: '' }, [], '', 'Forbidden')),
    [],
    'the standard phrase says nothing',
  );
});

test('words: an HTML page’s title, headings and main text without scripts or navigation', () => {
  const html =
    '<html><head><title>Denied</title><style>p{}</style></head><body><nav>Pricing</nav><h2>Locked</h2><p>This page is locked &amp; archived.</p><script>x()</script><footer>© Acme</footer></body></html>';
  assert.equal(htmlMainText(html), 'Locked This page is locked & archived.');
  const w = readWords({ text: html, contentType: 'text/html', htmlTitle: 'Denied' }, [], 'text/html');
  assert.deepEqual(lines(w), [
    'body:title=Denied',
    'body:heading=Locked',
    'body:text=Locked This page is locked & archived.',
  ]);
});

test('words: markup without a Content-Type, a title or an h1 is still read as a page', () => {
  // IIS's detailed error is such a fragment; an XML parser takes it whole, tags and all.
  const fragment =
    '<h3>HTTP Error 401.2 - Unauthorized</h3>\n<h4>You are not authorized to view this page due to invalid authentication headers.</h4>\n</div>';
  const w = readWords({ text: fragment, contentType: '', xml: { h3: 'HTTP Error 401.2 - Unauthorized' } }, [], '');
  assert.deepEqual(lines(w), [
    'body:heading=HTTP Error 401.2 - Unauthorized',
    'body:text=HTTP Error 401.2 - Unauthorized You are not authorized to view this page due to invalid authentication headers.',
  ]);
  // An XML error document whose tags only begin like HTML ones is not a page.
  const xml = { 'Error.Code': 'AccessDenied', 'Error.Message': 'Policy denies the request' };
  assert.deepEqual(
    lines(readWords({ text: '<Error><Code>AccessDenied</Code><Policy/></Error>', contentType: '', xml }, [], '')),
    ['body:Error.Code=AccessDenied', 'body:Error.Message=Policy denies the request'],
  );
});

test('words: plain text, and an XML error document’s message members', () => {
  assert.deepEqual(
    lines(readWords({ text: 'Forbidden: not in the allow list', contentType: 'text/plain' }, [], 'text/plain')),
    ['body=Forbidden: not in the allow list'],
  );
  const xml = {
    'Error.Code': 'AccessDenied',
    'Error.Message': 'Access Denied',
    'Error.RequestId': 'ABCDEF0123456789',
    'Error.BucketName': 'b',
  };
  assert.deepEqual(lines(readWords({ text: '<Error/>', contentType: 'application/xml', xml }, [], 'application/xml')), [
    'body:Error.Code=AccessDenied',
    'body:Error.Message=Access Denied',
  ]);
});

test('words: a hostile body is bounded: depth, members, lines and characters', () => {
  let deep: unknown = 'too deep';
  for (let i = 0; i < 50; i++) deep = { error: deep };
  assert.deepEqual(readWords(jsonBody(deep), [], '').lines, []);
  const many = jsonBody({ errors: Array.from({ length: 5000 }, (_, i) => `message ${i}`) });
  const w = readWords(many, [], '');
  assert.ok(w.lines.length <= 40);
  const long = readWords(jsonBody({ message: 'x'.repeat(100_000) }), [], '');
  assert.ok(long.lines[0].text.length <= 600);
});
