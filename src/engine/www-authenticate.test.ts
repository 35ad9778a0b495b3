import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWwwAuthenticate } from './www-authenticate.ts';

test('RFC 6750 section 3 example: insufficient_scope with quoted params', () => {
  // https://www.rfc-editor.org/rfc/rfc6750#section-3
  const [c] = parseWwwAuthenticate(
    'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
  );
  assert.equal(c.scheme, 'Bearer');
  assert.deepEqual(c.params, {
    realm: 'example',
    error: 'invalid_token',
    error_description: 'The access token expired',
  });
});

test('several challenges in one field, token68 and escaped quotes', () => {
  const cs = parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"');
  assert.equal(cs.length, 2);
  assert.deepEqual(cs[0], { scheme: 'Newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } });
  assert.deepEqual(cs[1], { scheme: 'Basic', params: { realm: 'simple' } });
  const [n] = parseWwwAuthenticate('Negotiate YIIC+gYGKwYBBQUCoIIC7jCCAuqgJDAi==');
  assert.equal(n.token68, 'YIIC+gYGKwYBBQUCoIIC7jCCAuqgJDAi==');
});

test('multiple header fields and a bare scheme', () => {
  const cs = parseWwwAuthenticate(['Bearer', 'Basic realm="x", charset="UTF-8"']);
  assert.deepEqual(
    cs.map((c) => c.scheme),
    ['Bearer', 'Basic'],
  );
  assert.equal(cs[1].params.charset, 'UTF-8');
});
