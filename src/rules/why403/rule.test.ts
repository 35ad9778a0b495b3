import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import rule from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';
import { diagnose } from '../../diagnose.ts';

testRule(rule, import.meta.dirname);

const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', name));

test('why403: the whole diagnosis of an explained denial is exactly what the middleware said', async () => {
  const cases: [string, string, { required: string[]; held: string[] } | undefined][] = [
    ['insufficient-scope-gap.json', 'insufficient-scope', { required: ['read:orders'], held: ['read:invoices'] }],
    ['insufficient-role-cause.json', 'insufficient-role', undefined],
    ['credential-missing-gap.json', 'credential-missing', undefined],
    ['credential-expired-cause.json', 'credential-expired', undefined],
    ['ip-restricted-gap.json', 'ip-restricted', { required: ['client address in 10.0.0.0/8'], held: ['192.0.2.10'] }],
  ];
  for (const [name, cause, gap] of cases) {
    const fx = fixture(name);
    const report = await diagnose(fx.exchange, { now: new Date(fx.now!) });
    assert.deepEqual(
      [report.deniedBy?.product, report.deniedBy?.layer, report.causes[0]?.id],
      ['why403', 'application', cause],
      name,
    );
    assert.ok(report.deniedBy!.confidence >= 0.9, `${name}: confidence ${report.deniedBy!.confidence}`);
    if (gap) assert.deepEqual(report.causes[0]!.gap, gap, name);
    else assert.equal(report.causes[0]!.gap, undefined, name);
  }
});

test('why403: the "status" disclosure (about:blank) is not claimed: the app chose to say nothing', () => {
  const fx = loadFixture(join(import.meta.dirname, 'not-claimed', 'status-disclosure.json'));
  assert.equal(runRule(rule, fx)?.producer, undefined);
  assert.deepEqual(runRule(rule, fx)?.causes ?? [], []);
});
