import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { claimsNothing, claimsOf } from '../_lib/cases.ts';

const claims = claimsOf('gitlab');

const fx = (
  name: string,
  status: number,
  body: string,
  headers: Record<string, string> = { 'PRIVATE-TOKEN': 'glpat-REDACTED' },
  url = 'https://gitlab.example.com/api/v4/projects/1/repository/files/a',
) =>
  unitCase(name, {
    request: { method: 'PUT', url, headers },
    response: { status, headers: { 'Content-Type': 'application/json' }, body },
  });

testRule(rule, import.meta.dirname, [
  claims(
    '"403 Forbidden" with a token → insufficient-role',
    fx('role', 403, '{"message":"403 Forbidden"}'),
    'insufficient-role',
  ),
  claims(
    '401 without any token → credential-missing',
    fx('none', 401, '{"message":"401 Unauthorized"}', {}),
    'credential-missing',
  ),
  claims(
    'protected branch message → resource-policy',
    fx('protected', 403, '{"message":"You are not allowed to push into this branch"}'),
    'resource-policy',
  ),
  claimsNothing(
    'a "401 Unauthorized" body off /api/v4 with no GitLab header names nothing',
    fx('other', 401, '{"message":"401 Unauthorized"}', {}, 'https://example.com/v1/things'),
  ),
]);

test('gitlab: the insufficient_scope scope list is the required side of the gap', () => {
  const out = runRule(
    rule,
    fx(
      'scope',
      403,
      '{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_api"}',
    ),
  );
  const claim = out?.causes?.find((c) => c.id === 'insufficient-scope');
  assert.deepEqual(claim?.gap, { required: ['api or read_api'], held: [] });
  assert.ok(
    claim?.fixes?.some((f) => /personal_access_tokens\/self/.test(f.verify ?? '')),
    'verify step reads the token’s scopes',
  );
});
