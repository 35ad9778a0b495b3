// The SQLite sink behind a real Web-standard why403 app on 127.0.0.1: each
// denial one row, with a column per event field, read back exactly; WAL;
// the index on time; no credential in the file; close().
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { requireRole, requireScope, why403 } from '../web.ts';
import { Explainer } from '../core.ts';
import { denialEvent } from '../events.ts';
import { sqliteSink, type SqliteSink } from './sqlite.ts';

const TOKEN = 'eyJhbGciOi.secret-token.signature';
const dir = mkdtempSync(join(tmpdir(), 'why403-sqlite-sink-'));
const path = join(dir, 'denials.sqlite');
let sink: SqliteSink;
let server: Server;
let base: string;

before(async () => {
  sink = sqliteSink(path);
  const app = why403({
    disclosure: 'status',
    sinks: [sink],
    caller: (req) =>
      req.headers.get('authorization') === `Bearer ${TOKEN}`
        ? { principal: 'alice', scopes: ['read:orders'], roles: ['clerk'] }
        : { scopes: [], roles: [] },
    client: () => '127.0.0.1',
  });
  const write = app.guard([requireScope('write:orders')], () => new Response('ok'), { route: '/orders/:id' });
  const audit = app.guard([requireRole('auditor')], () => new Response('ok'), { route: '/audit', hide: true });
  server = createServer((req, res) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers });
    void (req.url!.startsWith('/audit') ? audit : write)(request).then(async (r) => {
      res.writeHead(r.status, Object.fromEntries(r.headers));
      res.end(await r.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  sink.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = () => {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare('SELECT * FROM denials ORDER BY id').all();
  } finally {
    db.close();
  }
};

test('each denial of a real app is one row, a column per event field, read while the app holds the file', async () => {
  const before = Date.now();
  const r1 = await fetch(`${base}/orders/42`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'x-request-id': 'req-7',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
  });
  assert.equal(r1.status, 403);
  await r1.text();
  const r2 = await fetch(`${base}/audit`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r2.status, 404);
  await r2.text();
  const got = rows();
  assert.equal(got.length, 2);
  const times = got.map((r) => r.time as number);
  for (const t of times) assert.ok(t >= before && t <= Date.now());
  assert.deepEqual(
    got.map((r) => ({ ...r })),
    [
      {
        id: 1,
        level: 40,
        time: times[0],
        msg: 'access denied: insufficient-scope',
        schema: 'why403/denial@1',
        principal: 'alice',
        method: 'POST',
        route: '/orders/:id',
        resource: null,
        cause: 'insufficient-scope',
        gap: '{"required":["write:orders"],"held":["read:orders"]}',
        rule: 'scope write:orders',
        status: 403,
        denied_as: null,
        hidden: null,
        client: '127.0.0.1',
        request_id: 'req-7',
        trace_id: '0af7651916cd43dd8448eb211c80319c',
        span_id: 'b7ad6b7169203331',
      },
      {
        id: 2,
        level: 40,
        time: times[1],
        msg: 'access denied: insufficient-role',
        schema: 'why403/denial@1',
        principal: 'alice',
        method: 'GET',
        route: '/audit',
        resource: null,
        cause: 'insufficient-role',
        gap: '{"required":["auditor"],"held":["clerk"]}',
        rule: 'role auditor',
        status: 404,
        denied_as: 403,
        hidden: 1,
        client: '127.0.0.1',
        request_id: null,
        trace_id: null,
        span_id: null,
      },
    ],
  );
});

test('WAL, the index on time, the layout version; no credential in the file', () => {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    assert.deepEqual({ ...db.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'wal' });
    assert.deepEqual({ ...db.prepare('PRAGMA user_version').get() }, { user_version: 1 });
    assert.deepEqual(
      db
        .prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name = 'denials_time'")
        .all()
        .map((r) => ({ ...r })),
      [{ name: 'denials_time', tbl_name: 'denials' }],
    );
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT * FROM denials WHERE time >= ?').all(0);
    assert.ok(
      plan.some((p) => String(p.detail).includes('denials_time')),
      'a time range uses the index',
    );
  } finally {
    db.close();
  }
  for (const file of [path, `${path}-wal`]) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    assert.ok(!bytes.includes(TOKEN), `${file} holds no token`);
    assert.ok(!bytes.includes('secret-token'), `${file} holds no part of the token`);
  }
});

test('a second sink on the same file appends; after close() an event throws and the middleware still answers', () => {
  const second = sqliteSink(path, { busyTimeoutMs: 100 });
  second.emit(denialEvent({ cause: 'csrf', rule: 'csrf-csrf' }, { method: 'POST', route: '/form' }, { now: 1 }));
  second.close();
  second.close(); // twice is harmless
  const last = rows().at(-1)!;
  assert.deepEqual([last.time, last.cause, last.rule, last.gap, last.principal], [1, 'csrf', 'csrf-csrf', null, null]);
  assert.throws(() => second.emit(denialEvent({ cause: 'csrf' }, { method: 'POST' })));
  // A closed sink fails alone: the Explainer reports it and the denial is answered.
  const failures: unknown[] = [];
  const explainer = new Explainer({ sinks: [second], onSinkError: (e) => failures.push(e) });
  const response = explainer.respond({ cause: 'csrf' }, { method: 'POST' });
  assert.equal(response.status, 403);
  assert.equal(failures.length, 1);
});

test('options are checked; a file of another layout is refused', () => {
  assert.throws(() => sqliteSink(join(dir, 'x.sqlite'), { busyTimeoutMs: -1 }), /busyTimeoutMs/);
  const other = join(dir, 'other.sqlite');
  const db = new DatabaseSync(other);
  db.exec('PRAGMA user_version = 7');
  db.close();
  assert.throws(() => sqliteSink(other), /layout 7; this version writes layout 1/);
  // Another program's denials table: refused before the file is switched to WAL.
  const foreign = join(dir, 'foreign.sqlite');
  const fdb = new DatabaseSync(foreign);
  fdb.exec('CREATE TABLE denials (id INTEGER, who TEXT)');
  fdb.close();
  assert.throws(
    () => sqliteSink(foreign),
    /has a denials table in another layout \(.*\); give the sink a file of its own/,
  );
  const after = new DatabaseSync(foreign);
  assert.equal((after.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'delete');
  after.close();
});
