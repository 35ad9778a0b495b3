import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';
import { commandsOf, ownFixtures } from '../_lib/cases.ts';

const run = ownFixtures(rule, import.meta.dirname);

testRule(rule, import.meta.dirname);

test('azure-key-vault: ForbiddenByRbac names the data action and the role assignment command', () => {
  const c = run('rbac-forbidden-by-rbac.json')?.causes?.[0];
  assert.equal(c?.id, 'insufficient-role');
  assert.match(
    c?.gap?.required[0] ?? '',
    /^Microsoft\.KeyVault\/vaults\/secrets\/getSecret\/action on \/subscriptions\//,
  );
  const cmds = commandsOf(c);
  assert.ok(
    cmds.some(
      (x) => x.startsWith('az role assignment create --role "Key Vault Secrets User"') && x.includes('/vaults/someakv'),
    ),
  );
  assert.ok(c?.fixes?.some((f) => (f.verify ?? '').startsWith('az role assignment list --assignee')));
});

test('azure-key-vault: the access-policy refusal yields az keyvault set-policy for the named permission', () => {
  const out = run('access-policy-access-denied.json');
  const cmds = commandsOf(out?.causes?.[0]);
  assert.ok(
    cmds.includes('az keyvault set-policy -n someakv --object-id PRINCIPAL_OBJECT_ID --secret-permissions get list'),
  );
});

test('azure-key-vault: a 401 challenge with a token sent argues audience, not a missing credential', () => {
  const fx = loadFixture(join(import.meta.dirname, 'fixtures', 'challenge-401-no-token.json'));
  fx.exchange.request!.headers.push({ name: 'Authorization', value: 'Bearer eyJhbGciOiJub25lIn0.e30.' });
  const out = runRule(rule, fx);
  assert.equal(out?.causes?.[0]?.id, 'wrong-audience');
});
