// Two rules refusing different records in one scan (issue 14, point 6):
// /guarded/employees/:id on the real Express app (test/servers/scan-app.ts)
// refuses Finance records for a missing permission, named in words and in a
// `required_permission` field, and locked records with "is locked". Each
// denial signature must be diagnosed from its own body and separated from
// the allowed records on its own: department for the first, status for the
// second, never the other's field. The expected refusals come from the
// dataset, not from why403.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RunningServer } from '../servers/common.ts';
import { makeTempDir, removeDir } from '../servers/common.ts';
import { expectedGuarded, FINANCE_PERMISSION, startScanApp } from '../servers/scan-server.ts';
import { runCli } from './helpers.ts';
import type { ScanSummary, SignatureSummary } from '../../src/scan/summary.ts';

const N = 180;

describe('why403 scan: two denial signatures in one scan, each diagnosed and separated on its own', () => {
  let app: RunningServer;
  let dir: string;
  let summary: ScanSummary;
  let text: string;
  const expected = expectedGuarded(N, 'integration');

  before(async () => {
    app = await startScanApp({ records: N });
    dir = makeTempDir('why403-scan-sigs-');
    const state = join(dir, 'guarded.sqlite');
    const common = ['--list', `${app.origin}/next/employees`, '--get', `${app.origin}/guarded/employees/{id}`];
    const r = await runCli(
      ['scan', ...common, '-H', 'Authorization: Bearer integration', '--state', state, '--json', '--quiet'],
      60_000,
    );
    assert.equal(r.code, 1, r.stderr);
    summary = JSON.parse(r.stdout) as ScanSummary;
    // The same state file read back for a person: no request, no credential.
    const report = await runCli(['scan', 'report', state], 30_000);
    assert.equal(report.code, 1, report.stderr);
    text = report.stdout;
  });
  after(async () => {
    await app?.stop();
    if (dir) removeDir(dir);
  });

  it('the dataset has both refusals, and the locked ones are few enough to blur into the Finance ones when compared all at once', () => {
    assert.equal(expected.permission.length, N / 6);
    assert.ok(expected.locked.length >= 3, `${expected.locked.length} locked`);
    // Finance is at least 80% of all refusals and no allowed record: a separation of all refusals at once names it.
    const all = expected.permission.length + expected.locked.length;
    assert.ok(expected.permission.length / all >= 0.8);
  });

  const byCount = (n: number): SignatureSummary => {
    const sig = summary.signatures.find((s) => s.count === n);
    assert.ok(sig, `a signature with ${n} records in ${JSON.stringify(summary.signatures.map((s) => s.count))}`);
    return sig;
  };
  const scanFieldsCited = (sig: SignatureSummary) =>
    sig.report.causes.flatMap((c) => c.evidence.filter((e) => e.source.startsWith('scan:field ')).map((e) => e.source));

  it('every refused record is found, in two signatures', () => {
    assert.equal(summary.records.done, N);
    assert.equal(summary.records.denied, expected.permission.length + expected.locked.length);
    assert.equal(summary.signatures.length, 2);
    const ids = (sig: SignatureSummary) => sig.examples;
    assert.ok(ids(byCount(expected.permission.length)).every((id) => expected.permission.includes(id)));
    assert.ok(ids(byCount(expected.locked.length)).every((id) => expected.locked.includes(id)));
  });

  it('the permission signature: its own body names the permission (the gap), and department separates its records', () => {
    const sig = byCount(expected.permission.length);
    assert.equal(sig.cause, 'insufficient-role');
    const top = sig.report.causes[0];
    assert.equal(top.id, 'insufficient-role');
    assert.ok(
      JSON.stringify(top.gap ?? {}).includes(FINANCE_PERMISSION),
      `gap ${JSON.stringify(top.gap)} names ${FINANCE_PERMISSION}`,
    );
    assert.ok(
      top.evidence.some((e) => e.source === 'probe:scan'),
      'the scan backs the cause the words name',
    );
    // The scan's record-level cause is there, below the one the words name.
    assert.ok(sig.report.causes.some((c) => c.id === 'field-restricted' && c.score < top.score));
    assert.deepEqual(
      sig.separation.map((s) => [s.field, s.values, s.exact, s.signature]),
      [['department', ['Finance'], true, sig.id]],
    );
    assert.deepEqual([...new Set(scanFieldsCited(sig))], ['scan:field department']);
  });

  it('the locked signature: its own body says locked (resource-state), and status separates its records, not department', () => {
    const sig = byCount(expected.locked.length);
    assert.equal(sig.cause, 'resource-state');
    const top = sig.report.causes[0];
    assert.equal(top.id, 'resource-state');
    assert.ok(
      top.evidence.some((e) => /locked/.test(e.text)),
      'the words that raised it are quoted',
    );
    assert.equal(top.gap, undefined, 'no permission is named for a locked record');
    assert.deepEqual(
      sig.separation.map((s) => [s.field, s.values, s.exact, s.signature]),
      [['status', ['locked'], true, sig.id]],
    );
    const cited = scanFieldsCited(sig);
    assert.ok(cited.length > 0);
    assert.deepEqual([...new Set(cited)], ['scan:field status'], 'no field of the other signature is cited');
  });

  it("the summary's separation is each signature's own, and the report says which records each one is about", () => {
    const perm = byCount(expected.permission.length);
    const locked = byCount(expected.locked.length);
    assert.deepEqual(
      summary.separation.map((s) => [s.signature, s.field]).sort(),
      [
        [perm.id, 'department'],
        [locked.id, 'status'],
      ].sort(),
    );
    const allowed = N - expected.permission.length - expected.locked.length;
    // The terminal wraps lines: any run of spaces may be a line break.
    const said = (sentence: string) => new RegExp(sentence.replace(/[[\]]/g, '\\$&').split(' ').join('\\s+'));
    assert.match(
      text,
      said(
        `• all ${expected.locked.length} records refused with [${locked.id}] have status = locked; none of the ${allowed} allowed records do`,
      ),
    );
    assert.match(
      text,
      said(
        `• all ${expected.permission.length} records refused with [${perm.id}] have department = Finance; none of the ${allowed} allowed records do`,
      ),
    );
  });
});
