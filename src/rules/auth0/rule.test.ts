import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture, type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';

const load = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', name));
const unit = (name: string, url: string, status: number, body: object): Fixture =>
  unitCase(name, {
    request: { method: 'GET', url, headers: {} },
    response: { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
  });

testRule(rule, import.meta.dirname, [
  {
    name: 'a hapi/Boom error from some other host is not taken for Auth0',
    fixture: unit('boom', 'https://api.example.com/things', 403, {
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient permissions',
    }),
  },
  {
    name: 'unauthorized_client "Grant type \'client_credentials\' not allowed for the client." → feature-disabled',
    fixture: unit('grant', 'https://tenant.eu.auth0.com/oauth/token', 403, {
      error: 'unauthorized_client',
      error_description: "Grant type 'client_credentials' not allowed for the client.",
      error_uri: 'https://auth0.com/docs/clients/client-grant-types',
    }),
    product: 'auth0',
    causes: ['feature-disabled'],
  },
]);

test('auth0: the scopes named by "expected any of" become the gap, and the fix names them', () => {
  const fx = unit('scope', 'https://tenant.us.auth0.com/api/v2/users', 403, {
    statusCode: 403,
    error: 'Forbidden',
    message: 'Insufficient scope, expected any of: read:users,read:user_idp_tokens',
    errorCode: 'insufficient_scope',
  });
  const c = runRule(rule, fx)?.causes?.find((x) => x.id === 'insufficient-scope');
  assert.deepEqual(c?.gap, { required: ['read:users', 'read:user_idp_tokens'], held: [] });
  assert.ok(
    c?.fixes?.[0].commands?.some(
      (cmd) => cmd.includes('Machine to Machine Applications') && cmd.includes('read:users'),
    ),
  );
  assert.match(c!.fixes![0].verify!, /why403 token/);
});

test('auth0: the missing client grant names the API audience as the gap', () => {
  const c = runRule(rule, load('client-grant-missing.json'))?.causes?.find((x) => x.id === 'insufficient-scope');
  assert.deepEqual(c?.gap, {
    required: ['client grant for audience https://dev-x3r4mfeuopyc566w.us.auth0.com/api/v2/'],
    held: [],
  });
});
