import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

testRule(rule, import.meta.dirname);

const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', `${name}.json`));

test('verdaccio: the publish denial names the user, the package and the config line that would admit it', () => {
  const out = runRule(rule, fixture('verdaccio-npm-publish-not-allowed'));
  const c = out?.causes?.[0];
  assert.equal(c?.id, 'insufficient-role');
  assert.deepEqual(c?.gap, {
    required: ['publish on @corp/widgets (config.yaml packages → publish:)'],
    held: ['user bob'],
  });
  assert.ok(c?.fixes?.[0].commands?.some((cmd) => cmd.includes("'@corp/widgets':") && cmd.includes('publish: bob')));
});

test('verdaccio: "authorization required" with a token sent means the token was not accepted', () => {
  const fx = fixture('verdaccio-read-unauthenticated');
  fx.exchange.request!.headers.push({ name: 'Authorization', value: 'Bearer REDACTED' });
  const out = runRule(rule, fx);
  const top = [...(out?.causes ?? [])].sort((a, b) => b.weight - a.weight)[0];
  assert.equal(top?.id, 'credential-invalid');
});

test('verdaccio: X-Powered-By: verdaccio/<version> alone names the product', () => {
  const fx = fixture('verdaccio-read-not-allowed');
  fx.exchange.response.headers = [{ name: 'X-Powered-By', value: 'verdaccio/5.31.1' }];
  fx.exchange.response.content.text = '{"error":"something else"}';
  assert.equal(runRule(rule, fx)?.producer?.confidence, 0.97);
});

test('verdaccio: the same body behind Cloudflare with npm-notice is not Verdaccio', () => {
  const fx = fixture('verdaccio-read-not-allowed');
  fx.exchange.response.headers.push({ name: 'cf-ray', value: '8f0000000000000-AMS' });
  assert.equal(runRule(rule, fx), undefined);
});
