// The scan's durability pieces on their own: the outcome log's group write,
// its replay after a crash, the batches moved into SQLite, and the client's
// hook that keeps a request from leaving before the outcomes already known
// are written. The whole command, killed for real, is in
// test/e2e/scan.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { ScanState, DONE, PENDING } from './state.ts';
import type { ScanConfig } from './config.ts';
import { createClient, failed } from './fetch.ts';

const config: ScanConfig = {
  source: { kind: 'ids', file: '-', format: 'lines' },
  template: 'http://127.0.0.1:1/items/{id}',
  method: 'GET',
  headers: [],
  concurrency: 4,
  timeoutMs: 5000,
  retries: 0,
  maxBody: 4096,
};

const dir = mkdtempSync(join(tmpdir(), 'why403-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const newState = () => ScanState.create(join(dir, `s${++n}.sqlite`), config);

const rows = (s: ScanState) =>
  s.db.prepare('SELECT id, state, status, signature, error FROM records ORDER BY seq').all() as {
    id: string;
    state: number;
    status: number | null;
    signature: string | null;
    error: string | null;
  }[];

describe('the outcome log', () => {
  it('outcomes of one turn share one write, made after the turn; flushLog writes at once', async () => {
    const s = newState();
    s.addRecords([{ id: 'a' }, { id: 'b' }, { id: 'c' }], {});
    s.record(1, { status: 200, ms: 1.234, attempts: 1 });
    s.record(2, { status: 403, ms: 2, attempts: 1, signature: 'k1' });
    assert.equal(existsSync(s.logPath), false, 'nothing is written before the turn ends');
    await turn();
    assert.deepEqual(readFileSync(s.logPath, 'utf8').split('\n'), [
      '[1,200,1.23,1,null,null]',
      '[2,403,2,1,"k1",null]',
      '',
    ]);
    s.record(3, { status: null, ms: 5, attempts: 3, error: 'connect ECONNREFUSED "x"' });
    s.flushLog();
    assert.match(readFileSync(s.logPath, 'utf8'), /\[3,null,5,3,null,"connect ECONNREFUSED \\"x\\""\]\n$/);
    // Not yet in the database: a reader sees them once applied.
    assert.equal(s.counts().done, 0);
    s.applyLog();
    assert.equal(readFileSync(s.logPath, 'utf8'), '', 'applied lines leave the log');
    assert.deepEqual(
      rows(s).map((r) => [r.id, r.state, r.status, r.signature, r.error]),
      [
        ['a', DONE, 200, null, null],
        ['b', DONE, 403, 'k1', null],
        ['c', DONE, null, null, 'connect ECONNREFUSED "x"'],
      ],
    );
    s.close();
    assert.equal(existsSync(s.logPath), false);
  });

  it('a killed scan: --resume applies what the log holds, skips a torn last line, and counts the records sent and unanswered', async () => {
    const path = join(dir, 'killed.sqlite');
    const s = ScanState.create(path, config);
    s.addRecords(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id })),
      {},
    );
    // A batch of six taken (the mark earlier versions counted); a, b, c and d sent, e and f not yet.
    s.taken(6);
    for (const seq of [1, 2, 3, 4]) s.sending(seq);
    s.sending(2); // a retry of b: still one record in flight
    s.record(1, { status: 200, ms: 1, attempts: 1 });
    s.record(3, { status: 403, ms: 1, attempts: 1, signature: 'k' });
    s.flushLog();
    // The outcomes reach the database and the log is emptied: b and d, still in flight, keep their sent lines.
    s.applyLog();
    assert.deepEqual(readFileSync(s.logPath, 'utf8').split('\n'), ['[2]', '[4]', '']);
    s.sending(5);
    s.record(5, { status: 200, ms: 1, attempts: 1 });
    s.flushLog();
    // The process dies here: no applyLog, no close. Its last write was torn.
    writeFileSync(s.logPath, '[6,200,1,1,null,nu', { flag: 'a' });
    s.db.close();

    const again = ScanState.resume(path);
    assert.deepEqual(
      rows(again).map((r) => [r.id, r.state, r.status]),
      [
        ['a', DONE, 200],
        ['b', PENDING, null],
        ['c', DONE, 403],
        ['d', PENDING, null],
        ['e', DONE, 200],
        ['f', PENDING, null],
      ],
    );
    assert.equal(existsSync(again.logPath), false, 'the replayed log is removed');
    // b and d were sent and never answered; f was taken but never sent, so it is not "requested again".
    assert.deepEqual(again.requeueInFlight(), { count: 2, sent: true });
    assert.deepEqual(again.requeueInFlight(), { count: 0, sent: true }, 'cleared once counted');
    again.close();
  });

  it('the records in flight survive a crash of the resumed process before it counts them', () => {
    const path = join(dir, 'killed-twice.sqlite');
    const s = ScanState.create(path, config);
    s.addRecords([{ id: 'a' }, { id: 'b' }], {});
    s.sending(1);
    s.flushLog();
    s.db.close();
    // Resumed (the log is read and removed), then killed before the scan ran.
    ScanState.resume(path).db.close();
    const third = ScanState.resume(path);
    assert.deepEqual(third.requeueInFlight(), { count: 1, sent: true });
    third.close();
  });

  it('a state file from an earlier version, without sent lines: the taken records left unfinished are counted as before', () => {
    const path = join(dir, 'earlier.sqlite');
    const s = ScanState.create(path, config);
    s.addRecords(
      ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id })),
      {},
    );
    s.db.prepare("DELETE FROM meta WHERE key = 'log.sent'").run();
    s.taken(4);
    s.record(1, { status: 200, ms: 1, attempts: 1 });
    s.record(3, { status: 403, ms: 1, attempts: 1, signature: 'k' });
    s.flushLog();
    s.db.close();
    const again = ScanState.resume(path);
    // b and d were taken (through seq 4) and never finished; e was never taken.
    assert.deepEqual(again.requeueInFlight(), { count: 2, sent: false });
    // This run writes sent lines: the next count is exact.
    assert.deepEqual(again.requeueInFlight(), { count: 0, sent: true });
    again.close();
  });

  it('an outcome log that cannot be written stops the scan with the reason, and keeps the outcomes for the database', async () => {
    const s = newState();
    s.addRecords([{ id: 'a' }], {});
    // A folder where the log file should be: opening it for appending fails.
    mkdirSync(s.logPath);
    s.record(1, { status: 200, ms: 1, attempts: 1 });
    await turn();
    assert.equal(
      (s.writeError as NodeJS.ErrnoException | undefined)?.code,
      'EISDIR',
      'the failed write is kept for the workers to see',
    );
    assert.throws(() => s.flushLog(), { code: 'EISDIR' });
    s.applyLog();
    assert.equal(rows(s)[0].status, 200);
    s.db.close();
  });
});

describe('the scan client', () => {
  let server: Server;
  let origin = '';
  const seen: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(req.url?.endsWith('0') ? 403 : 200, { 'content-type': 'application/json' });
      res.end(req.url?.endsWith('0') ? '{"error":"forbidden"}' : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  /** One connection to the test server, with the hook under test. */
  const clientWith = (beforeSend: () => void) =>
    createClient({ url: `${origin}/items/x`, origin, concurrency: 1, timeoutMs: 5000, maxBody: 1024, beforeSend });

  it('calls beforeSend before each request leaves, on a reused connection too; keeps only the bodies asked for', async () => {
    const order: string[] = [];
    const client = clientWith(() => order.push(`before ${seen.length}`));
    try {
      for (const id of ['1', '10', '2']) {
        const r = await client.send(
          { method: 'GET', url: `${origin}/items/${id}`, headers: [] },
          (status) => status === 403,
          0,
        );
        assert.ok(!failed(r));
        order.push(`answered ${r.status}${r.body ? ` ${r.body.text}` : ''}`);
      }
    } finally {
      await client.close();
    }
    assert.deepEqual(order, [
      'before 0',
      'answered 200',
      'before 1',
      'answered 403 {"error":"forbidden"}',
      'before 2',
      'answered 200',
    ]);
  });

  it('a request whose beforeSend throws is not sent and fails with that error', async () => {
    const sent = seen.length;
    const client = clientWith(() => {
      throw new Error('disk full');
    });
    try {
      const r = await client.send({ method: 'GET', url: `${origin}/items/3`, headers: [] }, () => false, 0);
      assert.ok(failed(r));
      assert.match(r.error.message, /disk full/);
    } finally {
      await client.close();
    }
    assert.equal(seen.length, sent, 'the server saw no request');
  });
});
