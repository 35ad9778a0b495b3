import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

testRule(rule, import.meta.dirname);

const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', `${name}.json`));

test('npm-registry: the publish denial names the package and the owner command', () => {
  const c = runRule(rule, fixture('publish-no-permission'))?.causes?.[0];
  assert.equal(c?.id, 'not-owner');
  assert.ok(c?.fixes?.[0].commands?.includes('npm owner add YOUR_USER cra-template-essential  # run by a current owner'));
  assert.match(c?.fixes?.[0].verify ?? '', /npm access list collaborators cra-template-essential/);
});

test('npm-registry: a Verdaccio X-Powered-By rules the public registry out, whatever the body says', () => {
  const fx = fixture('publish-no-permission');
  fx.exchange.request!.url = 'http://127.0.0.1:4873/cra-template-essential';
  fx.exchange.response.headers.push({ name: 'X-Powered-By', value: 'hidden' });
  assert.equal(runRule(rule, fx), undefined);
});
