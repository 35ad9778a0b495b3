// Self-test of the server `why403 scan` is tested against: each pagination
// style walks to every id exactly once, CASL refuses what the policy says and
// nothing else, the credential check, the real rate limit and the counters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from './common.ts';
import { header, send } from './http.ts';
import { employees, expectedForbidden, hits, resetHits, startScanApp, type Employee } from './scan-server.ts';

const N = 120;
const SLOW_ID = 'e0007';
const SLOW_MS = 3000;
const data = employees(N);
const hr = data.find((e) => e.department === 'HR')!;
const other = data.find((e) => e.department !== 'HR')!;
const bearer = (user: string) => ({ Authorization: `Bearer ${user}` });

let app: RunningServer;

before(async () => {
  // A long window: on a loaded machine ten requests may take longer than the default second.
  app = await startScanApp({ records: N, slowId: SLOW_ID, slowMs: SLOW_MS, rateWindowMs: 60_000 });
});
after(async () => {
  await app?.stop();
});

async function getJson(path: string, user = 'integration'): Promise<{ status: number; body: any; link?: string }> {
  const url = path.startsWith('http') ? path : `${app.origin}${path}`;
  const { response } = await send('GET', url, bearer(user));
  return { status: response.status, body: JSON.parse(response.body), link: header(response, 'link') };
}

const ids = (rows: Employee[]) => rows.map((e) => e.id);

describe('scan app data', () => {
  it('separates HR by department alone', () => {
    assert.equal(expectedForbidden(N, 'integration').length, N / 6);
    const hrSet = data.filter((e) => e.department === 'HR');
    const rest = data.filter((e) => e.department !== 'HR');
    for (const field of ['country', 'level', 'active', 'status'] as const) {
      const inHr = new Set(hrSet.map((e) => e[field]));
      assert.ok(
        [...inHr].every((v) => rest.some((e) => e[field] === v)),
        `${field} alone would separate HR`,
      );
    }
  });
});

describe('scan app pagination', () => {
  const all = ids(data);

  it('Link header (GitHub)', async () => {
    const seen: string[] = [];
    let url: string | undefined = `/link/employees?per_page=25`;
    let pages = 0;
    while (url && pages++ < 20) {
      const r = await getJson(url);
      assert.equal(r.status, 200);
      assert.ok(Array.isArray(r.body));
      seen.push(...ids(r.body));
      url = /<([^>]+)>;\s*rel="next"/.exec(r.link ?? '')?.[1];
    }
    assert.equal(pages, 5);
    assert.deepEqual(seen, all);
  });

  it('next URL (Django REST Framework)', async () => {
    const seen: string[] = [];
    let url: string | null = '/next/employees';
    let pages = 0;
    while (url && pages++ < 20) {
      const r = await getJson(url);
      assert.equal(r.status, 200);
      assert.equal(r.body.count, N);
      seen.push(...ids(r.body.results));
      url = r.body.next;
    }
    assert.deepEqual(seen, all);
  });

  it('opaque nextPageToken (Google)', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const q = new URLSearchParams({ pageSize: '25', ...(token ? { pageToken: token } : {}) });
      const r = await getJson(`/cursor/employees?${q}`);
      assert.equal(r.status, 200);
      seen.push(...ids(r.body.items));
      token = r.body.nextPageToken;
    } while (token && pages++ < 20);
    assert.deepEqual(seen, all);
    assert.equal((await getJson('/cursor/employees?pageToken=bm90LWEtdG9rZW4%3D')).status, 400);
  });

  it('page and total_pages', async () => {
    const seen: string[] = [];
    let total = Infinity;
    for (let page = 1; page <= total && page < 20; page++) {
      const r = await getJson(`/page/employees?page=${page}&limit=50`);
      assert.equal(r.status, 200);
      total = r.body.total_pages;
      seen.push(...ids(r.body.employees));
    }
    assert.equal(total, 3);
    assert.deepEqual(seen, all);
    assert.deepEqual((await getJson('/page/employees?page=4&limit=50')).body.employees, []);
  });

  it('offset, limit and total', async () => {
    const seen: string[] = [];
    for (let offset = 0, total = Infinity; offset < total; offset += 40) {
      const r = await getJson(`/offset/employees?offset=${offset}&limit=40`);
      assert.equal(r.status, 200);
      total = r.body.total;
      seen.push(...ids(r.body.records));
    }
    assert.deepEqual(seen, all);
  });

  it('lists need a credential, any known user may list', async () => {
    const { response } = await send('GET', `${app.origin}/offset/employees`);
    assert.equal(response.status, 401);
    assert.equal((await getJson('/offset/employees', 'admin')).body.records.length, 25);
  });
});

describe('scan app records', () => {
  it('CASL refuses HR to integration only', async () => {
    const refused = await getJson(`/employees/${hr.id}`, 'integration');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'Forbidden');
    assert.match(refused.body.message, /Cannot execute "read" on "Employee"/);
    assert.equal((await getJson(`/employees/${other.id}`, 'integration')).status, 200);
    assert.deepEqual((await getJson(`/employees/${hr.id}`, 'admin')).body, hr);
    assert.deepEqual((await getJson(`/employees/${other.id}`, 'admin')).body, other);
    assert.equal((await getJson('/employees/e9999', 'admin')).status, 404);
  });

  it('refuses exactly the expected ids over the whole dataset', async () => {
    const refused: string[] = [];
    const queue = data.filter((e) => e.id !== SLOW_ID).map((e) => e.id);
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          const { response } = await send('GET', `${app.origin}/employees/${id}`, bearer('integration'));
          assert.ok([200, 403].includes(response.status), `${id}: ${response.status}`);
          if (response.status === 403) refused.push(id);
        }
      }),
    );
    assert.deepEqual(
      refused.sort(),
      expectedForbidden(N, 'integration').filter((id) => id !== SLOW_ID),
    );
  });

  it('answers HEAD', async () => {
    const { response } = await send('HEAD', `${app.origin}/employees/${hr.id}`, bearer('integration'));
    assert.equal(response.status, 403);
    assert.equal(response.body, '');
  });

  it('401 with a Bearer challenge without a known credential', async () => {
    for (const headers of [{}, bearer('mallory')]) {
      const { response } = await send('GET', `${app.origin}/employees/${other.id}`, headers);
      assert.equal(response.status, 401);
      assert.match(header(response, 'www-authenticate') ?? '', /^Bearer realm="employees"/);
      assert.equal(JSON.parse(response.body).error, 'Unauthorized');
    }
  });

  it('rate limit: 429 with Retry-After after the limit, and every request counted', async () => {
    await resetHits(app.origin);
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 11; i++) {
      const { response } = await send('GET', `${app.origin}/limited/employees/${other.id}`, bearer('admin'));
      statuses.push(response.status);
      if (response.status === 429) retryAfter = header(response, 'retry-after');
    }
    assert.deepEqual(statuses, [...Array(10).fill(200), 429]);
    assert.match(retryAfter ?? '', /^[1-9]\d*$/);
    assert.ok(Number(retryAfter) <= 60);
    await getJson('/page/employees');
    await getJson(`/employees/${other.id}`);
    assert.deepEqual(await hits(app.origin), { [other.id]: 12, __lists: 1 });
    await resetHits(app.origin);
    assert.deepEqual(await hits(app.origin), {});
  });

  it('slow record outlasts a short client timeout', async () => {
    const t0 = Date.now();
    await assert.rejects(send('GET', `${app.origin}/employees/${SLOW_ID}`, bearer('admin'), undefined, 300));
    assert.ok(Date.now() - t0 < SLOW_MS);
  });

  // Last: it stops the app the other tests use.
  it('stops promptly with a slow request pending', async () => {
    const pending = send('GET', `${app.origin}/employees/${SLOW_ID}`, bearer('admin'), undefined, 10_000).catch(
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 150));
    const t0 = Date.now();
    await app.stop();
    assert.ok(Date.now() - t0 < 1500, `stop took ${Date.now() - t0} ms`);
    assert.ok((await pending) instanceof Error);
  });
});
