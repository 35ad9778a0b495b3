// Reading and summing denial events: files written by the real sinks
// (sqliteSink, jsonLinesSink, pinoSink through a real pino logger), the
// exact summary, the window, and the bounds: lines that are not events,
// lines over 64 KiB, capped tallies, inputs that are not events files.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DatabaseSync } from 'node:sqlite';
import pino from 'pino';
import { denialEvent, jsonLinesSink, pinoSink, type DenialSink } from '../middleware/events.ts';
import type { Denial } from '../middleware/denial.ts';
import { sqliteSink } from '../middleware/sinks/sqlite.ts';
import { analyzeEvents, MAX_KEYS } from './analyze.ts';
import { eventOf } from './read.ts';

const dir = mkdtempSync(join(tmpdir(), 'why403-events-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 5, 14, 0, 0);
const MIN = 60_000;
const scope: Denial = {
  cause: 'insufficient-scope',
  scheme: 'Bearer',
  gap: { required: ['write:orders'], held: ['read:orders'] },
  rule: 'scope write:orders',
};
const owner: Denial = { cause: 'not-owner', rule: 'owner of order', resource: 'order-9' };
const missing: Denial = { cause: 'credential-missing', scheme: 'Bearer', rule: 'authenticated caller' };

/** The same seven denials, over ten minutes, into a sink. */
function writeDenials(sink: DenialSink) {
  const at = (m: number) => ({ now: T0 + m * MIN });
  const alice = { method: 'POST', route: '/orders/:id', principal: 'alice', client: '10.0.0.5' };
  sink.emit(denialEvent(scope, alice, at(0)));
  sink.emit(denialEvent(scope, alice, at(1)));
  sink.emit(denialEvent(scope, { ...alice, principal: 'bob' }, at(1)));
  sink.emit(
    denialEvent(
      owner,
      { method: 'GET', route: '/orders/:id', principal: 'bob', client: '10.0.0.6' },
      { ...at(2), hidden: true },
    ),
  );
  sink.emit(denialEvent(missing, { method: 'GET', route: '/orders', client: '10.0.0.7' }, at(9)));
  sink.emit(denialEvent(missing, { method: 'GET', route: '/orders', client: '10.0.0.7' }, at(9)));
  sink.emit(denialEvent(missing, { method: 'GET', route: '/orders', client: '10.0.0.7' }, at(10)));
}

const EXPECTED_BODY = {
  denials: 7,
  byReason: [
    {
      cause: 'credential-missing',
      rule: 'authenticated caller',
      count: 3,
      routes: [{ key: 'GET /orders', count: 3 }],
    },
    {
      cause: 'insufficient-scope',
      rule: 'scope write:orders',
      count: 3,
      exampleGap: { required: ['write:orders'], held: ['read:orders'] },
      routes: [{ key: 'POST /orders/:id', count: 3 }],
    },
    { cause: 'not-owner', rule: 'owner of order', count: 1, routes: [{ key: 'GET /orders/:id', count: 1 }] },
  ],
  byPrincipal: [
    { key: '(anonymous)', count: 3 },
    { key: 'alice', count: 2 },
    { key: 'bob', count: 2 },
  ],
  byRoute: [
    { key: 'GET /orders', count: 3 },
    { key: 'POST /orders/:id', count: 3 },
    { key: 'GET /orders/:id', count: 1 },
  ],
  byClient: [
    { key: '10.0.0.5', count: 3 },
    { key: '10.0.0.7', count: 3 },
    { key: '10.0.0.6', count: 1 },
  ],
  byStatus: [
    { key: '401', count: 3 },
    { key: '403', count: 3 },
  ],
  hidden: [{ key: '403', count: 1 }],
  overTime: {
    bucketSeconds: 60,
    start: '2026-12-05T14:00:00.000Z',
    counts: [1, 2, 1, 0, 0, 0, 0, 0, 0, 2, 1],
    peak: { at: '2026-12-05T14:01:00.000Z', count: 2 },
  },
};

const sqlitePath = join(dir, 'denials.sqlite');
const jsonPath = join(dir, 'denials.jsonl');

async function writeFiles() {
  const sink = sqliteSink(sqlitePath);
  writeDenials(sink);
  sink.close();
  const stream = createWriteStream(jsonPath);
  writeDenials(jsonLinesSink(stream));
  stream.end();
  await once(stream, 'close');
}
const written = writeFiles();

test('a SQLite file written by sqliteSink, summed exactly', async () => {
  await written;
  const report = await analyzeEvents([sqlitePath]);
  assert.deepEqual(report, {
    schema: 'why403/events@1',
    sources: [{ file: sqlitePath, format: 'sqlite', read: 7, events: 7, notEvents: 0, tooLong: 0 }],
    window: { first: '2026-12-05T14:00:00.000Z', last: '2026-12-05T14:10:00.000Z' },
    ...EXPECTED_BODY,
    notes: [],
  });
});

test('JSON lines written by jsonLinesSink give the same summary as the SQLite file', async () => {
  await written;
  const report = await analyzeEvents([jsonPath]);
  assert.deepEqual(report.sources, [
    { file: jsonPath, format: 'json-lines', read: 7, events: 7, notEvents: 0, tooLong: 0 },
  ]);
  const { schema: _s, sources: _src, ...rest } = report;
  assert.deepEqual(rest, {
    window: { first: '2026-12-05T14:00:00.000Z', last: '2026-12-05T14:10:00.000Z' },
    ...EXPECTED_BODY,
    notes: [],
  });
});

test('both files at once add up; --since and --until window them (SQLite by its index, lines one by one)', async () => {
  await written;
  const both = await analyzeEvents([sqlitePath, jsonPath]);
  assert.equal(both.denials, 14);
  const since = new Date(T0 + 2 * MIN);
  const until = new Date(T0 + 9 * MIN);
  for (const file of [sqlitePath, jsonPath]) {
    const r = await analyzeEvents([file], { since, until });
    assert.equal(r.denials, 3, file);
    assert.deepEqual(r.window, {
      since: '2026-12-05T14:02:00.000Z',
      until: '2026-12-05T14:09:00.000Z',
      first: '2026-12-05T14:02:00.000Z',
      last: '2026-12-05T14:09:00.000Z',
    });
    assert.deepEqual(r.hidden, [{ key: '403', count: 1 }]);
    assert.deepEqual(r.byStatus, [{ key: '401', count: 2 }]);
    // Three denials in the two minutes before --since, three in the seven after it (to the last one).
    assert.deepEqual(r.rate, { before: 1.5, after: 0.43 }, file);
  }
  // Without --since there is nothing to compare with.
  assert.equal((await analyzeEvents([sqlitePath])).rate, undefined);
  // A window that holds none of a file's denials says so, not that the file has none.
  const later = await analyzeEvents([sqlitePath, jsonPath], { since: new Date(T0 + 60 * MIN) });
  assert.deepEqual(later.notes, [
    `${sqlitePath}: no denial events in the window`,
    `${jsonPath}: no denial events in the window`,
  ]);
});

test("a pino log, the app's other lines among the events, gzip and standard input", async () => {
  const logPath = join(dir, 'app.log');
  const destination = pino.destination({ dest: logPath, sync: true });
  const logger = pino({ base: { pid: 1, hostname: 'api-1' } }, destination);
  logger.info({ req: { method: 'GET', url: '/health' } }, 'request completed');
  const sink = pinoSink(logger);
  sink.emit(denialEvent(scope, { method: 'POST', route: '/orders/:id', principal: 'alice' }));
  logger.info('listening on 3000');
  sink.emit(denialEvent(missing, { method: 'GET', route: '/orders' }));
  destination.flushSync();
  const r = await analyzeEvents([logPath]);
  assert.equal(r.denials, 2);
  assert.deepEqual(r.sources[0], { file: logPath, format: 'json-lines', read: 4, events: 2, notEvents: 2, tooLong: 0 });
  assert.deepEqual(r.notes, [`${logPath}: 2 lines not denial events`]);
  assert.deepEqual(
    r.byReason.map((x) => [x.cause, x.count]),
    [
      ['credential-missing', 1],
      ['insufficient-scope', 1],
    ],
  );

  const { readFileSync } = await import('node:fs');
  const gz = join(dir, 'app.log.gz');
  writeFileSync(gz, gzipSync(readFileSync(logPath)));
  assert.equal((await analyzeEvents([gz])).denials, 2);
  const stdin = Readable.from([readFileSync(jsonPath)]);
  const fromStdin = await analyzeEvents(['-'], { stdin });
  assert.equal(fromStdin.denials, 7);
  assert.equal(fromStdin.sources[0]!.file, '-');
});

test('bounded: a line over 64 KiB is skipped and counted; tallies stop at 10,000 keys', async () => {
  const file = join(dir, 'many.jsonl');
  const lines: string[] = [];
  for (let i = 0; i <= MAX_KEYS + 4; i++)
    lines.push(JSON.stringify(denialEvent(scope, { method: 'GET', route: '/r', principal: `user-${i}` }, { now: T0 })));
  lines.push(JSON.stringify({ ...denialEvent(scope, { method: 'GET' }, { now: T0 }), rule: 'x'.repeat(70 * 1024) }));
  lines.push('not json at all', '{"schema":"why403/denial@1","cause":"csrf"}', '');
  writeFileSync(file, lines.join('\n') + '\n');
  const r = await analyzeEvents([file]);
  assert.equal(r.denials, MAX_KEYS + 5);
  assert.deepEqual(r.sources[0], {
    file,
    format: 'json-lines',
    read: MAX_KEYS + 9,
    events: MAX_KEYS + 5,
    notEvents: 2,
    tooLong: 1,
  });
  assert.deepEqual(r.byPrincipal[0], { key: '(others)', count: 5 });
  assert.equal(r.byPrincipal.length, 10);
  assert.deepEqual(r.notes, [`${file}: 2 lines not denial events, 1 lines skipped as longer than 64 KiB`]);
});

test('eventOf: only denial events, checked field by field; long strings clipped', () => {
  const e = denialEvent(scope, { method: 'POST', route: '/orders/:id', principal: 'p'.repeat(1000) }, { now: T0 });
  const read = eventOf(JSON.parse(JSON.stringify(e)))!;
  assert.equal(read.principal!.length, 256);
  assert.ok(read.principal!.endsWith('…'));
  assert.deepEqual(read.gap, scope.gap);
  assert.equal(eventOf({ ...e, schema: 'something/else@1' }), undefined);
  assert.equal(eventOf({ ...e, status: '403' }), undefined);
  assert.equal(eventOf({ ...e, time: 'yesterday' }), undefined);
  assert.equal(eventOf({ ...e, time: 1e300 }), undefined);
  assert.equal(eventOf([e]), undefined);
  // pino's ISO time (stdTimeFunctions.isoTime) is read too.
  assert.equal(eventOf({ ...e, time: '2026-12-05T14:00:00.000Z' })!.time, T0);
  // A malformed gap is dropped, the event kept.
  assert.equal(eventOf({ ...e, gap: { required: 'write' } })!.gap, undefined);
});

test('inputs that are not events files are refused in one line', async () => {
  const text = join(dir, 'access.log');
  writeFileSync(text, '127.0.0.1 - - [05/Dec/2026:14:00:00 +0000] "GET / HTTP/1.1" 403 12\n');
  await assert.rejects(analyzeEvents([text]), {
    name: 'InputError',
    message: `${text}: is not JSON lines of denial events: none of its first 1 lines is a JSON object (why403 events reads sqliteSink's SQLite files and jsonLinesSink's or pino's JSON lines)`,
  });
  const other = join(dir, 'scan-state.sqlite');
  const db = new DatabaseSync(other);
  db.exec('CREATE TABLE records (seq INTEGER PRIMARY KEY)');
  db.close();
  await assert.rejects(analyzeEvents([other]), {
    name: 'InputError',
    message: `${other}: is a SQLite file with no denials table (not one written by sqliteSink)`,
  });
  // A denials table another program wrote: refused in one line, not an internal error.
  const foreign = join(dir, 'foreign.sqlite');
  const fdb = new DatabaseSync(foreign);
  fdb.exec("CREATE TABLE denials (id INTEGER, who TEXT); INSERT INTO denials VALUES (1, 'x')");
  fdb.close();
  await assert.rejects(analyzeEvents([foreign]), {
    name: 'InputError',
    message: `${foreign}: has a denials table in another layout (no such column: time): not one written by sqliteSink`,
  });
  const binary = join(dir, 'image.png');
  writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
  await assert.rejects(analyzeEvents([binary]), { name: 'InputError' });
  await assert.rejects(analyzeEvents([join(dir, 'nope.jsonl')]), {
    name: 'InputError',
    message: `${join(dir, 'nope.jsonl')}: no such file`,
  });
  await assert.rejects(analyzeEvents([dir]), {
    name: 'InputError',
    message: `${dir}: is a directory, not an events file`,
  });
});

test('an empty file is read, with a note', async () => {
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  const r = await analyzeEvents([empty]);
  assert.equal(r.denials, 0);
  assert.deepEqual(r.overTime, { bucketSeconds: 60, counts: [] });
  assert.deepEqual(r.notes, [`${empty}: no denial events`]);
});
