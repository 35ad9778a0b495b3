import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, loadFixture, type Fixture } from '../_lib/fixtures.ts';

const load = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', name));
const unit = (
  name: string,
  url: string,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(
    {
      request: { method: 'GET', url, headers: { Authorization: 'Bearer sk_test_REDACTED' } },
      response: { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) },
    },
    name,
  ),
});

testRule(rule, import.meta.dirname, [
  {
    name: '"Invalid API Key provided" → credential-invalid',
    fixture: unit(
      'invalid',
      'https://api.stripe.com/v1/charges',
      401,
      { error: { message: 'Invalid API Key provided: sk_test_****1234', type: 'invalid_request_error' } },
      { 'Request-Id': 'req_abc' },
    ),
    product: 'stripe',
    causes: ['credential-invalid'],
  },
  {
    name: 'an {"error":{"message","type"}} body elsewhere is not taken for Stripe',
    fixture: unit('other', 'https://api.example.com/v1/x', 403, {
      error: { message: 'Forbidden', type: 'invalid_request_error' },
    }),
  },
]);

test('stripe: the rak_* permission Stripe names is the gap', () => {
  const c = runRule(rule, load('restricted-key-missing-permission.json'))?.causes?.find(
    (x) => x.id === 'insufficient-scope',
  );
  assert.deepEqual(c?.gap, { required: ['rak_subscription_read'], held: ['restricted key rk_test_Cb3gph without it'] });
  assert.match(c!.fixes![0].title, /subscription → Read/);
  assert.ok(c?.fixes?.[0].commands?.[0].includes('Developers → API keys'));
});
