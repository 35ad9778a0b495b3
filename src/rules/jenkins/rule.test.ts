import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';

const fx = (name: string, status: number, headers: Record<string, string>, body = ''): Fixture =>
  unitCase(name, {
    request: { method: 'POST', url: 'https://ci.example.com/job/app/build', headers: { Authorization: 'Basic dTpw' } },
    response: { status, headers, body },
  });

testRule(rule, import.meta.dirname, [
  {
    name: 'logged-in user missing Job/Build → insufficient-role',
    fixture: fx(
      'build',
      403,
      {
        'X-Jenkins': '2.452',
        'X-You-Are-Authenticated-As': 'alice',
        'X-You-Are-In-Group': 'authenticated, devs',
        'X-Required-Permission': 'hudson.model.Item.Build',
      },
      '<html><body>alice is missing the Job/Build permission</body></html>',
    ),
    product: 'jenkins',
    causes: ['insufficient-role'],
  },
  {
    name: '401 with X-Jenkins and a Basic credential → credential-invalid',
    fixture: fx('bad', 401, { 'X-Jenkins': '2.452' }),
    product: 'jenkins',
    causes: ['credential-invalid'],
  },
  {
    name: 'a plain Jetty 403 names nothing',
    fixture: fx(
      'jetty',
      403,
      { Server: 'Jetty(9.4.z)' },
      '<html><body><h2>HTTP ERROR 403 Forbidden</h2></body></html>',
    ),
  },
]);

test('jenkins: the required permission and the user’s groups form the gap', () => {
  const out = runRule(
    rule,
    fx('gap', 403, {
      'X-Jenkins': '2.452',
      'X-You-Are-Authenticated-As': 'alice',
      'X-You-Are-In-Group': 'authenticated, devs',
      'X-Required-Permission': 'hudson.model.Item.Build',
    }),
  );
  assert.deepEqual(out!.causes![0].gap, {
    required: ['hudson.model.Item.Build'],
    held: ['user alice', 'group authenticated', 'group devs'],
  });
  assert.ok(
    out!.causes![0].fixes!.some((f) => f.commands?.some((c) => c.includes('https://ci.example.com/whoAmI/api/json'))),
  );
});
