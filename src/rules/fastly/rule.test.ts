import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const relayed = loadFixture(join(import.meta.dirname, 'extra', 'edge-relayed-origin-403.json'));

testRule(rule, import.meta.dirname, [
  // Fastly's edge headers on an origin WAF's page: Fastly only delivered it.
  { name: 'an origin 403 delivered through Fastly’s edge is not claimed as Fastly’s', fixture: relayed },
]);

test('fastly: edge headers are noted as delivery, below the claim threshold', () => {
  const out = runRule(rule, relayed);
  assert.equal(out?.producer?.product, 'fastly');
  assert.ok(out.producer.confidence < 0.5);
  assert.equal(out.causes, undefined, 'no cause is argued for a relayed 403');
});

test('fastly: the same 401 message reads as missing or invalid by whether Fastly-Key was sent', () => {
  const fx = loadFixture(join(fixtures, 'api-credentials-invalid.json'));
  const withKey = runRule(rule, fx);
  assert.equal(withKey?.causes?.[0]?.id, 'credential-invalid');
  const stripped = structuredClone(fx);
  stripped.exchange.request!.headers = stripped.exchange.request!.headers.filter(
    (h) => h.name.toLowerCase() !== 'fastly-key',
  );
  const without = runRule(rule, stripped);
  assert.equal(without?.causes?.[0]?.id, 'credential-missing');
});

test('fastly: a read-only token names the missing scope', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'api-read-only-token.json')));
  const scope = out?.causes?.find((c) => c.id === 'insufficient-scope');
  assert.deepEqual(scope?.gap, { required: ['global'], held: ['global:read'] });
  assert.ok(
    scope?.fixes?.every((f) => f.verify),
    'every fix says how to confirm it',
  );
});

test('fastly: Varnish’s own synth page is not claimed', () => {
  const fx = loadFixture(join(import.meta.dirname, '..', 'varnish', 'fixtures', 'ip-acl.json'));
  const out = runRule(rule, fx);
  assert.ok(!out?.producer || out.producer.product !== 'fastly');
});
