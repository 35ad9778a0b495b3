import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

const fixtures = join(import.meta.dirname, 'fixtures');

testRule(rule, import.meta.dirname);

test('akamai: the Reference # reaches the error-translator fix', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'access-denied-xss-payload.json')));
  const waf = out?.causes?.find((c) => c.id === 'waf-block');
  assert.ok(waf && waf.weight > 0.8, 'the attack pattern in the URL argues for the WAF');
  assert.ok(waf.fixes?.some((f) => f.commands?.some((c) => c.includes("errorCode='18.ef3a2f17.1619133194.15bcf105'"))));
});

test('akamai: Apache’s own 403 page, which uses the same words without a Reference #, is not claimed', () => {
  const fx = loadFixture(join(import.meta.dirname, '..', 'apache-httpd', 'fixtures', 'require-all-denied.json'));
  assert.equal(runRule(rule, fx), undefined);
});
