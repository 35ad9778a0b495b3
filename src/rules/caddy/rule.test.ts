import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import caddy from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';

// extra/ holds an application's 403 that Caddy only relayed (reverse_proxy):
// the rule must read it, but must not claim the denial as Caddy's.
const extra = (name: string) => loadFixture(join(import.meta.dirname, 'extra', `${name}.json`));
const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', `${name}.json`));

testRule(caddy, import.meta.dirname);

test('caddy: an application’s 403 relayed by reverse_proxy is not claimed as Caddy’s denial', async () => {
  const fx = extra('reverse-proxy-app-403');
  const out = runRule(caddy, fx);
  assert.ok(
    !out?.producer || out.producer.confidence < 0.5,
    `claimed ${out?.producer?.product} at ${out?.producer?.confidence}`,
  );
  assert.equal(out?.causes?.length ?? 0, 0);
  assert.ok(
    out?.notes?.some((n) => n.includes('why403-test-app')),
    'names the upstream',
  );
  const report = diagnoseWith(await loadRules(), fx.exchange);
  assert.notEqual(report.deniedBy?.product, 'caddy');
});

test('caddy: the same relayed body with only `Server: Caddy` stays below the claim threshold', () => {
  const fx = extra('reverse-proxy-app-403');
  // An upstream that sends no Server header of its own: Caddy's is then the only one.
  fx.exchange.response.headers = fx.exchange.response.headers.filter(
    (h) => !(h.name.toLowerCase() === 'server' && h.value !== 'Caddy'),
  );
  const out = runRule(caddy, fx);
  assert.equal(out?.producer?.product, 'caddy');
  assert.equal(out?.producer?.layer, 'reverse-proxy');
  assert.ok((out?.producer?.confidence ?? 1) < 0.5);
  assert.equal(out?.causes?.length ?? 0, 0);
});

test('caddy: a `respond` body rules out an unreadable file; an empty 403 does not', () => {
  const withBody = runRule(caddy, fixture('path-rule'))?.causes?.map((c) => c.id) ?? [];
  assert.ok(!withBody.includes('filesystem-permission'), withBody.join(', '));
  assert.match(runRule(caddy, fixture('path-rule'))?.causes?.[0]?.summary ?? '', /"Forbidden"/);
  const empty = runRule(caddy, fixture('unreadable-file'))?.causes?.map((c) => c.id) ?? [];
  assert.ok(empty.includes('filesystem-permission'), empty.join(', '));
  const fixes =
    runRule(caddy, fixture('unreadable-file'))?.causes?.find((c) => c.id === 'filesystem-permission')?.fixes ?? [];
  assert.ok(
    fixes.some((f) => f.commands?.some((c) => c === 'namei -l <root>/secret.txt')),
    JSON.stringify(fixes),
  );
});

test('caddy: basicauth’s 401 names the realm and points at the basicauth block', () => {
  const cause = runRule(caddy, fixture('basic-auth-missing'))?.causes?.[0];
  assert.equal(cause?.id, 'credential-missing');
  assert.match(cause?.summary ?? '', /realm "restricted"/);
  assert.ok(cause?.fixes?.some((f) => f.commands?.some((c) => c.includes('caddy hash-password'))));
});
