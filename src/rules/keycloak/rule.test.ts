import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';

const unit = (name: string, method: string, url: string, status: number, body: object): Fixture =>
  unitCase(name, {
    request: { method, url, headers: { Authorization: 'Bearer REDACTED' } },
    response: { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
  });

testRule(rule, import.meta.dirname, [
  {
    name: 'refresh refused with "Session not active" → credential-expired',
    fixture: unit('session', 'POST', 'https://kc.example.com/realms/demo/protocol/openid-connect/token', 400, {
      error: 'invalid_grant',
      error_description: 'Session not active',
    }),
    product: 'keycloak',
    causes: ['credential-expired'],
  },
  {
    name: 'an OAuth error from another server is not taken for Keycloak',
    fixture: unit('other', 'POST', 'https://login.example.com/oauth/token', 401, {
      error: 'invalid_client',
      error_description: 'Client authentication failed',
    }),
  },
]);

test('keycloak: the admin path and method name the realm-management role in the gap and in kcadm.sh', () => {
  const out = runRule(
    rule,
    unit('users', 'GET', 'https://kc.example.com/admin/realms/demo/users?username=bob', 403, {
      error: 'HTTP 403 Forbidden',
    }),
  );
  const c = out?.causes?.find((x) => x.id === 'insufficient-role');
  assert.deepEqual(c?.gap, { required: ['realm-management view-users'], held: [] });
  const cmds = c?.fixes?.flatMap((f) => f.commands ?? []) ?? [];
  assert.ok(
    cmds.includes(
      'kcadm.sh add-roles -r demo --uusername service-account-CLIENT_ID --cclientid realm-management --rolename view-users',
    ),
  );
  assert.match(c!.fixes![0].verify!, /kcadm\.sh get-roles -r demo/);
  const write = runRule(
    rule,
    unit('create', 'POST', 'https://kc.example.com/admin/realms/demo/users', 403, { error: 'unknown_error' }),
  );
  assert.deepEqual(write?.causes?.find((x) => x.id === 'insufficient-role')?.gap?.required, [
    'realm-management manage-users',
  ]);
});
