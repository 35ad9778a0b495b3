// An application no rule knows, tried as a new user would (issue 14): a plain
// Node server on 127.0.0.1 refuses requests the ways applications word it,
// and `why403 check` (passive, --no-probes) must read each denial's own words
// and the request's context — the right cause on top, the words quoted, the
// named permission as the gap, no more than three causes level at the top,
// and a "What now" for every cause.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import type { Report } from '../../src/model/report.ts';
import { runCli } from './helpers.ts';

const ROUTES: Record<string, (req: http.IncomingMessage) => [number, Record<string, string>, string]> = {
  '/allow-list': () => [403, { 'Content-Type': 'text/plain' }, 'Forbidden: 127.0.0.1 is not in the allow list'],
  '/whitelist': () => [403, { 'Content-Type': 'text/plain' }, 'IP 127.0.0.1 is not whitelisted'],
  '/orders/7': () => [
    403,
    { 'Content-Type': 'application/json' },
    JSON.stringify({ message: 'You do not have permission to view this order' }),
  ],
  '/basic': (req) =>
    req.headers.authorization === `Basic ${Buffer.from('alice:right').toString('base64')}`
      ? [200, {}, 'ok']
      : [401, { 'WWW-Authenticate': 'Basic realm="reports"', 'Content-Type': 'text/plain' }, 'Unauthorized'],
  '/invoices/3': () => [
    403,
    { 'Content-Type': 'application/json' },
    JSON.stringify({ error: 'You need the invoices:approve permission', required_permission: 'invoices:approve' }),
  ],
  '/records/9': () => [
    403,
    { 'Content-Type': 'application/json' },
    JSON.stringify({ message: 'This record is locked' }),
  ],
  '/bare': () => [403, { 'Content-Type': 'text/plain' }, 'Forbidden'],
};

let base = '';
const server = http.createServer((req, res) => {
  const route = ROUTES[(req.url ?? '').split('?')[0]];
  const [status, headers, body] = route ? route(req) : [404, {}, 'not found'];
  res.writeHead(status, headers).end(body);
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function check(path: string, ...args: string[]): Promise<Report> {
  const r = await runCli(['check', '--no-probes', '--json', base + path, ...args]);
  assert.ok(r.code === 1, `check exits 1 on a denial (got ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Report;
}

function assertShape(report: Report): void {
  const top = report.causes[0];
  const level = report.causes.filter((c) => c.score === top.score);
  assert.ok(level.length <= 3, `at most three causes share the top score: ${level.map((c) => c.id).join(', ')}`);
  for (const c of report.causes) if (c.id !== 'unknown') assert.ok(c.fixes.length > 0, `${c.id} has a "What now"`);
  assert.equal(report.deniedBy?.product, 'unknown', 'no rule names this application');
}

describe('an application no rule knows (plain Node on 127.0.0.1, why403 check)', { timeout: 60_000 }, () => {
  it('"… is not in the allow list" and "… is not whitelisted" → ip-restricted, the words quoted', async () => {
    for (const path of ['/allow-list', '/whitelist']) {
      const report = await check(path);
      assertShape(report);
      assert.equal(report.causes[0].id, 'ip-restricted', path);
      assert.ok(
        report.causes[0].evidence.some((e) => e.source === 'body' && /127\.0\.0\.1/.test(e.text)),
        'the body is quoted',
      );
    }
  });

  it('"You do not have permission to view this order" with a token valid for an hour → insufficient-role, not expiry', async () => {
    const token = await new SignJWT({ sub: 'bob', scope: 'orders:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a throwaway secret for this test only'));
    const report = await check('/orders/7', '-H', `Authorization: Bearer ${token}`);
    assertShape(report);
    assert.equal(report.causes[0].id, 'insufficient-role');
    assert.ok(!report.causes.some((c) => c.id === 'credential-expired'), 'a valid token argues against expiry');
    assert.ok(!report.causes.some((c) => c.id === 'method-not-allowed'), 'a GET is not refused for its method');
    assert.ok(!JSON.stringify(report).includes(token), 'the token never reaches the report');
  });

  it('a wrong Basic password (401 asking for Basic again) → credential-invalid', async () => {
    const report = await check('/basic', '-H', `Authorization: Basic ${Buffer.from('alice:wrong').toString('base64')}`);
    assertShape(report);
    assert.equal(report.causes[0].id, 'credential-invalid');
  });

  it('a permission named in words and in required_permission → the gap', async () => {
    const report = await check('/invoices/3', '-H', 'Authorization: Bearer opaque-0123456789abcdef');
    assertShape(report);
    assert.equal(report.causes[0].id, 'insufficient-role');
    assert.deepEqual(report.causes[0].gap?.required, ['invoices:approve']);
    assert.ok(
      report.causes[0].fixes.some((f) => f.title.includes('invoices:approve')),
      'a fix names the permission',
    );
  });

  it('a record that is locked → resource-state, not field-restricted', async () => {
    const report = await check('/records/9', '-H', 'Authorization: Bearer opaque-0123456789abcdef');
    assertShape(report);
    assert.equal(report.causes[0].id, 'resource-state');
  });

  it('a bare "Forbidden" says the evidence is thin and names the steps that would separate the causes', async () => {
    const report = await check('/bare', '-H', 'Authorization: Bearer opaque-0123456789abcdef');
    assert.ok(report.thin, 'the report says the evidence is thin');
    assert.ok(report.thin!.steps.length >= 1 && report.thin!.steps.length <= 2);
    assert.ok(report.thin!.steps.every((s) => s.title.length > 10));
    const text = await runCli(['check', '--no-probes', base + '/bare']);
    assert.match(text.stdout, /Thin evidence/);
  });
});
