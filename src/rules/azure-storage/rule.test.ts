import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { commandsOf, ownFixtures } from '../_lib/cases.ts';

const run = ownFixtures(rule, import.meta.dirname);

testRule(rule, import.meta.dirname);

test('azure-storage: the SAS window is measured from the detail’s timestamps', () => {
  const out = run('sas-expiry-before-start.json');
  assert.match(out?.causes?.[0]?.summary ?? '', /142 s before the start/);
});

test('azure-storage: a SAS request with AuthorizationPermissionMismatch is a SAS-permission gap, not a role', () => {
  const out = run('permission-mismatch-role-propagation.json', {
    method: 'PUT',
    url: 'https://acct.blob.core.windows.net/photos/cat.jpg?sv=2022-11-02&sp=r&se=2030-01-01T00%3A00%3A00Z&sr=b&sig=REDACTED',
    headers: [],
  });
  const c = out?.causes?.[0];
  assert.equal(c?.id, 'insufficient-scope');
  assert.deepEqual(c?.gap, { required: ['SAS permission for PUT'], held: ['sp=r'] });
});

test('azure-storage: with a bearer token the fix assigns the data role at the container', () => {
  const out = run('permission-mismatch-role-propagation.json', {
    method: 'GET',
    url: 'https://acct.blob.core.windows.net/photos/cat.jpg',
    headers: [{ name: 'Authorization', value: 'Bearer REDACTED' }],
  });
  const c = out?.causes?.find((x) => x.id === 'insufficient-role');
  assert.ok(
    commandsOf(c).some(
      (cmd) =>
        cmd.includes('az role assignment create --role "Storage Blob Data Reader"') &&
        cmd.includes('/blobServices/default/containers/photos'),
    ),
  );
});
