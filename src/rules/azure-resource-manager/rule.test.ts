import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

const fixtures = join(import.meta.dirname, 'fixtures');

testRule(rule, import.meta.dirname);

test('azure-resource-manager: AuthorizationFailed yields the action-over-scope gap and the assignment commands', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'authorization-failed.json')));
  const c = out?.causes?.[0];
  assert.deepEqual(c?.gap, {
    required: [
      'Microsoft.Resources/subscriptions/resourcegroups/write over /subscriptions/fcfd8558-600b-4e8c-8fc6-61a12221db20/resourcegroups/domingo_dev',
    ],
    held: [],
  });
  const cmds = c?.fixes?.flatMap((f) => f.commands ?? []) ?? [];
  assert.ok(
    cmds.includes(
      "az role assignment list --assignee ebb57515-b4a1-458d-b8cb-28a709d3b551 --scope '/subscriptions/fcfd8558-600b-4e8c-8fc6-61a12221db20/resourcegroups/domingo_dev' --include-inherited --include-groups -o table",
    ),
  );
  assert.ok(
    cmds.some((cmd) =>
      cmd.startsWith('az role assignment create --assignee ebb57515-b4a1-458d-b8cb-28a709d3b551 --role "Contributor"'),
    ),
  );
});

test('azure-resource-manager: the wrong-tenant token names the tenant to sign in to', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'invalid-token-tenant.json')));
  const cmds = out?.causes?.[0]?.fixes?.flatMap((f) => f.commands ?? []) ?? [];
  assert.ok(cmds.includes('az login --tenant a602cbf4-21c3-4761-b54e-acf397842b82'));
});

test('azure-resource-manager: the policy denial points at its assignment', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'request-disallowed-by-policy.json')));
  const cmds = out?.causes?.[0]?.fixes?.flatMap((f) => f.commands ?? []) ?? [];
  assert.ok(
    cmds.includes(
      "az policy assignment show --ids '/subscriptions/---/providers/Microsoft.Authorization/policyAssignments/Hackathon15951-1259751-PolicyDefinition'",
    ),
  );
});
