import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { commandsOf, ownFixtures } from '../_lib/cases.ts';

const run = ownFixtures(rule, import.meta.dirname);

testRule(rule, import.meta.dirname);

test('aws-api-gateway: Missing Authentication Token is flagged as the 404 look-alike', () => {
  const out = run('missing-authentication-token.json');
  assert.ok(out?.notes?.some((n) => /path, stage or method that does not exist/.test(n)));
});

test('aws-api-gateway: with the URL known, the fix lists the stage and the missing route', () => {
  const out = run('missing-authentication-token.json', {
    method: 'POST',
    url: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/orders',
    headers: [],
  });
  const c = out?.causes?.find((x) => x.id === 'wrong-endpoint');
  assert.equal(out?.producer?.confidence, 0.95, 'execute-api host plus gateway message');
  assert.ok(commandsOf(c).some((cmd) => cmd.includes('get-resources --rest-api-id a1b2c3d4e5 --region eu-west-1')));
  assert.match(c?.summary ?? '', /POST method on \/orders in stage "prod"/);
});

test('aws-api-gateway: the resource-policy denial sets the Invoke gap', () => {
  const out = run('resource-policy-explicit-deny.json');
  const c = out?.causes?.find((x) => x.id === 'resource-policy');
  assert.deepEqual(c?.gap, { required: ['execute-api:Invoke on <api-resource-arn>'], held: [] });
});
