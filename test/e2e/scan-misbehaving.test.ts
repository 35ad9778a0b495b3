// `why403 scan` against small servers on 127.0.0.1 that misbehave on
// purpose (issue 12): endless bodies, a body dripped a byte a second, Ctrl-C
// while requests hang, ids that would become dot segments, a 403 body that
// echoes the credential, list pages larger than a record's body limit, and a
// list that repeats itself forever. Every test is bounded in time and in
// requests.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir, removeDir } from '../servers/common.ts';
import { runCli, startScan } from './helpers.ts';
import { createClient, failed } from '../../src/scan/fetch.ts';
import type { ScanSummary } from '../../src/scan/summary.ts';

type ScanJson = ScanSummary & { run: { requests: { records: number; listPages: number }; notes: string[] } };

interface TestServer {
  origin: string;
  server: Server;
  stop(): Promise<void>;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes `chunk` for as long as the client reads; returns the bytes written when the response closes. */
function endless(res: ServerResponse, chunk: Buffer): Promise<number> {
  let written = 0;
  let open = true;
  const pump = () => {
    while (open) {
      written += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
  };
  return new Promise((resolve) => {
    res.on('close', () => {
      open = false;
      resolve(written);
    });
    pump();
  });
}

/** A byte a second, forever (until the client goes away). */
function drip(res: ServerResponse): void {
  const timer = setInterval(() => res.write('x'), 1000);
  res.on('close', () => clearInterval(timer));
  res.write('x');
}

const parse = (stdout: string) => JSON.parse(stdout) as ScanJson;

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

describe('why403 scan: every request is bounded (size, whole time, Ctrl-C)', () => {
  let srv: TestServer;
  let dir: string;
  const closed: number[] = [];
  const hits: Record<string, number> = {};
  let mode: 'drip' | 'ok' = 'drip';

  before(async () => {
    dir = makeTempDir('why403-scan-bounds-');
    srv = await serve((req, res) => {
      const url = req.url ?? '';
      hits[url] = (hits[url] ?? 0) + 1;
      if (url.startsWith('/endless/')) {
        // A 403 for ids starting with "d", a 200 for the others: both bodies never end.
        res.writeHead(url.startsWith('/endless/d') ? 403 : 200, { 'content-type': 'text/plain' });
        // Not word characters: the signature's body normalisation (a regex another change is making linear) stays fast.
        void endless(res, Buffer.alloc(16 * 1024, '~ ')).then((n) => closed.push(n));
      } else if (url.startsWith('/drip/')) {
        if (mode === 'ok') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        res.writeHead(403, { 'content-type': 'text/plain' });
        drip(res);
      } else res.writeHead(404).end();
    });
  });
  after(async () => {
    await srv?.stop();
    if (dir) removeDir(dir);
  });

  it('an endless body: the client keeps exactly the limit and ends the request', async () => {
    const client = createClient({
      url: `${srv.origin}/endless/d1`,
      origin: srv.origin,
      concurrency: 1,
      timeoutMs: 10_000,
      maxBody: 65_536,
    });
    const t0 = Date.now();
    const r = await client.send({ method: 'GET', url: `${srv.origin}/endless/d1`, headers: [] }, () => true, 0);
    await client.close();
    assert.ok(!failed(r), JSON.stringify(r));
    assert.equal(r.status, 403);
    assert.equal(r.body?.text.length, 65_536);
    assert.equal(r.body?.truncated, true);
    assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
  });

  it('endless bodies (a 403 kept, a 200 drained): the scan finishes promptly and the server sees each response closed', async () => {
    closed.length = 0;
    const ids = join(dir, 'endless.txt');
    writeFileSync(ids, 'd1\nd2\nd3\na1\na2\n');
    const t0 = Date.now();
    const r = await runCli(
      [
        'scan',
        '--ids',
        ids,
        '--get',
        `${srv.origin}/endless/{id}`,
        '--state',
        join(dir, 'endless.sqlite'),
        '--concurrency',
        '2',
        '--timeout',
        '30',
        '--json',
        '--quiet',
      ],
      20_000,
    );
    const elapsed = Date.now() - t0;
    assert.equal(r.code, 1, r.stderr);
    const s = parse(r.stdout);
    assert.deepEqual(s.byStatus, { '200': 2, '403': 3 });
    assert.ok(elapsed < 8000, `took ${elapsed} ms`);
    await until(() => closed.length >= 5, 2000, `every endless response closed (${JSON.stringify(closed)})`);
    // What the server managed to write before the client hung up: the limit plus socket buffers, not gigabytes.
    assert.ok(Math.max(...closed) < 32 * 1024 * 1024, `wrote ${Math.max(...closed)} bytes`);
  });

  it('a body dripped a byte a second: the record ends in a timeout after --timeout, not minutes', async () => {
    mode = 'drip';
    const ids = join(dir, 'drip.txt');
    writeFileSync(ids, 'r1\n');
    const t0 = Date.now();
    const r = await runCli(
      [
        'scan',
        '--ids',
        ids,
        '--get',
        `${srv.origin}/drip/{id}`,
        '--state',
        join(dir, 'drip.sqlite'),
        '--timeout',
        '2',
        '--retries',
        '0',
        '--json',
        '--quiet',
      ],
      20_000,
    );
    const elapsed = Date.now() - t0;
    assert.equal(r.code, 3, r.stderr);
    const s = parse(r.stdout);
    assert.equal(s.records.errors, 1);
    assert.match(s.errors[0].error, /not complete within 2000 ms/);
    assert.ok(elapsed >= 2000 && elapsed < 6000, `took ${elapsed} ms`);
  });

  it('Ctrl-C (SIGINT) while every request drips: stops within 2 s, exit 130, the records in flight stay pending and --resume fetches them', async () => {
    mode = 'drip';
    for (const k of Object.keys(hits)) delete hits[k];
    const ids = join(dir, 'sigint.txt');
    writeFileSync(ids, ['s1', 's2', 's3', 's4', 's5', 's6'].join('\n') + '\n');
    const state = join(dir, 'sigint.sqlite');
    const scan = startScan([
      'scan',
      '--ids',
      ids,
      '--get',
      `${srv.origin}/drip/{id}`,
      '--state',
      state,
      '--concurrency',
      '2',
      '--timeout',
      '60',
      '--json',
      '--quiet',
    ]);
    await until(() => Object.keys(hits).length >= 2, 10_000, 'two requests in flight');
    await sleep(300);
    const t0 = Date.now();
    scan.child.kill('SIGINT');
    const code = await Promise.race([scan.exited, sleep(5000).then(() => 'hung')]);
    const elapsed = Date.now() - t0;
    if (code === 'hung') scan.child.kill('SIGKILL');
    assert.equal(code, 130, scan.out().stderr);
    assert.ok(elapsed < 2000, `stopped ${elapsed} ms after SIGINT`);
    assert.match(scan.out().stderr, /stopping; the requests in flight/);
    const s = parse(scan.out().stdout);
    assert.equal(s.records.total, 6);
    assert.equal(s.records.done, 0, 'an abandoned request is not an outcome');
    assert.equal(s.records.pending, 6);

    const report = await runCli(['scan', 'report', state, '--json'], 10_000);
    assert.equal(parse(report.stdout).records.pending, 6);

    mode = 'ok';
    const resumed = await runCli(['scan', '--resume', state, '--json', '--quiet'], 20_000);
    assert.equal(resumed.code, 0, resumed.stderr);
    const again = parse(resumed.stdout);
    assert.equal(again.records.done, 6);
    assert.deepEqual(again.byStatus, { '200': 6 });
    const twice = Object.entries(hits).filter(([, n]) => n === 2);
    assert.equal(twice.length, 2, JSON.stringify(hits));
    assert.ok(Object.values(hits).every((n) => n <= 2));
  });
});

describe('why403 scan: every id stays inside its place in the URL', () => {
  let srv: TestServer;
  let dir: string;
  const targets: string[] = [];

  before(async () => {
    dir = makeTempDir('why403-scan-ids-');
    srv = await serve((req, res) => {
      // The request target exactly as it arrived: no URL parsing, no normalisation.
      targets.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  after(async () => {
    await srv?.stop();
    if (dir) removeDir(dir);
  });

  const ids = ['.', '..', '...', 'a/b', 'a?b', 'a#b', '100%', 'x y', '%2e%2e', 'a\\b', '', 'é'];

  it('as a whole path segment: dot segments sent as %2E, /, ?, #, %, \\ encoded; an empty id is not requested, and said so', async () => {
    targets.length = 0;
    const file = join(dir, 'ids.jsonl');
    writeFileSync(file, ids.map((id) => JSON.stringify({ id })).join('\n') + '\n');
    const r = await runCli(
      [
        'scan',
        '--ids',
        file,
        '--get',
        `${srv.origin}/api/records/{id}`,
        '--state',
        join(dir, 'path.sqlite'),
        '--concurrency',
        '1',
        '--json',
        '--quiet',
      ],
      20_000,
    );
    assert.equal(r.code, 3, r.stderr);
    const s = parse(r.stdout);
    assert.deepEqual(
      [...targets].sort(),
      [
        '/api/records/%2E',
        '/api/records/%2E%2E',
        '/api/records/...',
        '/api/records/a%2Fb',
        '/api/records/a%3Fb',
        '/api/records/a%23b',
        '/api/records/100%25',
        '/api/records/x%20y',
        '/api/records/%252e%252e',
        '/api/records/a%5Cb',
        '/api/records/%C3%A9',
      ].sort(),
    );
    assert.equal(s.records.done, ids.length);
    assert.equal(s.records.errors, 1);
    assert.deepEqual(s.errors[0].examples, ['']);
    assert.match(s.errors[0].error, /not requested: an empty id/);
    assert.ok(
      s.run.notes.some((n) => /cannot be put in the URL safely/.test(n)),
      s.run.notes.join('\n'),
    );
    assert.equal(s.run.requests.records, ids.length - 1);
  });

  it('inside a longer segment and in the query: only what the place requires', async () => {
    targets.length = 0;
    const file = join(dir, 'ids.txt');
    writeFileSync(file, ['..', 'a&b=c', 'a/b'].join('\n') + '\n');
    const r = await runCli(
      [
        'scan',
        '--ids',
        file,
        '--get',
        `${srv.origin}/api/records/v{id}/x?id={id}`,
        '--state',
        join(dir, 'query.sqlite'),
        '--concurrency',
        '1',
        '--json',
        '--quiet',
      ],
      20_000,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      [...targets].sort(),
      ['/api/records/v../x?id=..', '/api/records/va%26b%3Dc/x?id=a%26b%3Dc', '/api/records/va%2Fb/x?id=a%2Fb'].sort(),
    );
  });

  it('without a lane (a proxy, or ids that pick the origin): the path is sent as written, not normalised by the URL parser', async () => {
    targets.length = 0;
    const client = createClient({ url: `${srv.origin}/`, concurrency: 1, timeoutMs: 5000, maxBody: 1024 });
    for (const path of ['/api/records/%2E%2E', '/api/records/%2E?x=1#frag', '/api/records/a%2Fb']) {
      const r = await client.send({ method: 'GET', url: `${srv.origin}${path}`, headers: [] }, () => false);
      assert.ok(!failed(r) && r.status === 200);
    }
    await client.close();
    assert.deepEqual(targets, ['/api/records/%2E%2E', '/api/records/%2E?x=1', '/api/records/a%2Fb']);
  });

  it('{id} in the fragment, which is never sent: refused in one line', async () => {
    const r = await runCli(
      [
        'scan',
        '--ids',
        join(dir, 'ids.txt'),
        '--get',
        `${srv.origin}/api/records#{id}`,
        '--state',
        join(dir, 'frag.sqlite'),
      ],
      10_000,
    );
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /fragment/);
  });
});

describe('why403 scan: no secret the request carried reaches the disk', () => {
  let srv: TestServer;
  let dir: string;
  // 39 characters, digits in some words only: the body shape used to keep 28 of them.
  const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.kEYpartONEsecretTWO';
  const API_KEY = 'ak_live_PLAINLETTERSsecretKEYvalue';
  const QUERY_SECRET = 'qsPLAINsecretQUERYtokenVALUE';

  before(async () => {
    dir = makeTempDir('why403-scan-secrets-');
    srv = await serve((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const auth = String(req.headers.authorization ?? '');
      const key = String(req.headers['x-api-key'] ?? '');
      if (u.pathname === '/list') {
        // Each record echoes the key in a field; the next page's URL carries the query secret.
        const page = Number(u.searchParams.get('page') ?? '1');
        const items = Array.from({ length: 5 }, (_, i) => ({ id: `r${page}${i}`, owner: `${key} at ${auth}` }));
        const next = page < 3 ? `/list?page=${page + 1}&access_token=${u.searchParams.get('access_token')}` : null;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, next }));
      }
      const id = u.pathname.split('/').pop()!;
      if (id.endsWith('1') || id.endsWith('3')) {
        res.writeHead(403, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({
            error: 'forbidden',
            detail: `the token ${auth.replace(/^Bearer /, '')} may not read ${id}`,
            key,
            echo: { authorization: auth, 'x-api-key': key },
          }),
        );
      }
      if (id.endsWith('4'))
        return void res.writeHead(403, { 'content-type': 'text/plain' }).end(`denied: ${auth} / ${key}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  after(async () => {
    await srv?.stop();
    if (dir) removeDir(dir);
  });

  function assertNoSecret(where: string, bytes: Buffer | string): void {
    const text = Buffer.isBuffer(bytes) ? bytes.toString('latin1') : bytes;
    for (const secret of [TOKEN, API_KEY, QUERY_SECRET])
      for (let i = 0; i + 12 <= secret.length; i++) {
        const part = secret.slice(i, i + 12);
        assert.ok(!text.includes(part), `${where} holds "${part}" (part of a secret)`);
      }
  }

  it('a 403 body and list records echoing the credentials: the state file, the outcome log and --out files hold no 12 characters of them', async () => {
    const state = join(dir, 'secrets.sqlite');
    const csv = join(dir, 'denied.csv');
    const jsonl = join(dir, 'denied.jsonl');
    const r = await runCli(
      [
        'scan',
        '--list',
        `${srv.origin}/list?page=1&access_token=${QUERY_SECRET}`,
        '--get',
        `${srv.origin}/rec/{id}`,
        '-H',
        `Authorization: Bearer ${TOKEN}`,
        '-H',
        `X-Api-Key: ${API_KEY}`,
        '--state',
        state,
        '--out',
        csv,
        '--json',
        '--quiet',
      ],
      20_000,
    );
    assert.equal(r.code, 1, r.stderr);
    const s = parse(r.stdout);
    assert.equal(s.records.total, 15);
    assert.ok(s.records.denied >= 6, JSON.stringify(s.byStatus));
    assert.ok(s.signatures.length >= 2);
    const report = await runCli(['scan', 'report', state, '--out', jsonl, '--json'], 10_000);
    assert.equal(report.code, 1, report.stderr);
    assert.ok(readFileSync(jsonl, 'utf8').includes('"owner"'), 'the fields are in the --out file (scrubbed)');
    const files = readdirSync(dir).filter((f) => f.startsWith('secrets.sqlite') || f.startsWith('denied.'));
    assert.ok(
      files.includes('secrets.sqlite') && files.includes('denied.csv') && files.includes('denied.jsonl'),
      files.join(', '),
    );
    for (const f of files) assertNoSecret(f, readFileSync(join(dir, f)));
    assertNoSecret('stdout', r.stdout + report.stdout);
    assertNoSecret('stderr', r.stderr + report.stderr);
  });
});

describe('why403 scan: list pages (size limit of their own, a list that repeats itself)', () => {
  let srv: TestServer;
  let dir: string;
  const lists: Record<string, number> = {};

  before(async () => {
    dir = makeTempDir('why403-scan-lists-');
    srv = await serve((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname.startsWith('/rec/')) {
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
      lists[u.pathname] = (lists[u.pathname] ?? 0) + 1;
      if (u.pathname === '/big') {
        // One valid page of 1,000 records, about 275 KB.
        const items = Array.from({ length: 1000 }, (_, i) => ({
          id: `e${String(i).padStart(5, '0')}`,
          name: `Employee number ${i}`,
          department: 'Research and development',
          notes: 'x'.repeat(180),
        }));
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items }));
      }
      if (u.pathname === '/loop' || u.pathname === '/empty-loop') {
        // The same five records (or none) behind a new cursor, forever.
        const n = Number(u.searchParams.get('cursor') ?? '0');
        const items =
          u.pathname === '/loop' ? ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id })) : n === 0 ? [{ id: 'only' }] : [];
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ items, next_cursor: String(n + 1) }));
      }
      res.writeHead(404).end();
    });
  });
  after(async () => {
    await srv?.stop();
    if (dir) removeDir(dir);
  });

  it('a 275 KB page of 1,000 records is read whole (a record body keeps 64 KiB; a page, up to --max-page)', async () => {
    const r = await runCli(
      [
        'scan',
        '--list',
        `${srv.origin}/big`,
        '--get',
        `${srv.origin}/rec/{id}`,
        '--state',
        join(dir, 'big.sqlite'),
        '--concurrency',
        '8',
        '--json',
        '--quiet',
      ],
      30_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const s = parse(r.stdout);
    assert.equal(s.records.total, 1000);
    assert.equal(s.records.done, 1000);
  });

  it('a page larger than --max-page: one line, exit 2, the page requested once', async () => {
    lists['/big'] = 0;
    const r = await runCli(
      [
        'scan',
        '--list',
        `${srv.origin}/big`,
        '--get',
        `${srv.origin}/rec/{id}`,
        '--state',
        join(dir, 'small.sqlite'),
        '--max-page',
        '100KiB',
        '--quiet',
      ],
      20_000,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /larger than --max-page \(102400 bytes\)/);
    assert.equal(lists['/big'], 1);
  });

  for (const path of ['/loop', '/empty-loop'])
    it(`a list that repeats itself under new cursors (${path}): stopped after ${3} pages with no new record, and said so`, async () => {
      lists[path] = 0;
      const t0 = Date.now();
      const r = await runCli(
        [
          'scan',
          '--list',
          `${srv.origin}${path}`,
          '--get',
          `${srv.origin}/rec/{id}`,
          '--state',
          join(dir, `${path.slice(1)}.sqlite`),
          '--json',
        ],
        20_000,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Date.now() - t0 < 10_000);
      const s = parse(r.stdout);
      assert.equal(s.records.total, path === '/loop' ? 5 : 1);
      assert.equal(s.complete, true);
      assert.equal(lists[path], 4, 'the first page, then three that brought nothing new');
      assert.match(s.listEnd ?? '', /last 3 pages brought no record not seen before/);
      assert.match(r.stderr, /repeats itself/);
      const text = await runCli(['scan', 'report', join(dir, `${path.slice(1)}.sqlite`)], 10_000);
      assert.match(text.stdout, /the list was cut short: the last 3 pages/);
    });

  it('scan --help documents --max-page, in 80 columns', async () => {
    const r = await runCli(['scan', '--help'], 10_000);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--max-page BYTES/);
    for (const line of r.stdout.split('\n')) assert.ok([...line].length <= 80, `longer than 80 columns: ${line}`);
  });
});
