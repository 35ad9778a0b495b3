import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { jsonApiCases } from '../_lib/unit-case.ts';
import { claimsNothing, claimsOf, ownFixtures } from '../_lib/cases.ts';

const claims = claimsOf('stripe');

const run = ownFixtures(rule, import.meta.dirname);
const unit = jsonApiCases('GET', { Authorization: 'Bearer sk_test_REDACTED' });

testRule(rule, import.meta.dirname, [
  claims(
    '"Invalid API Key provided" → credential-invalid',
    unit(
      'invalid',
      'https://api.stripe.com/v1/charges',
      401,
      { error: { message: 'Invalid API Key provided: sk_test_****1234', type: 'invalid_request_error' } },
      { 'Request-Id': 'req_abc' },
    ),
    'credential-invalid',
  ),
  // Anthropic's API answers {"type":"error","error":{"type":"authentication_error","message":…}}: a
  // Stripe error type in another API's body is no sign of Stripe.
  claimsNothing(
    'a Stripe error type in another API’s error names nothing',
    unit('types', 'https://api.example.com/v1/messages', 401, {
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid x-api-key' },
    }),
  ),
  claimsNothing(
    'an {"error":{"message","type"}} body elsewhere is not taken for Stripe',
    unit('other', 'https://api.example.com/v1/x', 403, {
      error: { message: 'Forbidden', type: 'invalid_request_error' },
    }),
  ),
]);

test('stripe: the rak_* permission Stripe names is the gap', () => {
  const c = run('restricted-key-missing-permission.json')?.causes?.find((x) => x.id === 'insufficient-scope');
  assert.deepEqual(c?.gap, { required: ['rak_subscription_read'], held: ['restricted key rk_test_Cb3gph without it'] });
  assert.match(c!.fixes![0].title, /subscription → Read/);
  assert.ok(c?.fixes?.[0].commands?.[0].includes('Developers → API keys'));
});

test('stripe: another API’s authentication_error gets no Stripe reading at all', () => {
  const fx = unit('anthropic-like', 'https://api.example.com/v1/messages', 401, {
    type: 'error',
    error: { type: 'authentication_error', message: 'invalid x-api-key' },
  });
  assert.equal(runRule(rule, fx), undefined);
});
