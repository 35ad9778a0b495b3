import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import defaultRule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';
import { responseCase } from '../_lib/unit-case.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';

testRule(defaultRule, import.meta.dirname);

test('nginx: an application’s JSON error under Server: nginx names the application, not nginx', async () => {
  const report = diagnoseWith(
    await loadRules(),
    responseCase(
      'proxied-app',
      403,
      { Server: 'nginx/1.25.3', 'Content-Type': 'application/json' },
      '{"message":"You do not have permission to view this order"}',
    ).exchange,
  );
  assert.equal(report.deniedBy?.product, 'unknown');
  assert.equal(report.deniedBy?.layer, 'application');
  assert.ok(report.deniedBy?.evidence.some((e) => e.source === 'header:server' && /nginx/.test(e.text)));
});

test('nginx: its own 403 page still names it', async () => {
  const fx = loadFixture(join(import.meta.dirname, 'fixtures', 'deny-all.json'));
  assert.equal(diagnoseWith(await loadRules(), fx.exchange).deniedBy?.product, 'nginx');
});
