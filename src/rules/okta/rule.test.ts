import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture, type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';

const load = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', name));
const unit = (name: string, url: string, status: number, body: object, auth = 'SSWS REDACTED'): Fixture =>
  unitCase(name, {
    request: { method: 'GET', url, headers: { Authorization: auth } },
    response: { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
  });

testRule(rule, import.meta.dirname, [
  {
    name: 'E0000006 with an API token → insufficient-role first',
    fixture: unit('e6', 'https://acme.okta.com/api/v1/groups', 403, {
      errorCode: 'E0000006',
      errorSummary: 'You do not have permission to perform the requested action',
      errorLink: 'E0000006',
      errorId: 'oaeX',
      errorCauses: [],
    }),
    product: 'okta',
    causes: ['insufficient-role', 'insufficient-scope'],
  },
  {
    name: 'a bare errorCode on an unknown host is not enough to name Okta',
    fixture: unit('bare', 'https://api.example.com/x', 403, { errorCode: 'E0000006' }),
  },
]);

test('okta: the challenge’s scope is the gap and the fix grants it on the Okta API Scopes tab', () => {
  const c = runRule(rule, load('insufficient-scope-logs.json'))?.causes?.find((x) => x.id === 'insufficient-scope');
  assert.deepEqual(c?.gap, { required: ['okta.logs.read'], held: [] });
  assert.ok(c?.fixes?.[0].commands?.[0].includes('Okta API Scopes → Grant okta.logs.read'));
});

test('okta: E0000011 on the Authentication API reads as an expired state token', () => {
  const causes = runRule(rule, load('e0000011-expired-state-token.json'))?.causes ?? [];
  const top = [...causes].sort((a, b) => b.weight - a.weight)[0];
  assert.equal(top.id, 'credential-expired');
});
