import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, type Fixture } from '../_lib/fixtures.ts';

const fx = (name: string, raw: Record<string, unknown>): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(raw, name),
});
const boot = (status: number, error: string, extra: object = {}) =>
  JSON.stringify({ timestamp: '2024-05-01T10:00:00.000+00:00', status, error, path: '/api/orders', ...extra });

testRule(rule, import.meta.dirname, [
  {
    name: 'Boot 403 JSON on a POST → csrf first, insufficient-role second',
    fixture: fx('post', {
      request: { method: 'POST', url: 'https://app.example.test/api/orders', headers: {} },
      response: { status: 403, headers: {}, body: boot(403, 'Forbidden') },
    }),
    product: 'spring-security',
    causes: ['csrf', 'insufficient-role'],
  },
  {
    name: 'Boot 403 JSON on a GET → insufficient-role',
    fixture: fx('get', {
      request: { method: 'GET', url: 'https://app.example.test/api/orders', headers: {} },
      response: { status: 403, headers: {}, body: boot(403, 'Forbidden') },
    }),
    product: 'spring-security',
    causes: ['insufficient-role'],
  },
  {
    name: 'JwtTimestampValidator expiry → credential-expired',
    fixture: fx('exp', {
      response: {
        status: 401,
        headers: {
          'WWW-Authenticate':
            'Bearer error="invalid_token", error_description="An error occurred while attempting to decode the Jwt: Jwt expired at 2023-01-01T07:00:00Z", error_uri="https://tools.ietf.org/html/rfc6750#section-3.1"',
        },
        body: '',
      },
    }),
    product: 'spring-security',
    causes: ['credential-expired'],
  },
  {
    name: 'a plain JSON error without Boot’s timestamp is not Spring’s',
    fixture: fx('other', { response: { status: 403, headers: {}, body: '{"status":403,"error":"Forbidden"}' } }),
  },
]);

test('spring-security: the generic Boot error body is only medium confidence', () => {
  const out = runRule(rule, fx('conf', { response: { status: 403, headers: {}, body: boot(403, 'Forbidden') } }));
  assert.ok(out!.producer!.confidence >= 0.5 && out!.producer!.confidence < 0.9);
});
