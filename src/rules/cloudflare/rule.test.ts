import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';
import { ownFixtures } from '../_lib/cases.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';
import { responseCase } from '../_lib/unit-case.ts';

const run = ownFixtures(rule, import.meta.dirname);

testRule(rule, import.meta.dirname);

test('cloudflare: the Ray ID from the page reaches the fix for the site owner', () => {
  const c = run('error-1006-ip-banned.json')?.causes?.[0];
  assert.equal(c?.id, 'ip-restricted');
  assert.ok(c?.fixes?.some((f) => f.title.includes('2afbb9b137e9126d')));
  assert.ok(c?.fixes?.some((f) => f.commands?.some((cmd) => cmd.includes('rayName:\\"2afbb9b137e9126d\\"'))));
});

test('cloudflare: the Ray ID header drops the colo suffix', () => {
  const out = run('block-page-attention-required.json');
  assert.ok(out?.producer?.evidence.some((e) => e.source === 'ray-id' && e.text === '5250aa315915ba0a'));
});

test('cloudflare: an origin 403 that only passed through Cloudflare is not claimed', async () => {
  // nginx's own 403 page, as it would arrive through Cloudflare's proxy.
  const fx = loadFixture(join(import.meta.dirname, '..', 'nginx', 'fixtures', 'deny-all.json'));
  fx.exchange.response.headers = [
    ...fx.exchange.response.headers.filter((h) => h.name.toLowerCase() !== 'server'),
    { name: 'Server', value: 'cloudflare' },
    { name: 'CF-RAY', value: '863bc951ce9d9abd-MIA' },
  ];
  const out = runRule(rule, fx);
  assert.ok(out?.producer && out.producer.confidence < 0.5, 'below the claim threshold');
  assert.equal(out?.producer?.layer, 'cdn');
  assert.equal(out?.causes, undefined);
  const report = diagnoseWith(await loadRules(), fx.exchange);
  assert.equal(report.deniedBy?.product, 'nginx', 'the origin is named');
});

test('cloudflare: an application’s JSON error through Cloudflare names the application, not Cloudflare', async () => {
  const fx = responseCase(
    'origin-json',
    403,
    { Server: 'cloudflare', 'CF-RAY': '8a1b2c3d4e5f6789-AMS', 'Content-Type': 'application/json' },
    '{"message":"You do not have permission to view this order"}',
  );
  const out = runRule(rule, fx);
  assert.ok(out?.producer && out.producer.confidence < 0.3, 'kept as a hop, under every layer guess');
  const report = diagnoseWith(await loadRules(), fx.exchange);
  assert.equal(report.deniedBy?.product, 'unknown');
  assert.equal(report.deniedBy?.layer, 'application');
  assert.ok(
    report.deniedBy?.evidence.some((e) => e.source === 'header:cf-ray'),
    'the hop stays in the evidence',
  );
  assert.ok(report.notes.some((n) => /passed through Cloudflare/.test(n)));
});

test('cloudflare: its own pages and its API’s errors still name it', async () => {
  const rules = await loadRules();
  for (const file of [
    'block-page-attention-required.json',
    'error-1020-firewall-rule.json',
    'api-token-missing-permission.json',
  ])
    assert.equal(
      diagnoseWith(rules, loadFixture(join(import.meta.dirname, 'fixtures', file)).exchange).deniedBy?.product,
      'cloudflare',
    );
});
