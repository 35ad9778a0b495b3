import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';
import { loadRules } from '../registry.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';

testRule(rule, import.meta.dirname);

const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', `${name}.json`));

test('npm-registry: the publish denial names the package and the owner command', () => {
  const c = runRule(rule, fixture('publish-no-permission'))?.causes?.[0];
  assert.equal(c?.id, 'not-owner');
  assert.ok(
    c?.fixes?.[0].commands?.includes('npm owner add YOUR_USER cra-template-essential  # run by a current owner'),
  );
  assert.match(c?.fixes?.[0].verify ?? '', /npm access list collaborators cra-template-essential/);
});

test('npm-registry: a Verdaccio X-Powered-By rules the public registry out, whatever the body says', async () => {
  const fx = fixture('publish-no-permission');
  fx.exchange.request!.url = 'http://127.0.0.1:4873/cra-template-essential';
  fx.exchange.response.headers.push({ name: 'X-Powered-By', value: 'hidden' });
  // The verdaccio rule recognises the response, so the engine sets this rule aside (meta.yieldsTo).
  assert.deepEqual(rule.meta.yieldsTo, ['verdaccio']);
  const report = diagnoseWith(await loadRules(), fx.exchange);
  assert.equal(report.deniedBy?.product, 'verdaccio');
  assert.ok(!report.causes.some((c) => c.id === 'not-owner'), 'no npm-registry cause survives');
});
