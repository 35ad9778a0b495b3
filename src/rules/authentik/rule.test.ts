import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture, type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';

const unit = (name: string, url: string, status: number, body: object, headers: Record<string, string> = {}): Fixture =>
  unitCase(name, {
    request: { method: 'GET', url, headers },
    response: { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
  });

testRule(rule, import.meta.dirname, [
  {
    name: 'the same DRF body from a plain Django REST app is not authentik',
    fixture: unit(
      'drf',
      'https://shop.example.com/api/orders/',
      403,
      { detail: 'You do not have permission to perform this action.' },
      { Authorization: 'Token REDACTED' },
    ),
  },
  {
    name: 'no token on /api/v3/ → credential-missing',
    fixture: unit('missing', 'https://authentik.company/api/v3/core/users/me/', 403, {
      detail: 'Authentication credentials were not provided.',
    }),
    product: 'authentik',
    causes: ['credential-missing'],
  },
]);

test('authentik: the DRF permission denial on /api/v3/ points at RBAC roles', () => {
  const out = runRule(
    rule,
    loadFixture(join(import.meta.dirname, 'fixtures', 'api-permission-denied-user-metrics.json')),
  );
  const c = out?.causes?.find((x) => x.id === 'insufficient-role');
  assert.ok(c?.fixes?.[0].commands?.[0].includes('Directory → Roles'));
  assert.match(c!.fixes![0].verify!, /api\/v3\/core\/users\/7\/metrics\//);
});
