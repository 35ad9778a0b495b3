import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { requestCases } from '../_lib/unit-case.ts';
import { claimsNothing, claimsOf } from '../_lib/cases.ts';

const claims = claimsOf('jenkins');

const fx = requestCases({
  method: 'POST',
  url: 'https://ci.example.com/job/app/build',
  headers: { Authorization: 'Basic dTpw' },
});
// What Jenkins answers a logged-in user who lacks Job/Build.
const missingBuild = {
  'X-Jenkins': '2.452',
  'X-You-Are-Authenticated-As': 'alice',
  'X-You-Are-In-Group': 'authenticated, devs',
  'X-Required-Permission': 'hudson.model.Item.Build',
};

testRule(rule, import.meta.dirname, [
  claims(
    'logged-in user missing Job/Build → insufficient-role',
    fx('build', 403, missingBuild, '<html><body>alice is missing the Job/Build permission</body></html>'),
    'insufficient-role',
  ),
  claims(
    '401 with X-Jenkins and a Basic credential → credential-invalid',
    fx('bad', 401, { 'X-Jenkins': '2.452' }),
    'credential-invalid',
  ),
  claimsNothing(
    'a plain Jetty 403 names nothing',
    fx('jetty', 403, { Server: 'Jetty(9.4.z)' }, '<html><body><h2>HTTP ERROR 403 Forbidden</h2></body></html>'),
  ),
]);

test('jenkins: the required permission and the user’s groups form the gap', () => {
  const out = runRule(rule, fx('gap', 403, missingBuild));
  assert.deepEqual(out!.causes![0].gap, {
    required: ['hudson.model.Item.Build'],
    held: ['user alice', 'group authenticated', 'group devs'],
  });
  assert.ok(
    out!.causes![0].fixes!.some((f) => f.commands?.some((c) => c.includes('https://ci.example.com/whoAmI/api/json'))),
  );
});
