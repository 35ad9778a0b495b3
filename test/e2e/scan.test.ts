// `why403 scan` against a real Express 5 API (test/servers/scan-app.ts) whose
// records are refused by a real @casl/ability rule: every pagination style,
// ids from files and standard input, a process killed mid-scan and resumed,
// a real express-rate-limit 429 with Retry-After, a record that times out,
// and `scan diff`. Expected refusals come from the dataset, not from why403.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningServer } from '../servers/common.ts';
import { makeTempDir, removeDir } from '../servers/common.ts';
import { employees, expectedForbidden, hits, resetHits, startScanApp } from '../servers/scan-server.ts';
import { runCli, startScan } from './helpers.ts';
import { main } from '../../src/cli/main.ts';
import type { ScanSummary } from '../../src/scan/summary.ts';

const AS_INTEGRATION = ['-H', 'Authorization: Bearer integration'];

type ScanJson = ScanSummary & {
  run: {
    stopped?: string;
    requeued: number;
    requests: { records: number; listPages: number; retries: number; rateLimitWaits: number };
    notes: string[];
  };
};

function parse(stdout: string): ScanJson {
  return JSON.parse(stdout) as ScanJson;
}

function forbiddenFromCsv(path: string): string[] {
  const [header, ...rows] = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(header, 'id,status,signature,producer,cause');
  return rows.map((r) => r.split(',')[0]);
}

/** Runs the CLI in this process (for standard input), collecting what it writes. */
async function runInProcess(args: string[], stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });
  const code = await main(args, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdin: Readable.from([stdin]),
    env: { NO_COLOR: '1', NO_PROXY: '127.0.0.1' },
  });
  return { code, stdout, stderr };
}

describe('why403 scan: which employees the integration identity cannot read', () => {
  let app: RunningServer;
  let dir: string;
  const N = 120;
  const forbidden = expectedForbidden(N, 'integration');

  before(async () => {
    app = await startScanApp({ records: N });
    dir = makeTempDir('why403-scan-');
  });
  after(async () => {
    await app?.stop();
    if (dir) removeDir(dir);
  });

  it('the dataset refuses some records to integration (the test would prove nothing otherwise)', () => {
    assert.ok(forbidden.length > 5 && forbidden.length < N - 5, `${forbidden.length} forbidden of ${N}`);
  });

  const styles = [
    { style: 'link', url: '/link/employees?per_page=25', how: /Link: rel="next"/ },
    { style: 'next', url: '/next/employees', how: /next-page URL in "next"/ },
    {
      style: 'cursor',
      url: '/cursor/employees?pageSize=25',
      how: /cursor in "nextPageToken", sent back as \?pageToken=/,
    },
    { style: 'page', url: '/page/employees?limit=25', how: /\?page= counted up/ },
    { style: 'offset', url: '/offset/employees?limit=25', how: /\?offset= advanced/ },
  ];
  for (const { style, url, how } of styles)
    it(`walks a list paginated by ${style}, fetches each record once, and names the forbidden ones and what separates them`, async () => {
      await resetHits(app.origin);
      const state = join(dir, `${style}.sqlite`);
      const out = join(dir, `${style}.csv`);
      const r = await runCli(
        [
          'scan',
          '--list',
          app.origin + url,
          '--get',
          `${app.origin}/employees/{id}`,
          ...AS_INTEGRATION,
          '--state',
          state,
          '--out',
          out,
          '--json',
          '--quiet',
        ],
        60_000,
      );
      assert.equal(r.code, 1, r.stderr);
      const s = parse(r.stdout);
      assert.match(s.run.notes.join('\n'), how);
      assert.equal(s.records.total, N);
      assert.equal(s.records.done, N);
      assert.equal(s.complete, true);
      assert.deepEqual(s.byStatus, { '200': N - forbidden.length, '403': forbidden.length });
      assert.deepEqual(forbiddenFromCsv(out), forbidden);
      // One answer shape, diagnosed once, with what the scan proved: the refusal depends on the record.
      assert.equal(s.signatures.length, 1);
      assert.equal(s.signatures[0].count, forbidden.length);
      assert.equal(s.signatures[0].status, 403);
      assert.equal(s.signatures[0].cause, 'field-restricted');
      assert.equal(s.signatures[0].report.schema, 'why403/report@1');
      assert.ok(s.signatures[0].report.causes.every((c) => c.id !== 'credential-invalid' && c.id !== 'ip-restricted'));
      assert.equal(s.separation[0]?.field, 'department');
      assert.deepEqual(s.separation[0].values, ['HR']);
      assert.equal(s.separation[0].exact, true);
      assert.match(
        s.separation[0].statement,
        new RegExp(
          `all ${forbidden.length} forbidden records have department = HR; none of the ${N - forbidden.length} allowed`,
        ),
      );
      // Every record fetched exactly once; the list walked page by page (25 a page).
      const h = await hits(app.origin);
      const { __lists: lists, ...perId } = h;
      assert.deepEqual(
        Object.keys(perId).sort(),
        employees(N)
          .map((e) => e.id)
          .sort(),
      );
      assert.ok(
        Object.values(perId).every((n) => n === 1),
        JSON.stringify(perId),
      );
      assert.equal(lists, Math.ceil(N / 25));
      assert.equal(s.run.requests.listPages, lists);
      assert.ok(!r.stdout.includes('Bearer integration'), 'the credential is not printed');
    });

  it('prints the summary for a person: statuses, the signature with its diagnosis, the separating field', async () => {
    const r = await runCli(
      [
        'scan',
        '--list',
        `${app.origin}/next/employees`,
        '--get',
        `${app.origin}/employees/{id}`,
        ...AS_INTEGRATION,
        '--state',
        join(dir, 'human.sqlite'),
        '--quiet',
      ],
      60_000,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Records: 120 +200 OK: 100 +403 Forbidden: 20/);
    assert.match(r.stdout, /Denied: 20 records, 1 distinct answer/);
    assert.match(r.stdout, /field-restricted/);
    assert.match(
      r.stdout.replace(/\s+/g, ' '),
      /all 20 forbidden records have department = HR; none of the 100 allowed records do/,
    );
    assert.doesNotMatch(r.stdout, /Bearer integration/);
  });

  it('an identity allowed everything: exit 0, nothing to separate', async () => {
    const r = await runCli(
      [
        'scan',
        '--list',
        `${app.origin}/offset/employees`,
        '--get',
        `${app.origin}/employees/{id}`,
        '-H',
        'Authorization: Bearer admin',
        '--state',
        join(dir, 'admin.sqlite'),
        '--json',
        '--quiet',
      ],
      60_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const s = parse(r.stdout);
    assert.deepEqual(s.byStatus, { '200': N });
    assert.equal(s.separationNote, 'no record was denied');
  });

  it('scan diff names the records newly forbidden between two scans, and warns that the identity changed', async () => {
    const r = await runCli(['scan', 'diff', join(dir, 'admin.sqlite'), join(dir, 'offset.sqlite'), '--json']);
    assert.equal(r.code, 1, r.stderr);
    const d = JSON.parse(r.stdout) as {
      counts: Record<string, number>;
      newlyForbidden: { id: string; before: number; after: number; cause?: string }[];
      warnings: string[];
    };
    assert.equal(d.counts.newlyForbidden, forbidden.length);
    assert.equal(d.counts.newlyAllowed, 0);
    assert.equal(d.counts.unchanged, N - forbidden.length);
    assert.deepEqual(
      d.newlyForbidden.map((e) => e.id),
      forbidden,
    );
    assert.equal(d.newlyForbidden[0].cause, 'field-restricted');
    assert.ok(
      d.warnings.some((w) => /different headers/.test(w)),
      d.warnings.join('; '),
    );
    const back = await runCli(['scan', 'diff', join(dir, 'offset.sqlite'), join(dir, 'admin.sqlite')]);
    assert.equal(back.code, 0);
    assert.match(back.stdout, /newly forbidden: 0 +newly allowed: 20/);
  });

  it('a list the identity may not read: the list itself is diagnosed, nothing else is fetched', async () => {
    await resetHits(app.origin);
    const r = await runCli([
      'scan',
      '--list',
      `${app.origin}/next/employees`,
      '--get',
      `${app.origin}/employees/{id}`,
      '--state',
      join(dir, 'anon.sqlite'),
      '--json',
      '--quiet',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the identity cannot list the records/);
    const report = JSON.parse(r.stdout) as { status: number; causes: { id: string }[] };
    assert.equal(report.status, 401);
    assert.equal(report.causes[0].id, 'credential-missing');
    const { __lists: lists, ...perId } = await hits(app.origin);
    assert.equal(lists, 1);
    assert.deepEqual(perId, {});
  });

  it('ids from a CSV column: the other columns are the fields compared', async () => {
    const csv = join(dir, 'ids.csv');
    writeFileSync(
      csv,
      'name,employee_id,department\n' +
        employees(60)
          .map((e) => `${e.name},${e.id},${e.department}`)
          .join('\n') +
        '\n',
    );
    const r = await runCli([
      'scan',
      '--ids',
      csv,
      '--column',
      'employee_id',
      '--get',
      `${app.origin}/employees/{id}`,
      ...AS_INTEGRATION,
      '--state',
      join(dir, 'csv.sqlite'),
      '--json',
      '--quiet',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const s = parse(r.stdout);
    assert.equal(s.records.done, 60);
    assert.equal(s.records.denied, expectedForbidden(60, 'integration').length);
    assert.equal(s.separation[0]?.field, 'department');
  });

  it('ids from standard input, one a line; ids alone give nothing to separate', async () => {
    const ids = employees(30).map((e) => e.id);
    const r = await runInProcess(
      [
        'scan',
        '--ids',
        '-',
        '--get',
        `${app.origin}/employees/{id}`,
        ...AS_INTEGRATION,
        '--state',
        join(dir, 'stdin.sqlite'),
        '--json',
        '--quiet',
      ],
      ids.join('\n') + '\n' + ids[0] + '\n',
    );
    assert.equal(r.code, 1, r.stderr);
    const s = parse(r.stdout);
    assert.equal(s.records.total, 30);
    assert.equal(s.duplicates, 1);
    assert.equal(s.records.denied, expectedForbidden(30, 'integration').length);
    assert.match(s.separationNote ?? '', /ids only/);
  });

  it('--dry-run sends nothing', async () => {
    await resetHits(app.origin);
    const r = await runCli([
      'scan',
      '--list',
      `${app.origin}/next/employees`,
      '--get',
      `${app.origin}/employees/{id}`,
      ...AS_INTEGRATION,
      '--dry-run',
      '--state',
      join(dir, 'dry.sqlite'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /would walk the list: GET .*\/next\/employees/);
    assert.match(r.stdout, /would send, for each record: GET .*\/employees\/\{id\}/);
    assert.doesNotMatch(r.stdout, /Bearer integration/);
    assert.deepEqual(await hits(app.origin), {});
    assert.equal(existsSync(join(dir, 'dry.sqlite')), false);
  });

  it('bad input: one line and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['scan', '--list', `${app.origin}/next/employees`], /needs --get/],
      [
        ['scan', '--list', `${app.origin}/next/employees`, '--get', `${app.origin}/employees/`],
        /expected a URL with \{id\}/,
      ],
      [['scan', '--ids', join(dir, 'nope.txt'), '--get', `${app.origin}/employees/{id}`], /no such file/],
      [['scan', '--ids', '-', '--get', `${app.origin}/employees/{id}`, '-X', 'DELETE'], /refusing to send DELETE/],
      [
        [
          'scan',
          '--list',
          `${app.origin}/next/employees`,
          '--get',
          `${app.origin}/employees/{id}`,
          '--state',
          join(dir, 'admin.sqlite'),
        ],
        /already exists/,
      ],
      [['scan', '--resume', join(dir, 'nope.sqlite')], /no such state file/],
      [['scan', '--resume', join(dir, 'offset.sqlite')], /give it again with -H 'Authorization: …'/],
      [
        ['scan', '--resume', join(dir, 'offset.sqlite'), '-H', 'Authorization: Bearer admin'],
        /not the one the scan started with/,
      ],
      [['scan', '--ids', '-', '--get', `${app.origin}/employees/{id}`, '--rate', 'fast'], /--rate "fast"/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});

async function waitForHits(origin: string, atLeast: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { __lists: _l, ...perId } = await hits(origin);
    if (Object.values(perId).reduce((a, b) => a + b, 0) >= atLeast) return;
    if (Date.now() > until) throw new Error(`fewer than ${atLeast} records fetched within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('why403 scan: killed mid-scan, resumed', () => {
  let app: RunningServer;
  let dir: string;
  const N = 300;
  const forbidden = expectedForbidden(N, 'integration');

  before(async () => {
    app = await startScanApp({ records: N });
    dir = makeTempDir('why403-scan-kill-');
  });
  after(async () => {
    await app?.stop();
    if (dir) removeDir(dir);
  });

  it('SIGKILL: the resumed scan loses no record and fetches again only those in flight when it died', async () => {
    await resetHits(app.origin);
    const state = join(dir, 'killed.sqlite');
    const args = [
      'scan',
      '--list',
      `${app.origin}/cursor/employees?pageSize=50`,
      '--get',
      `${app.origin}/employees/{id}`,
      ...AS_INTEGRATION,
      '--state',
      state,
      '--rate',
      '100/s',
      '--concurrency',
      '4',
      '--json',
      '--quiet',
    ];
    const first = startScan(args);
    await waitForHits(app.origin, 80);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, -1);
    // Requests already written when the process died may still be arriving.
    await sleep(300);
    const before = await hits(app.origin);
    const { __lists: _l1, ...fetchedBefore } = before;
    const nBefore = Object.keys(fetchedBefore).length;
    assert.ok(nBefore >= 80 && nBefore < N, `${nBefore} fetched before the kill`);

    const resumed = await runCli(['scan', '--resume', state, ...AS_INTEGRATION, '--json', '--quiet'], 60_000);
    assert.equal(resumed.code, 1, resumed.stderr);
    const s = parse(resumed.stdout);
    assert.equal(s.records.total, N);
    assert.equal(s.records.done, N);
    assert.deepEqual(s.byStatus, { '200': N - forbidden.length, '403': forbidden.length });
    const { __lists: _l2, ...perId } = await hits(app.origin);
    assert.deepEqual(
      Object.keys(perId).sort(),
      employees(N)
        .map((e) => e.id)
        .sort(),
      'every record fetched',
    );
    const twice = Object.entries(perId).filter(([, n]) => n > 1);
    assert.ok(twice.every(([, n]) => n === 2));
    // Only records in flight at the kill (at most --concurrency) are fetched again; every finished one was on disk.
    assert.ok(twice.length <= 4, `fetched twice: ${twice.map(([id]) => id).join(', ')}`);
    assert.ok(twice.every(([id]) => fetchedBefore[id] === 1));
    // The resume note counts those, the records requested again, not the batch the workers had taken.
    assert.equal(s.run.requeued, twice.length, `requeued ${s.run.requeued}, fetched twice ${twice.length}`);
    const note = s.run.notes.find((l) => /in flight when the scan stopped/.test(l));
    if (twice.length)
      assert.equal(
        note,
        `${twice.length} record${twice.length === 1 ? ' was' : 's were'} in flight when the scan stopped (sent, no answer recorded); requested again`,
      );
    else assert.equal(note, undefined);
    // Plus, at most, one request for an example of a denial first seen before the kill, to diagnose it again.
    const expected = N - nBefore + twice.length;
    assert.ok(
      s.run.requests.records >= expected && s.run.requests.records <= expected + 1,
      `${s.run.requests.records} requests, expected ${expected}`,
    );
  });

  it('Ctrl-C (SIGINT): the requests in flight are ended, exit 130, and the resumed scan fetches every record, again only those in flight', async () => {
    await resetHits(app.origin);
    const state = join(dir, 'interrupted.sqlite');
    const out = join(dir, 'interrupted.csv');
    const first = startScan([
      'scan',
      '--list',
      `${app.origin}/link/employees?per_page=100`,
      '--get',
      `${app.origin}/employees/{id}`,
      ...AS_INTEGRATION,
      '--state',
      state,
      '--rate',
      '100/s',
      '--progress-interval',
      '0.2',
    ]);
    await waitForHits(app.origin, 60);
    first.child.kill('SIGINT');
    assert.equal(await first.exited, 130, first.out().stderr);
    assert.match(first.out().stderr, /stopping; the requests in flight \(at most 4\) are ended/);
    assert.match(first.out().stderr, /continue with: why403 scan --resume/);
    assert.match(first.out().stderr, /^scan: \d+\/\d+\+? done, \d+ denied, 0 errors/m);
    assert.match(first.out().stdout, /unfinished: \d+ of \d+ records left/);

    const resumed = await runCli(
      ['scan', '--resume', state, ...AS_INTEGRATION, '--out', out, '--json', '--quiet'],
      60_000,
    );
    assert.equal(resumed.code, 1, resumed.stderr);
    const s = parse(resumed.stdout);
    assert.equal(s.records.done, N);
    assert.equal(s.run.requeued, 0);
    const { __lists: _l, ...perId } = await hits(app.origin);
    assert.equal(Object.keys(perId).length, N);
    // The requests ended by Ctrl-C (at most --concurrency) stayed pending: fetched again, every other record once.
    const twice = Object.entries(perId).filter(([, n]) => n > 1);
    assert.ok(
      twice.length <= 4 && twice.every(([, n]) => n === 2),
      `fetched twice: ${twice.map(([id]) => id).join(', ')}`,
    );
    assert.deepEqual(forbiddenFromCsv(out), forbidden);
  });
});

describe('why403 scan: 429 with Retry-After, and a record that times out', () => {
  let app: RunningServer;
  let dir: string;

  before(async () => {
    app = await startScanApp({ records: 40, rateLimit: 10, rateWindowMs: 1000, slowId: 'e0005', slowMs: 4000 });
    dir = makeTempDir('why403-scan-limits-');
  });
  after(async () => {
    await app?.stop();
    if (dir) removeDir(dir);
  });

  it("honours express-rate-limit's 429 and Retry-After: every worker waits, no record is recorded as 429", async () => {
    await resetHits(app.origin);
    const r = await runCli(
      [
        'scan',
        '--list',
        `${app.origin}/offset/employees?limit=40`,
        '--get',
        `${app.origin}/limited/employees/{id}`,
        ...AS_INTEGRATION,
        '--state',
        join(dir, 'limited.sqlite'),
        '--json',
        '--quiet',
      ],
      60_000,
    );
    assert.equal(r.code, 1, r.stderr);
    const s = parse(r.stdout);
    const forbidden = expectedForbidden(40, 'integration').length;
    assert.deepEqual(s.byStatus, { '200': 40 - forbidden, '403': forbidden });
    assert.ok(s.run.requests.rateLimitWaits > 0, 'the server did answer 429');
    const { __lists: _l, ...perId } = await hits(app.origin);
    const sent = Object.values(perId).reduce((a, b) => a + b, 0);
    assert.equal(sent, 40 + s.run.requests.rateLimitWaits);
    assert.equal(s.run.requests.records, sent);
  });

  it('a Retry-After longer than --max-wait stops the scan: exit 75, said in words; --resume finishes it', async () => {
    const state = join(dir, 'max-wait.sqlite');
    const list = `${app.origin}/offset/employees?limit=40`;
    const get = `${app.origin}/limited/employees/{id}`;
    const args = ['--get', get, ...AS_INTEGRATION, '--state', state, '--max-wait', '0.5', '--json', '--quiet'];
    const r = await runCli(['scan', '--list', list, ...args], 60_000);
    assert.equal(r.code, 75, r.stderr);
    const s = parse(r.stdout);
    const words = /^127\.0\.0\.1:\d+ asked to wait \d+ s \(Retry-After\), longer than --max-wait; resume later$/;
    assert.match(s.run.stopped ?? '', words);
    assert.match(r.stderr, /scan: stopped: .* asked to wait .*\. \d+ records left; continue with: why403 scan/);
    assert.ok(s.records.pending > 0, 'records are left for --resume');
    const resumed = await runCli(['scan', '--resume', state, ...AS_INTEGRATION, '--json', '--quiet'], 60_000);
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.equal(parse(resumed.stdout).records.done, 40);
  });

  it('a record that does not answer within --timeout is retried, then recorded as an error (not dropped)', async () => {
    await resetHits(app.origin);
    const r = await runCli(
      [
        'scan',
        '--list',
        `${app.origin}/page/employees?limit=20`,
        '--get',
        `${app.origin}/employees/{id}`,
        ...AS_INTEGRATION,
        '--state',
        join(dir, 'slow.sqlite'),
        '--timeout',
        '0.5',
        '--retries',
        '1',
        '--json',
        '--quiet',
      ],
      60_000,
    );
    assert.equal(r.code, 1, r.stderr);
    const s = parse(r.stdout);
    assert.equal(s.records.done, 40);
    assert.equal(s.records.errors, 1);
    assert.equal(s.byStatus.error, 1);
    assert.deepEqual(s.errors[0].examples, ['e0005']);
    assert.match(s.errors[0].error, /no response within 500 ms/);
    assert.equal(s.run.requests.retries, 1);
    assert.equal((await hits(app.origin)).e0005, 2);
  });
});
