import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';

const fx = (
  name: string,
  body: string,
  headers: Record<string, string>,
  method = 'GET',
  url = 'http://127.0.0.1:8200/v1/secret/data/app',
): Fixture =>
  unitCase(name, {
    request: { method, url, headers },
    response: { status: 403, headers: { 'Content-Type': 'application/json' }, body },
  });
const TOKEN = { 'X-Vault-Token': 'hvs.CAESIJ0123456789abcdefghijklmnop' };

testRule(rule, import.meta.dirname, [
  {
    name: 'no token at all → credential-missing',
    fixture: fx('none', '{"errors":["permission denied"]}', {}),
    product: 'vault',
    causes: ['credential-missing'],
  },
  {
    name: '"invalid token" → credential-invalid',
    fixture: fx('invalid', '{"errors":["invalid token"]}', TOKEN),
    product: 'vault',
    causes: ['credential-invalid'],
  },
  {
    name: 'a registry-style errors array of objects names nothing',
    fixture: fx(
      'registry',
      '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
      {},
      'GET',
      'https://registry.example.com/v2/app/manifests/1',
    ),
  },
]);

test('vault: method and path become the capability the policy lacks', () => {
  const out = runRule(
    rule,
    fx('cap', '{"errors":["1 error occurred:\\n\\t* permission denied\\n\\n"]}', TOKEN, 'DELETE'),
  );
  const claim = out!.causes!.find((c) => c.id === 'insufficient-role')!;
  assert.deepEqual(claim.gap, { required: ['delete on secret/data/app'], held: [] });
  assert.equal(
    claim.weight > out!.causes!.find((c) => c.id === 'credential-invalid')!.weight,
    true,
    'a well-shaped token leans to the policy',
  );
  assert.ok(claim.fixes!.some((f) => f.verify?.startsWith('vault token capabilities secret/data/app')));
});
