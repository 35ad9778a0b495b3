// `why403 events` as a user runs it: files written by the real sinks
// (sqliteSink, jsonLinesSink), every output format with its exact text,
// --since, standard input, and bad input answered with exit 2 and one line.
// Run in-process through eventsCommand, with the error handling main.ts gives
// every command (the command's wiring into main.ts is not this file's).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync, writeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { denialEvent, jsonLinesSink, type DenialSink } from '../../src/middleware/events.ts';
import { sqliteSink } from '../../src/middleware/sinks/sqlite.ts';
import { eventsCommand, EVENTS_HELP } from '../../src/cli/events.ts';
import { Why403Error } from '../../src/errors.ts';
import { errorKind, exitCode } from '../../src/cli/exit-code.ts';
import type { Io } from '../../src/cli/io.ts';

const dir = mkdtempSync(join(tmpdir(), 'why403-events-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 5, 14, 0, 0);
const MIN = 60_000;
const TOKEN = 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

function writeDenials(sink: DenialSink, t0 = T0) {
  const scope = {
    cause: 'insufficient-scope' as const,
    scheme: 'Bearer' as const,
    gap: { required: ['write:orders'], held: ['read:orders'] },
    rule: 'scope write:orders',
  };
  const alice = { method: 'POST', route: '/orders/:id', principal: 'alice', client: '10.0.0.5' };
  sink.emit(denialEvent(scope, alice, { now: t0 }));
  sink.emit(denialEvent(scope, alice, { now: t0 + MIN }));
  sink.emit(
    denialEvent(
      { cause: 'not-owner', rule: 'owner of order', resource: 'order-9' },
      { method: 'GET', route: '/orders/:id', principal: 'bob' },
      { now: t0 + 5 * MIN, hidden: true },
    ),
  );
  sink.emit(
    denialEvent(
      { cause: 'credential-missing', scheme: 'Bearer', rule: 'authenticated caller' },
      { method: 'GET', route: '/orders', client: '10.0.0.7' },
      { now: t0 + 5 * MIN },
    ),
  );
}

const sqlitePath = join(dir, 'denials.sqlite');
const jsonPath = join(dir, 'denials.jsonl');
{
  const sink = sqliteSink(sqlitePath);
  writeDenials(sink);
  sink.close();
  const fd = openSync(jsonPath, 'w');
  writeDenials(jsonLinesSink({ write: (chunk: string) => writeSync(fd, chunk) }));
  closeSync(fd);
}

async function run(args: string[], stdin = '') {
  let out = '';
  let err = '';
  const sinkOf = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  // Wide, so the report's first line (which names the temporary file) is not wrapped.
  const io: Io = {
    stdout: Object.assign(
      sinkOf((s) => (out += s)),
      { columns: 200 },
    ),
    stderr: sinkOf((s) => (err += s)),
    stdin: Readable.from(stdin ? [Buffer.from(stdin)] : []),
    env: {},
  };
  let code: number;
  try {
    code = await eventsCommand(args, io);
  } catch (e) {
    // What main.ts does with a command's error: one line, the exit code of its kind.
    err += `why403: ${e instanceof Why403Error ? e.message : (e as Error).message.split('\n')[0]}\n`;
    code = exitCode({ kind: 'error', error: errorKind(e) });
  }
  return { code, out, err };
}

const TERMINAL = `4 denials — read ${sqlitePath} (SQLite, 4 events)
  from 2026-12-05 14:00:00Z to 2026-12-05 14:05:00Z

Over time (1-minute buckets)
  ▄▄   █
  peak 2 at 2026-12-05 14:05:00Z

Why (cause and rule)
  insufficient-scope ×2 — scope write:orders
    required write:orders; held read:orders
    POST /orders/:id ×2
  credential-missing ×1 — authenticated caller
    GET /orders ×1
  not-owner ×1 — owner of order
    GET /orders/:id ×1

By status
  2  403
  1  401

Hidden as 404 (by what they were)
  1  403

By principal
  2  alice
  1  (anonymous)
  1  bob

By route
  2  POST /orders/:id
  1  GET /orders
  1  GET /orders/:id

By client
  2  10.0.0.5
  1  10.0.0.7
`;

test('events FILE.sqlite: the terminal report, exactly', async () => {
  const r = await run([sqlitePath]);
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
  assert.equal(r.out, TERMINAL);
});

test('events FILE.jsonl: the same report from jsonLinesSink’s lines', async () => {
  const r = await run([jsonPath]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, TERMINAL.replace(`${sqlitePath} (SQLite,`, `${jsonPath} (JSON lines,`));
});

test('events --markdown: an incident note, exactly', async () => {
  const r = await run(['--markdown', sqlitePath]);
  assert.equal(r.code, 0, r.err);
  assert.equal(
    r.out,
    `# Denials the API explained: 4

Read \`${sqlitePath}\` (SQLite, 4 events), from 2026-12-05 14:00:00Z to 2026-12-05 14:05:00Z.

## Why

| count | cause | rule | example gap |
|---|---|---|---|
| 2 | insufficient-scope | scope write:orders | required write:orders; held read:orders |
| 1 | credential-missing | authenticated caller |  |
| 1 | not-owner | owner of order |  |

## By status

| count | |
|---|---|
| 2 | 403 |
| 1 | 401 |

## Hidden as 404 (by what they were)

| count | |
|---|---|
| 1 | 403 |

## By principal

| count | |
|---|---|
| 2 | alice |
| 1 | (anonymous) |
| 1 | bob |

## By route

| count | |
|---|---|
| 2 | POST /orders/:id |
| 1 | GET /orders |
| 1 | GET /orders/:id |

## By client

| count | |
|---|---|
| 2 | 10.0.0.5 |
| 1 | 10.0.0.7 |

## Over time

\`▄▄   █\` (1-minute buckets from 2026-12-05 14:00:00Z); peak 2 at 2026-12-05 14:05:00Z
`,
  );
});

test('events --json: why403/events@1 over both files', async () => {
  const r = await run(['--json', sqlitePath, jsonPath]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.schema, 'why403/events@1');
  assert.deepEqual(report.sources, [
    { file: sqlitePath, format: 'sqlite', read: 4, events: 4, notEvents: 0, tooLong: 0 },
    { file: jsonPath, format: 'json-lines', read: 4, events: 4, notEvents: 0, tooLong: 0 },
  ]);
  assert.equal(report.denials, 8);
  assert.deepEqual(report.byReason[0], {
    cause: 'insufficient-scope',
    rule: 'scope write:orders',
    count: 4,
    exampleGap: { required: ['write:orders'], held: ['read:orders'] },
    routes: [{ key: 'POST /orders/:id', count: 4 }],
  });
  assert.deepEqual(report.hidden, [{ key: '403', count: 2 }]);
  assert.deepEqual(
    report.overTime.counts,
    [4, 4, 0, 0, 0, 8].map((x) => x / 2),
  );
});

test('events --since: an ISO time, and a duration ago', async () => {
  const at = await run(['--json', '--since', '2026-12-05T14:01:00Z', '--until', '2026-12-05T14:04:00Z', sqlitePath]);
  assert.equal(at.code, 0, at.err);
  const report = JSON.parse(at.out);
  assert.equal(report.denials, 1);
  assert.deepEqual(report.window, {
    since: '2026-12-05T14:01:00.000Z',
    until: '2026-12-05T14:04:00.000Z',
    first: '2026-12-05T14:01:00.000Z',
    last: '2026-12-05T14:01:00.000Z',
  });

  // Denials written 3 hours and 2 minutes ago, on standard input: `--since 1h` keeps the recent two.
  const now = Date.now();
  let lines = '';
  writeDenials({
    emit: (e) => void (lines += JSON.stringify({ ...e, time: e.time - T0 + now - 3 * 60 * MIN }) + '\n'),
  });
  writeDenials({ emit: (e) => void (lines += JSON.stringify({ ...e, time: e.time - T0 + now - 7 * MIN }) + '\n') });
  const ago = await run(['--json', '--since', '1h', '-'], lines);
  assert.equal(ago.code, 0, ago.err);
  const recent = JSON.parse(ago.out);
  assert.equal(recent.denials, 4);
  assert.equal(recent.sources[0].file, '-');
  assert.equal(recent.window.first, new Date(now - 7 * MIN).toISOString());
});

test('lines that are not events are counted and noted, never fatal; no secret is printed', async () => {
  const mixed = join(dir, 'app.log');
  writeFileSync(
    mixed,
    [
      JSON.stringify({ level: 30, time: T0, msg: 'request', req: { headers: { authorization: TOKEN } } }),
      readFileSync(jsonPath, 'utf8').trim(),
      'a plain text line',
      '',
    ].join('\n'),
  );
  const r = await run([mixed]);
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.startsWith(`4 denials — read ${mixed} (JSON lines, 4 events)\n`));
  assert.ok(r.out.endsWith(`note: ${mixed}: 2 lines not denial events\n`));
  assert.ok(!r.out.includes('eyJ'), 'the other lines are not printed');
});

test('bad input: exit 2 and one line', async () => {
  const notes = join(dir, 'notes.txt');
  writeFileSync(notes, 'hello\n');
  const cases: [string[], string][] = [
    [[join(dir, 'missing.sqlite')], `why403: ${join(dir, 'missing.sqlite')}: no such file\n`],
    [
      [notes],
      `why403: ${notes}: is not JSON lines of denial events: none of its first 1 lines is a JSON object (why403 events reads sqliteSink's SQLite files and jsonLinesSink's or pino's JSON lines)\n`,
    ],
    [[], 'why403: events needs at least one FILE (or - for standard input)\n'],
    [['--json', '--markdown', sqlitePath], 'why403: events: --json and --markdown cannot be used together\n'],
    [['-', '-'], 'why403: events: standard input (-) can be read once\n'],
    [
      ['--since', 'yesterday', sqlitePath],
      'why403: --since: expected a time such as 2026-12-05T14:00 or a duration ago such as 2h, got "yesterday"\n',
    ],
    [['--since', '1h', '--until', '2h', sqlitePath], 'why403: events: --since is after --until\n'],
    [
      ['--bogus', sqlitePath],
      "why403: Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--bogus\"\n",
    ],
  ];
  for (const [args, message] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.out, '');
    assert.equal(r.err, message);
  }
});

test('events --help', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  assert.equal(r.out, EVENTS_HELP);
  for (const line of EVENTS_HELP.split('\n')) assert.ok(line.length <= 80, line);
});
