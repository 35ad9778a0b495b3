// The library as an application imports it: by package name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  diagnose,
  fromHar,
  fromCurl,
  fromRaw,
  renderTerminal,
  renderMarkdown,
  REPORT_SCHEMA,
  CAUSE_IDS,
  type Report,
} from 'why403';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('diagnose(fromRaw(text)) gives a report@1', async () => {
  const report: Report = await diagnose(
    fromRaw(readFileSync(`${root}examples/s3-expired-presigned-url.http`, 'utf8'), 'example'),
  );
  assert.equal(report.schema, REPORT_SCHEMA);
  assert.equal(report.deniedBy?.product, 'aws-s3');
  assert.equal(report.causes[0].id, 'credential-expired');
  assert.ok(CAUSE_IDS.includes(report.causes[0].id));
  assert.match(renderTerminal(report), /Who said no/);
  assert.match(renderMarkdown(report), /### What to try/);
});

test('fromHar streams denied entries and a summary', async () => {
  const reading = fromHar(`${root}src/importers/fixtures/har/chromium-156.0.8078.79-sensitive.har`, {
    name: 'sensitive.har',
  });
  const statuses: number[] = [];
  for await (const exchange of reading.exchanges) statuses.push((await diagnose(exchange)).status);
  const summary = await reading.summary;
  assert.deepEqual(statuses, [401, 403]);
  assert.equal(summary.denied, 2);
  assert.equal(summary.sanitized, false);
});

test('fromCurl reads a browser curl command into a request', async () => {
  const req = await fromCurl(
    `curl 'https://api.example.test/v1/items?x=1' -H 'accept: application/json' -H $'x-note: it\\'s' --data-raw '{"a":1}'`,
  );
  assert.equal(req.method, 'POST');
  assert.equal(req.url, 'https://api.example.test/v1/items?x=1');
  assert.equal(req.headers.find((h) => h.name.toLowerCase() === 'x-note')?.value, "it's");
  assert.equal(req.postData?.text, '{"a":1}');
});
