import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

const fixtures = join(import.meta.dirname, 'fixtures');

testRule(rule, import.meta.dirname);

test('aws-api-gateway: Missing Authentication Token is flagged as the 404 look-alike', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'missing-authentication-token.json')));
  assert.ok(out?.notes?.some((n) => /path, stage or method that does not exist/.test(n)));
});

test('aws-api-gateway: with the URL known, the fix lists the stage and the missing route', () => {
  const fx = loadFixture(join(fixtures, 'missing-authentication-token.json'));
  fx.exchange.request = {
    method: 'POST',
    url: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/orders',
    headers: [],
  };
  const out = runRule(rule, fx);
  const c = out?.causes?.find((x) => x.id === 'wrong-endpoint');
  assert.equal(out?.producer?.confidence, 0.95, 'execute-api host plus gateway message');
  assert.ok(
    c?.fixes?.some((f) =>
      f.commands?.some((cmd) => cmd.includes('get-resources --rest-api-id a1b2c3d4e5 --region eu-west-1')),
    ),
  );
  assert.match(c?.summary ?? '', /POST method on \/orders in stage "prod"/);
});

test('aws-api-gateway: the resource-policy denial sets the Invoke gap', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'resource-policy-explicit-deny.json')));
  const c = out?.causes?.find((x) => x.id === 'resource-policy');
  assert.deepEqual(c?.gap, { required: ['execute-api:Invoke on <api-resource-arn>'], held: [] });
});
