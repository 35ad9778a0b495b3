// Every importer returns one shape, { exchanges, requests, summary }, and one
// JSON record maps to one Exchange whether it comes as a JSON file, a HAR
// entry or a rule fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Exchange } from '../model/exchange.ts';
import { exchangeFromFixtureJson } from '../rules/_lib/fixtures.ts';
import { importCurl } from './curl.ts';
import { importCurlCmd } from './curl-cmd.ts';
import { importFile, importText } from './detect.ts';
import { readHar } from './har.ts';
import type { Imported, ImportSummary } from './imported.ts';
import { importJson } from './json.ts';
import { importRaw } from './raw.ts';

type AnyImport = Imported<Iterable<Exchange> | AsyncIterable<Exchange>, ImportSummary | Promise<ImportSummary>>;

/** One consumer for every importer: the point of the shape. */
async function consume(i: AnyImport): Promise<{ statuses: number[]; requests: string[]; summary: ImportSummary }> {
  assert.deepEqual(
    Object.keys(i)
      .filter((k) => k !== 'format' && k !== 'har')
      .sort(),
    ['exchanges', 'requests', 'summary'],
  );
  const statuses: number[] = [];
  for await (const e of i.exchanges) statuses.push(e.response.status);
  return { statuses, requests: i.requests.map((r) => `${r.method} ${r.url}`), summary: await i.summary };
}

const entry = (status: number, url: string) => ({
  request: { method: 'GET', url, httpVersion: 'HTTP/1.1', headers: [{ name: 'Cookie', value: 'a=1' }] },
  response: {
    status,
    statusText: '',
    httpVersion: 'HTTP/1.1',
    headers: [{ name: 'Content-Type', value: 'text/html' }],
    content: { size: 2, mimeType: 'text/html', text: 'no' },
  },
});

test('every importer returns { exchanges, requests, summary }, read the same way', async () => {
  const raw = await consume(importRaw('HTTP/1.1 403 Forbidden\r\nServer: nginx\r\n\r\nno', 'r.http'));
  assert.deepEqual(raw, {
    statuses: [403],
    requests: [],
    summary: { total: 1, denied: 1, byStatus: { '403': 1 }, sanitized: false, notes: [] },
  });

  const list = [
    entry(407, 'https://a.test/p'),
    entry(200, 'https://a.test/ok'),
    { request: { url: 'https://a.test/send' } },
  ];
  const json = await consume(importJson(JSON.stringify(list), 'l.json'));
  assert.deepEqual(json, {
    statuses: [407, 200],
    requests: ['GET https://a.test/send'],
    summary: { total: 3, denied: 1, byStatus: { '407': 1, '200': 1 }, sanitized: false, notes: [] },
  });

  const curl = await consume(await importCurl("curl -X POST 'https://a.test/x'", 'c.sh'));
  assert.deepEqual(curl.statuses, []);
  assert.deepEqual(curl.requests, ['POST https://a.test/x']);
  assert.deepEqual(curl.summary, { total: 1, denied: 0, byStatus: {}, sanitized: false, notes: [] });
  const cmd = await consume(await importCurlCmd('curl ^"https://a.test/y^"', 'c.cmd'));
  assert.deepEqual(cmd.requests, ['GET https://a.test/y']);

  const har = Buffer.from(
    JSON.stringify({ log: { entries: [entry(200, 'https://a.test/'), entry(407, 'https://a.test/p')] } }),
  );
  const fromHar = await consume(readHar(har, { name: 'h.har' }));
  assert.deepEqual(fromHar.statuses, [407]);
  assert.deepEqual(fromHar.requests, []);
  assert.equal(fromHar.summary.total, 2);
  assert.equal(fromHar.summary.denied, 1);

  // detect's routes give the same shape, with the format beside it.
  const viaText = await importText(har.toString(), 'h.har');
  assert.equal(viaText.format, 'har');
  assert.deepEqual((await consume(viaText)).statuses, [407]);
  const viaJson = await importText(JSON.stringify(list), 'l.json');
  assert.equal(viaJson.format, 'json');
  assert.deepEqual(await consume(viaJson), json);
});

test('a HAR import still carries .har for callers written before the one shape', async () => {
  const dir = join(import.meta.dirname, 'fixtures', 'har');
  const file = join(dir, 'chromium-156.0.8078.79-sensitive.har');
  const i = await importFile(file);
  assert.equal(i.format, 'har');
  if (i.format !== 'har') return;
  assert.equal(i.har.exchanges, i.exchanges);
  assert.equal(i.har.summary, i.summary);
  const n = (await consume(i)).statuses.length;
  assert.equal((await i.har.summary).denied, n);
});

test('one record, one exchange: as a JSON file, as a HAR entry and as a rule fixture', async () => {
  const record = entry(403, 'https://a.test/p?q=1');
  const [asJson] = importJson(JSON.stringify(record), 'x').exchanges;
  const har = Buffer.from(JSON.stringify({ log: { entries: [record] } }));
  const asHar: Exchange[] = [];
  for await (const e of readHar(har, { name: 'x' }).exchanges) asHar.push(e);
  assert.deepEqual(asHar[0]!.request, asJson!.request);
  assert.deepEqual(asHar[0]!.response, asJson!.response);
  // Derived from the headers and URL, as HAR carries them.
  assert.deepEqual(asJson!.request!.cookies, [{ name: 'a', value: '1' }]);
  assert.deepEqual(asJson!.request!.queryString, [{ name: 'q', value: '1' }]);

  // A fixture maps the same record with nothing derived and HTTP/1.1 as the default version.
  const asFixture = exchangeFromFixtureJson(
    { request: { ...record.request, httpVersion: undefined }, response: record.response },
    'f.json',
  );
  const { cookies: _c, queryString: _q, ...plain } = asJson!.request!;
  assert.deepEqual(asFixture.request, plain);
  assert.deepEqual(asFixture.response, asJson!.response);
  assert.deepEqual(asFixture.source, { kind: 'json', name: 'f.json' });
});

test('"body" shorthand and object headers: a JSON input derives size and type, a fixture keeps what it says', () => {
  const record = {
    response: { status: 401, headers: { 'Content-Type': 'application/json', 'X-A': ['1', '2'] }, body: { error: 'x' } },
  };
  const [json] = importJson(record, 'j').exchanges;
  assert.deepEqual(json!.response.content, { size: 13, mimeType: 'application/json', text: '{"error":"x"}' });
  assert.deepEqual(
    json!.response.headers.map((h) => h.value),
    ['application/json', '1', '2'],
  );
  const fixture = exchangeFromFixtureJson(record, 'f');
  assert.deepEqual(fixture.response.content, { mimeType: '', text: '{"error":"x"}' });
  assert.equal(fixture.response.httpVersion, 'HTTP/1.1');
});
