import { test } from 'node:test';
import assert from 'node:assert/strict';
import defaultRule from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson } from '../_lib/fixtures.ts';
import type { Fixture } from '../_lib/fixtures.ts';

testRule(defaultRule, import.meta.dirname);

// The same WP_Error for a signed-in user comes as 403 (rest_authorization_required_code), and then it is the role, with the capability named.
test('wordpress: a 403 capability error is the role, with the capability as the gap', () => {
  const raw = {
    request: {
      method: 'POST',
      url: 'https://example.com/wp-json/wp/v2/users',
      headers: { Authorization: 'Basic ZmFrZTpmYWtl' },
    },
    response: {
      status: 403,
      headers: { 'Content-Type': 'application/json; charset=UTF-8' },
      body: '{"code":"rest_cannot_create_user","message":"Sorry, you are not allowed to create new users.","data":{"status":403}}',
    },
  };
  const fx: Fixture = {
    file: 'inline',
    source: 'inline',
    label: { product: 'wordpress', layer: 'application', cause: 'insufficient-role' },
    exchange: exchangeFromFixtureJson(raw, 'inline'),
  };
  const out = runRule(defaultRule, fx);
  const top = [...(out?.causes ?? [])].sort((a, b) => b.weight - a.weight)[0];
  assert.equal(top?.id, 'insufficient-role');
  assert.deepEqual(top?.gap?.required, ['create_users']);
  assert.ok(top?.fixes?.[0].verify?.includes('user_can'));
});

test('wordpress: a bare {code,message} without a rest_ code is not claimed', () => {
  const raw = {
    response: { status: 403, headers: {}, body: '{"code":"forbidden","message":"no","data":{"status":403}}' },
  };
  const fx: Fixture = {
    file: 'inline',
    source: 'inline',
    label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
    exchange: exchangeFromFixtureJson(raw, 'inline'),
  };
  assert.equal(runRule(defaultRule, fx), undefined);
});
