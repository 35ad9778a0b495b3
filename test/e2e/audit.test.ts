// why403 audit against a real Express API (test/servers/audit-app.ts) whose
// JWT scopes are enforced by express-oauth2-jwt-bearer and whose roles by CASL,
// with four deliberate defects: an endpoint that forgets its check, one that
// demands the wrong scope, one that denies with a 200, one that hides with a
// 404. From its OpenAPI document and from an audit file, each defect must be
// found exactly — and nothing else; every output format is checked, the JUnit
// against its schema with xmllint.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_FILE, AUDIT_SPEC, AUDIT_TOKEN_ENV, startAuditApp } from '../servers/audit.ts';
import type { AuditResult } from '../../src/audit/model.ts';
import { cliEnv, spawnCli } from './helpers.ts';

const XSD = join(import.meta.dirname, '..', 'fixtures', 'junit', 'why403-junit.xsd');

/** The findings the four defects must produce, and no other: kind, operation, identity. */
const DEFECTS = [
  ['open', 'adminStats', 'reader'],
  ['regression', 'listInvoices', 'reader'],
  ['regression', 'listInvoices', 'admin'],
  ['denied-with-success', 'listReports', 'reader'],
  ['hidden', 'getProject', 'reader'],
];

const findingKeys = (r: AuditResult) => r.findings.map((f) => [f.kind, f.operation, f.identity]);

const xmllint = spawnSync('xmllint', ['--version']).status === 0;

describe('why403 audit (a real Express API with JWT scopes and CASL roles on 127.0.0.1)', { timeout: 180_000 }, () => {
  let app: Awaited<ReturnType<typeof startAuditApp>> | undefined;
  let env: NodeJS.ProcessEnv;
  let tokens: string[];
  let dir: string;
  const audit = (args: string[], timeoutMs = 60_000) => spawnCli(['audit', ...args], env, timeoutMs);
  const identities = [
    '--identity',
    'anonymous=',
    '--identity',
    `reader=env:${AUDIT_TOKEN_ENV.reader}`,
    '--identity',
    `admin=env:${AUDIT_TOKEN_ENV.admin}`,
  ];
  const fromSpec = () => ['--openapi', AUDIT_SPEC, '--base-url', app!.origin, ...identities];
  const fromFile = () => ['--file', AUDIT_FILE, '--base-url', app!.origin];

  before(async () => {
    app = await startAuditApp();
    const reader = await app.mint('reader');
    const admin = await app.mint('admin');
    tokens = [reader, admin];
    env = { ...cliEnv(), [AUDIT_TOKEN_ENV.reader]: reader, [AUDIT_TOKEN_ENV.admin]: admin };
    dir = mkdtempSync(join(tmpdir(), 'why403-audit-'));
  });
  after(async () => {
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** No output may hold a token, nor its signature alone. */
  const assertNoSecret = (text: string) => {
    for (const t of tokens) assert.ok(!text.includes(t.split('.')[2]), 'a token signature reached the output');
  };

  it('from the OpenAPI spec: each defect found exactly, explained, and nothing else', async () => {
    const junit = join(dir, 'spec.xml');
    const r = await audit([...fromSpec(), '--json', '--junit', junit]);
    assert.equal(r.code, 1, r.stderr);
    assertNoSecret(r.stdout + r.stderr + readFileSync(junit, 'utf8'));
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.deepEqual(findingKeys(result), DEFECTS);
    // 8 operations × 3 identities; createOrder (POST) not sent without --allow-unsafe.
    assert.deepEqual(result.summary, { cells: 24, holds: 18, failing: 3, warnings: 2, unjudged: 0, skipped: 3 });
    assert.equal(result.requests.sent, 21);
    assert.deepEqual(result.requests.unsafe, []);
    // What each identity holds, read from its JWT.
    assert.deepEqual(
      result.identities.map((i) => [i.name, i.scopesFrom, i.scopes.length]),
      [
        ['anonymous', 'none', 0],
        ['reader', 'token', 2],
        ['admin', 'token', 6],
      ],
    );
    const [open, invoicesReader, invoicesAdmin, withSuccess, hidden] = result.findings;
    // The forgotten check: allowed without the scope the spec requires.
    assert.equal(open.status, 200);
    assert.deepEqual(open.gap, { required: ['read:admin'], held: ['read:orders', 'read:invoices'] });
    // The wrong scope: the library's own insufficient_scope challenge, diagnosed with the scope it demanded.
    for (const f of [invoicesReader, invoicesAdmin]) {
      assert.equal(f.status, 403);
      const top = f.report!.causes[0];
      assert.equal(top.id, 'insufficient-scope');
      assert.deepEqual(top.gap?.required, ['read:invoice']);
      assert.ok(top.fixes.length > 0);
    }
    // Denied with a 200: a denial (never counted as allowed), diagnosed from the body's words.
    assert.equal(withSuccess.status, 200);
    assert.equal(withSuccess.verdict, 'denied-by-body');
    assert.equal(withSuccess.severity, 'warn');
    assert.equal(withSuccess.report?.status, 200);
    assert.match(withSuccess.report!.statusMismatch!, /answered 200 but refused: JSON error = "forbidden"/);
    // Hidden with a 404 while the admin read the project.
    assert.equal(hidden.status, 404);
    assert.equal(hidden.verdict, 'hidden');
    assert.match(hidden.summary, /reader got 404 on GET \/api\/projects\/\{projectId\} while admin read it/);

    // JUnit: one test case per cell, failures carrying the diagnosis, valid against the schema.
    const xml = readFileSync(junit, 'utf8');
    assert.equal((xml.match(/<testcase /g) ?? []).length, 24);
    assert.equal((xml.match(/<failure /g) ?? []).length, 3);
    assert.equal((xml.match(/<skipped /g) ?? []).length, 3);
    assert.match(xml, /insufficient-scope/);
  });

  it(
    'the JUnit file validates against its schema (xmllint)',
    { skip: !xmllint && process.env.CI !== 'true' && 'xmllint missing; .ci/run installs libxml2-utils' },
    async () => {
      const junit = join(dir, 'schema.xml');
      const r = await audit([...fromSpec(), '--quiet', '--junit', junit]);
      assert.equal(r.code, 1, r.stderr);
      const lint = spawnSync('xmllint', ['--noout', '--schema', XSD, junit], { encoding: 'utf8' });
      assert.equal(lint.status, 0, lint.stderr);
    },
  );

  it('from the audit file: the same findings; deniedWhen reads the 200 refusal', async () => {
    const r = await audit([...fromFile(), '--json']);
    assert.equal(r.code, 1, r.stderr);
    assertNoSecret(r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.deepEqual(findingKeys(result), DEFECTS);
    assert.equal(result.findings[3].report?.statusMismatch?.includes('JSON error = "forbidden"'), true);
  });

  it('the terminal matrix fits 80 columns, and Markdown has the table and the findings', async () => {
    const t = await audit([...fromSpec(), '--quiet']);
    assert.equal(t.code, 1, t.stderr);
    assertNoSecret(t.stdout);
    for (const line of t.stdout.split('\n')) assert.ok([...line].length <= 80, `longer than 80: ${line}`);
    assert.match(t.stdout, /OPEN/);
    assert.match(t.stdout, /REGRESSION/);
    assert.match(t.stdout, /HIDDEN/);
    assert.match(t.stdout, /GET \/api\/admin\/stats/);
    const m = await audit([...fromSpec(), '--quiet', '--markdown']);
    assert.equal(m.code, 1, m.stderr);
    assertNoSecret(m.stdout);
    assert.match(m.stdout, /^\| operation \|/m);
    assert.match(m.stdout, /insufficient-scope/);
  });

  it('--allow-unsafe sends each unsafe request once per identity and lists every one', async () => {
    const r = await audit([...fromSpec(), '--json', '--allow-unsafe', '--operation', 'createOrder']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.deepEqual(result.requests.unsafe.map((u) => [u.identity, u.method, u.status]).sort(), [
      ['admin', 'POST', 201],
      ['anonymous', 'POST', 401],
      ['reader', 'POST', 403],
    ]);
    assert.equal(result.requests.sent, 3);
    assert.deepEqual(result.findings, []);
  });

  it('--dry-run prints the plan and the budget, and sends nothing', async () => {
    const r = await audit([...fromSpec(), '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /8 operations × 3 identities = 24 cells; 21 requests to send; 3 unsafe not sent/);
    assert.match(r.stdout, /GET http:\/\/127\.0\.0\.1:\d+\/api\/admin\/stats {2}\[adminStats\]/);
    assert.match(r.stdout, / {2}reader: deny — needs oauth2 "auth" with read:admin/);
    assert.match(r.stdout, /POST .*\[createOrder\] {2}\(not sent: --allow-unsafe\)/);
  });

  it('--baseline reports only what changed: the same matrix holds, a newly open cell fails', async () => {
    const first = await audit([...fromSpec(), '--json', '--quiet']);
    const baseline = join(dir, 'baseline.json');
    writeFileSync(baseline, first.stdout);
    const same = await audit([...fromSpec(), '--json', '--quiet', '--baseline', baseline]);
    assert.equal(same.code, 0, same.stderr);
    assert.deepEqual((JSON.parse(same.stdout) as AuditResult).baseline?.changes, []);
    // The run before the defect shipped: adminStats refused the reader then.
    const earlier = JSON.parse(first.stdout) as AuditResult;
    for (const c of earlier.cells)
      if (c.operation === 'adminStats' && c.identity === 'reader') Object.assign(c, { status: 403, verdict: 'denied' });
    writeFileSync(baseline, JSON.stringify(earlier));
    const changed = await audit([...fromSpec(), '--quiet', '--baseline', baseline]);
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /newly open/i);
    assert.match(changed.stdout, /adminStats/);
  });

  it('bad input: one line, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--openapi', join(dir, 'missing.yaml'), ...identities], /missing\.yaml/],
      [[...fromSpec(), '--max-requests', '5'], /would send 21 requests, more than the budget of 5/],
      [[...fromSpec(), '--operation', 'nope'], /--operation nope: no such operation/],
      [['--openapi', AUDIT_SPEC, '--base-url', app!.origin], /needs at least one --identity/],
      [[...fromSpec(), '--identity', 'x=env:WHY403_UNSET_VARIABLE'], /WHY403_UNSET_VARIABLE is not set/],
      [[...fromSpec(), '--junit', join(dir, 'no-such-folder', 'a.xml')], /--junit .*: the folder .* does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = await audit(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
