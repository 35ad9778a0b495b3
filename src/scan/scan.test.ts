// The scan's pure parts: reading pages of real API shapes, JSON paths, the
// field separation, Retry-After, rates, secrets in the stored configuration,
// denial shapes, and the record-level evidence. The whole command runs
// against a real server in test/e2e/scan.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { linkNext, readPage, detectStyle, type PageRecords } from './pagination.ts';
import { getPath, flattenFields } from './json-path.ts';
import { FieldSeparator } from './separate.ts';
import { hideSecrets, retryAfterMs, scanSecrets, unhideSecrets } from './run.ts';
import { parseRate } from './settings.ts';
import { recordUrl, recordUrlBuilder, restoreConfig, storeConfig, UnsafeIdError, type ScanSettings } from './config.ts';
import { bodyShape } from './signature.ts';
import { recordLevelEvidence } from './record-level.ts';
import { UsageError } from '../errors.ts';
import { readIds } from './ids.ts';
import type { IdsSource, ListSource } from './config.ts';
import { Readable } from 'node:stream';

const list = { kind: 'list' as const, url: 'https://api.example.com/v1/things' };

/** Reads one JSON page sent without headers; `after` is the page read before it, whose style and items path carry over. */
const jsonPage = (
  url: string,
  body: unknown,
  after?: Pick<PageRecords, 'style' | 'itemsPath'>,
  source: ListSource = list,
) => readPage(url, [], JSON.stringify(body), source, after?.style, after?.itemsPath);

describe('pagination', () => {
  it('reads Link rel="next" among other relations (GitHub order: prev, next, last, first)', () => {
    const link =
      '<https://api.github.com/repositories/1/issues?page=1>; rel="prev", <https://api.github.com/repositories/1/issues?page=3>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last"';
    assert.equal(linkNext([{ name: 'Link', value: link }]), 'https://api.github.com/repositories/1/issues?page=3');
    assert.equal(linkNext([{ name: 'Link', value: '<https://x/?page=5>; rel="last"' }]), undefined);
  });

  it('a next-page URL in the body, relative ones resolved against the page', () => {
    const p = jsonPage('https://api.example.com/v1/things?page=1', {
      count: 3,
      next: '/v1/things?page=2',
      results: [{ id: 1 }, { id: 2 }],
    });
    assert.deepEqual(p.style, { kind: 'next-url', path: 'next' });
    assert.equal(p.next, 'https://api.example.com/v1/things?page=2');
    assert.deepEqual(
      p.records.map((r) => r.id),
      ['1', '2'],
    );
    const last = jsonPage(
      'https://api.example.com/v1/things?page=2',
      { count: 3, next: null, results: [{ id: 3 }] },
      p,
    );
    assert.equal(last.next, null);
  });

  it('an opaque cursor goes back in the parameter its field name implies, URL-encoded', () => {
    const p = jsonPage('https://api.example.com/v1/things', { items: [{ id: 'a' }], nextPageToken: 'eyJhIjoxfQ==+/' });
    assert.deepEqual(p.style, { kind: 'cursor', path: 'nextPageToken', param: 'pageToken' });
    assert.equal(new URL(p.next!).searchParams.get('pageToken'), 'eyJhIjoxfQ==+/');
    const slack = jsonPage(
      'https://slack.com/api/users.list',
      { ok: true, members: [{ id: 'U1' }], response_metadata: { next_cursor: 'dXNlcjpVMEc5V0ZYTlo=' } },
      undefined,
      { ...list, url: 'https://slack.com/api/users.list' },
    );
    assert.equal(slack.itemsPath, 'members');
    assert.equal(new URL(slack.next!).searchParams.get('cursor'), 'dXNlcjpVMEc5V0ZYTlo=');
  });

  it('page numbers up to total_pages, offsets up to total; an empty page ends either', () => {
    const page = jsonPage('https://x.test/e?page=2&limit=2', {
      employees: [{ id: 3 }, { id: 4 }],
      page: 2,
      total_pages: 3,
    });
    assert.equal(page.style.kind, 'page');
    assert.equal(page.next, 'https://x.test/e?page=3&limit=2');
    assert.equal(
      jsonPage('https://x.test/e?page=3&limit=2', { employees: [{ id: 5 }], page: 3, total_pages: 3 }, page).next,
      null,
    );
    const off = jsonPage('https://x.test/e?offset=0&limit=2', { records: [{ id: 1 }, { id: 2 }], total: 3 });
    assert.equal(off.style.kind, 'offset');
    assert.equal(off.next, 'https://x.test/e?offset=2&limit=2');
    assert.equal(jsonPage(off.next!, { records: [{ id: 3 }], total: 3 }, off).next, null);
    assert.equal(
      jsonPage(
        'https://x.test/e?page=9',
        { employees: [] },
        { style: { kind: 'page', param: 'page' }, itemsPath: 'employees' },
      ).next,
      null,
    );
  });

  it('what the user names wins: --items, --next, --id with a nested path', () => {
    const src = { ...list, items: 'data.rows', next: 'meta.after', cursorParam: 'after', id: 'key.value' };
    const p = jsonPage(list.url, { data: { rows: [{ key: { value: 'k1' } }] }, meta: { after: 'c2' } }, undefined, src);
    assert.deepEqual(
      p.records.map((r) => r.id),
      ['k1'],
    );
    assert.equal(p.next, 'https://api.example.com/v1/things?after=c2');
  });

  it('a single page without a next sign is one page; a page without records or ids says what to set', () => {
    assert.equal(detectStyle(list.url, [], { items: [{ id: 1 }] }, list).kind, 'single');
    assert.throws(
      () => readPage(list.url, [], '{"status":"ok"}', list, undefined, undefined),
      /no list of records .*--items/,
    );
    assert.throws(
      () => readPage(list.url, [], '[{"name":"x"}]', list, undefined, undefined),
      /no id field .*name.*--id/,
    );
    assert.throws(() => readPage(list.url, [], '<html>', list, undefined, undefined), /not JSON/);
  });
});

describe('JSON paths and fields', () => {
  it('dotted paths, indexes, and keys that contain dots', () => {
    const v = { '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users?$skiptoken=X', a: { b: [{ c: 1 }] } };
    assert.equal(getPath(v, '@odata.nextLink'), 'https://graph.microsoft.com/v1.0/users?$skiptoken=X');
    assert.equal(getPath(v, 'a.b[0].c'), 1);
    assert.equal(getPath(v, '$.a.b[0].c'), 1);
    assert.equal(getPath(v, 'a.x.y'), undefined);
  });
  it('flattens nested scalars, joins scalar arrays, skips object arrays', () => {
    assert.deepEqual(flattenFields({ id: 1, org: { dept: 'HR' }, tags: ['b', 'a'], kids: [{ x: 1 }] }), {
      id: 1,
      'org.dept': 'HR',
      tags: 'a,b',
    });
  });
});

describe('what separates forbidden from allowed records', () => {
  const add = (sep: FieldSeparator, n: number, denied: boolean, f: (i: number) => object) => {
    for (let i = 0; i < n; i++) sep.add(JSON.stringify(f(i)), denied);
  };
  it('an exact separation by one value, and ids that separate nothing are ignored', () => {
    const sep = new FieldSeparator();
    add(sep, 10, true, (i) => ({ id: `d${i}`, dept: 'HR', country: ['DE', 'FR'][i % 2] }));
    add(sep, 30, false, (i) => ({ id: `a${i}`, dept: ['Sales', 'Ops'][i % 2], country: ['DE', 'FR'][i % 2] }));
    const r = sep.result();
    assert.equal(r.length, 1);
    assert.equal(r[0].field, 'dept');
    assert.deepEqual(r[0].values, ['HR']);
    assert.equal(r[0].statement, 'all 10 forbidden records have dept = HR; none of the 30 allowed records do');
  });
  it('a value set, and a mostly-separating value stated with its counts', () => {
    const sep = new FieldSeparator();
    add(sep, 10, true, (i) => ({ region: i < 5 ? 'eu' : 'apac', tier: i < 9 ? 'gold' : 'basic' }));
    add(sep, 40, false, (i) => ({ region: 'us', tier: i < 2 ? 'gold' : 'basic' }));
    const r = sep.result();
    assert.equal(
      r[0].statement,
      'all 10 forbidden records have region in {apac, eu}; none of the 40 allowed records do',
    );
    const tier = r.find((x) => x.field === 'tier')!;
    assert.equal(tier.exact, false);
    assert.equal(tier.statement, '9 of 10 forbidden records have tier = gold, against 2 of 40 allowed records');
  });
  it('two signatures in one scan: each is separated from the allowed records on its own, without the other', () => {
    // 18 refused for a permission (all Finance), 3 for a lock (status = locked, other departments), 40 allowed.
    const sep2 = new FieldSeparator(['perm', 'lock']);
    for (let i = 0; i < 18; i++)
      sep2.add(JSON.stringify({ dept: 'Finance', status: i === 0 ? 'locked' : 'open' }), true, 'perm');
    for (let i = 0; i < 3; i++)
      sep2.add(JSON.stringify({ dept: ['Sales', 'Ops', 'HR'][i], status: 'locked' }), true, 'lock');
    for (let i = 0; i < 40; i++)
      sep2.add(JSON.stringify({ dept: ['Sales', 'Ops', 'HR'][i % 3], status: 'open' }), false);
    // All refusals at once: Finance is most of them, and would be pinned on the locked records too.
    assert.deepEqual(
      sep2.result().map((x) => [x.field, x.values, x.exact]),
      [['dept', ['Finance'], false]],
    );
    const perm = sep2.resultFor('perm', 'records refused with [perm]');
    assert.deepEqual(
      perm.map((x) => [x.field, x.values, x.exact, x.signature]),
      [['dept', ['Finance'], true, 'perm']],
    );
    assert.equal(
      perm[0].statement,
      'all 18 records refused with [perm] have dept = Finance; none of the 40 allowed records do',
    );
    assert.deepEqual(
      sep2.resultFor('lock', 'records refused with [lock]').map((x) => [x.field, x.values, x.exact]),
      [['status', ['locked'], true]],
    );
    assert.deepEqual(sep2.resultFor('other', 'x'), [], 'a signature not followed has no separation');
    const none = new FieldSeparator(['lock']);
    add(none, 10, false, (i) => ({ dept: ['Sales', 'Ops'][i % 2] }));
    assert.deepEqual(none.resultFor('lock', 'x'), [], 'a signature without records has none');
  });
  it('nothing when no field tells them apart', () => {
    const sep = new FieldSeparator();
    add(sep, 10, true, (i) => ({ c: ['x', 'y'][i % 2] }));
    add(sep, 10, false, (i) => ({ c: ['x', 'y'][i % 2] }));
    assert.deepEqual(sep.result(), []);
  });
});

describe('pace and waits', () => {
  it('Retry-After as seconds or an HTTP date', () => {
    assert.equal(retryAfterMs([{ name: 'Retry-After', value: '2' }]), 2000);
    const now = Date.parse('2026-11-22T10:00:00Z');
    assert.equal(retryAfterMs([{ name: 'retry-after', value: 'Sun, 22 Nov 2026 10:00:30 GMT' }], now), 30_000);
    assert.equal(retryAfterMs([{ name: 'retry-after', value: 'soon' }]), undefined);
    assert.equal(retryAfterMs([]), undefined);
  });
  it('--rate per second, minute or hour', () => {
    assert.equal(parseRate('10/s'), 10);
    assert.equal(parseRate('600/m'), 10);
    assert.equal(parseRate('3600/h'), 1);
    assert.equal(parseRate('5'), 5);
    assert.throws(() => parseRate('0/s'), UsageError);
    assert.throws(() => parseRate('fast'), UsageError);
  });
});

describe('the stored configuration keeps no secret', () => {
  const settings: ScanSettings = {
    source: { kind: 'list', url: 'https://api.example.com/v1/employees?api_key=sk_live_0123456789abcdef' },
    template: 'https://api.example.com/v1/employees/{id}',
    method: 'GET',
    headers: [
      { name: 'Authorization', value: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl' },
      { name: 'Accept', value: 'application/json' },
    ],
    concurrency: 4,
    timeoutMs: 15000,
    retries: 2,
    maxBody: 65536,
  };
  it('secrets are stored redacted with a fingerprint; the same ones restore, others are refused', () => {
    const stored = storeConfig(settings);
    const text = JSON.stringify(stored);
    assert.ok(!text.includes('c2lnbmF0dXJlc2lnbmF0dXJl') && !text.includes('sk_live_0123456789abcdef'), text);
    assert.equal(stored.headers[1].value, 'application/json');
    const restored = restoreConfig(
      stored,
      { headers: [settings.headers[0]], list: settings.source.kind === 'list' ? settings.source.url : undefined },
      's.sqlite',
    );
    assert.deepEqual(restored.headers, settings.headers);
    assert.deepEqual(restored.source, settings.source);
    assert.throws(
      () => restoreConfig(stored, { headers: [], list: (settings.source as { url: string }).url }, 's.sqlite'),
      /give it again with -H 'Authorization: …'/,
    );
    assert.throws(
      () =>
        restoreConfig(
          stored,
          {
            headers: [{ name: 'Authorization', value: 'Bearer other' }],
            list: (settings.source as { url: string }).url,
          },
          's.sqlite',
        ),
      /not the one the scan started with/,
    );
    assert.throws(
      () => restoreConfig(stored, { headers: [settings.headers[0]] }, 's.sqlite'),
      /--list URL holds a secret/,
    );
  });
  it('ids go into the URL encoded', () => {
    assert.equal(recordUrl('https://x.test/u/{id}', 'a b/c'), 'https://x.test/u/a%20b%2Fc');
    assert.equal(recordUrlBuilder('https://x.test/u/{id}?v={id}')('é'), 'https://x.test/u/%C3%A9?v=%C3%A9');
  });
  it("the scan's secrets: credential headers, secret query parameters, a URL's password; a stored next page hides them reversibly", () => {
    const secrets = scanSecrets({
      method: 'GET',
      template: 'https://bob:pa%24%24word-1@x.test/u/{id}?access_token=QUERYsecretVALUE',
      headers: [
        { name: 'Authorization', value: 'Bearer tokenVALUEsecret' },
        { name: 'X-Api-Key', value: 'apiKEYsecretVALUE' },
        { name: 'Accept', value: 'application/json' },
      ],
      source: { kind: 'list', url: 'https://x.test/list?api_key=LISTsecretKEY' },
    });
    for (const x of ['tokenVALUEsecret', 'apiKEYsecretVALUE', 'QUERYsecretVALUE', 'LISTsecretKEY', 'pa$$word-1'])
      assert.ok(secrets.includes(x), x);
    assert.ok(!secrets.includes('application/json'));
    const next = 'https://x.test/list?page=2&api_key=LISTsecretKEY&pw=pa%24%24word-1';
    const stored = hideSecrets(next, secrets);
    assert.ok(!stored.includes('LISTsecretKEY') && !stored.includes('pa%24%24word'), stored);
    assert.equal(unhideSecrets(stored, secrets), next);
  });
  it('an id never becomes a dot segment, and one that cannot be encoded is refused', () => {
    const u = recordUrlBuilder('https://x.test/u/{id}/detail?v={id}');
    assert.equal(u('.'), 'https://x.test/u/%2E/detail?v=.');
    assert.equal(u('..'), 'https://x.test/u/%2E%2E/detail?v=..');
    assert.equal(u('a?b#c%d'), 'https://x.test/u/a%3Fb%23c%25d/detail?v=a%3Fb%23c%25d');
    assert.throws(() => recordUrl('https://x.test/u/.{id}', '.'), /would be "\." or "\.\."/);
    assert.equal(recordUrl('https://x.test/u/.{id}', '..'), 'https://x.test/u/...');
    assert.equal(recordUrl('https://x.test/u/v{id}', '..'), 'https://x.test/u/v..');
    assert.throws(() => u(''), UnsafeIdError);
    assert.throws(() => u('\ud800'), /lone UTF-16 surrogate/);
  });
});

describe('denial shapes and record-level evidence', () => {
  it('one shape for refusals that differ only in the record they name', () => {
    const a = bodyShape(
      '{"error":"Forbidden","message":"You may not read employee e0003 (request 5f2a91)"}',
      'application/json',
      'e0003',
    );
    const b = bodyShape(
      '{"message":"You may not read employee e0117 (request 77ab02)","error":"Forbidden"}',
      'application/json',
      'e0117',
    );
    assert.equal(a, b);
    assert.notEqual(a, bodyShape('{"error":"Forbidden","message":"Token expired"}', 'application/json', 'e0003'));
  });
  it('allowed records of the same request argue for a record-level rule and against credential, IP and CORS causes', () => {
    const e = recordLevelEvidence({
      status: 403,
      denied: 20,
      allowed: 100,
      separation: [
        {
          field: 'department',
          values: ['HR'],
          forbidden: 20,
          forbiddenTotal: 20,
          allowed: 0,
          allowedTotal: 100,
          exact: true,
          statement: 'all 20 forbidden records have department = HR; none of the 100 allowed records do',
        },
      ],
      command: 'why403 scan report s.sqlite',
    })!;
    const top = e.claims.find((c) => c.id === 'field-restricted')!;
    assert.equal(top.weight, 0.85);
    assert.ok(e.claims.some((c) => c.id === 'credential-invalid' && c.weight < 0));
    assert.ok(e.claims.some((c) => c.id === 'ip-restricted' && c.weight < 0));
    assert.equal(recordLevelEvidence({ status: 403, denied: 5, allowed: 0, separation: [], command: '' }), undefined);
    // The body's own words name a rule that refuses record by record: the scan backs it, and field-restricted comes second.
    const locked = recordLevelEvidence({
      status: 403,
      denied: 5,
      allowed: 100,
      separation: [
        {
          field: 'status',
          values: ['locked'],
          forbidden: 5,
          forbiddenTotal: 5,
          allowed: 0,
          allowedTotal: 100,
          exact: true,
          statement: 'all 5 forbidden records have status = locked; none of the 100 allowed records do',
        },
      ],
      command: 'why403 scan report s.sqlite',
      bodyCause: { id: 'resource-state', score: 0.6 },
    })!;
    const state = locked.claims.find((c) => c.id === 'resource-state')!;
    assert.ok(state.weight > 0 && state.evidence.some((e) => e.source === 'scan:field status'));
    assert.ok(locked.claims.find((c) => c.id === 'field-restricted')!.weight < 0.6);
    assert.deepEqual(locked.probe.confirms, ['resource-state', 'field-restricted']);
    // A cause that would refuse every record alike is not backed, whatever the words say.
    const expired = recordLevelEvidence({
      status: 403,
      denied: 5,
      allowed: 100,
      separation: [],
      command: '',
      bodyCause: { id: 'credential-expired', score: 0.8 },
    })!;
    assert.equal(expired.claims.find((c) => c.id === 'field-restricted')!.weight, 0.6);
    assert.ok(expired.claims.filter((c) => c.id === 'credential-expired').every((c) => c.weight < 0));
    assert.equal(
      recordLevelEvidence({ status: 401, denied: 5, allowed: 50, separation: [], command: 'why403 scan report s' })!
        .claims[0].id,
      'credential-expired',
    );
  });
});

describe('ids from files', () => {
  const collect = async (source: IdsSource, text: string | Buffer[], skip = 0) => {
    const rows: { id: string; fields?: string }[] = [];
    let read = 0;
    for await (const b of readIds(source, Readable.from(typeof text === 'string' ? [text] : text), skip, 2)) {
      rows.push(...b.rows);
      read = b.read;
    }
    return { rows, read };
  };
  it('lines: a line or a character cut between chunks, CRLF, blank lines, a last line without newline, and a resumed read', async () => {
    const bytes = Buffer.from('a1\r\nb\u00e9\n\nc3\nd4');
    // The second chunk ends inside the two bytes of é; the first inside a CRLF.
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 6), bytes.subarray(6)];
    const all = await collect({ kind: 'ids', file: '-', format: 'lines' }, chunks);
    assert.deepEqual(
      all.rows.map((r) => r.id),
      ['a1', 'b\u00e9', 'c3', 'd4'],
    );
    assert.equal(all.read, 5);
    assert.deepEqual(
      (await collect({ kind: 'ids', file: '-', format: 'lines' }, chunks, 3)).rows.map((r) => r.id),
      ['c3', 'd4'],
    );
  });
  it('JSON lines: a bare value or an object with the id at a path; the rest are fields', async () => {
    const { rows } = await collect(
      { kind: 'ids', file: '-', format: 'jsonl', id: 'user.id' },
      '{"user":{"id":"u1"},"team":"red"}\n\n{"user":{"id":7},"team":"blue"}\n',
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      ['u1', '7'],
    );
    assert.deepEqual(JSON.parse(rows[0].fields!), { 'user.id': 'u1', team: 'red' });
    await assert.rejects(collect({ kind: 'ids', file: '-', format: 'jsonl' }, '{"x":1}\n'), /line 1 has no "id" field/);
    await assert.rejects(collect({ kind: 'ids', file: '-', format: 'jsonl' }, 'not json\n'), /line 1 is not JSON/);
  });
  it('CSV: quoted values, the named column, and a resumed read skips the rows already stored', async () => {
    const csv = 'name,employee_id\n"Doe, Jane",e1\n"O""Brien",e2\nSmith,e3\n';
    const all = await collect({ kind: 'ids', file: '-', format: 'csv', column: 'employee_id' }, csv);
    assert.deepEqual(
      all.rows.map((r) => r.id),
      ['e1', 'e2', 'e3'],
    );
    assert.deepEqual(JSON.parse(all.rows[1].fields!), { name: 'O"Brien' });
    assert.equal(all.read, 3);
    assert.deepEqual(
      (await collect({ kind: 'ids', file: '-', format: 'csv', column: 'employee_id' }, csv, 2)).rows.map((r) => r.id),
      ['e3'],
    );
    await assert.rejects(
      collect({ kind: 'ids', file: '-', format: 'csv' }, csv),
      /no "id" column .*columns: name, employee_id.*--column/,
    );
  });
});
