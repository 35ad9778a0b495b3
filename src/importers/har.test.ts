import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  findSeams,
  readHar,
  REDACTED_NOTE,
  SANITIZED_NOTE,
  scanFile,
  type HarSummary,
  type ReadHarOptions,
} from './har.ts';
import { InputError } from '../errors.ts';
import { isDenial } from '../engine/status.ts';
import { diagnose } from '../diagnose.ts';
import type { Exchange } from '../model/exchange.ts';
import { generateHar } from '../../bench/generate-har.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'har');
const SENSITIVE = join(FIXTURES, 'chromium-156.0.8078.79-sensitive.har');
const SANITIZED = join(FIXTURES, 'chromium-156.0.8078.79-sanitized.har');

async function readAll(
  input: Parameters<typeof readHar>[0],
  opts: Partial<ReadHarOptions> = {},
): Promise<{ exchanges: Exchange[]; summary: HarSummary }> {
  const r = readHar(input, { name: 'test.har', ...opts });
  const exchanges: Exchange[] = [];
  for await (const e of r.exchanges) exchanges.push(e);
  return { exchanges, summary: await r.summary };
}

async function failure(input: Parameters<typeof readHar>[0], opts: Partial<ReadHarOptions> = {}): Promise<InputError> {
  try {
    await readAll(input, opts);
  } catch (err) {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return err;
  }
  assert.fail('expected the read to fail');
}

interface HarEntry {
  request: { method: string; url: string; headers: { name: string; value: string }[] };
  response: {
    status: number | string;
    statusText: string;
    headers: { name: string; value: string }[];
    content: { text?: string; encoding?: string };
  };
  startedDateTime?: string;
  serverIPAddress?: string;
}

/** What JSON.parse of the whole file says readHar must yield. */
function oracle(bytes: Buffer): { total: number; byStatus: Record<string, number>; denied: Array<[number, HarEntry]> } {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const entries = (JSON.parse(text) as { log: { entries: HarEntry[] } }).log.entries;
  const byStatus: Record<string, number> = {};
  for (const e of entries)
    byStatus[String(Number(e.response.status))] = (byStatus[String(Number(e.response.status))] ?? 0) + 1;
  const denied = entries
    .map((e, i) => [i, e] as [number, HarEntry])
    .filter(([, e]) => isDenial(Number(e.response.status)));
  return { total: entries.length, byStatus, denied };
}

function assertMatches(got: { exchanges: Exchange[]; summary: HarSummary }, bytes: Buffer, label: string): void {
  const want = oracle(bytes);
  assert.equal(got.summary.total, want.total, `${label}: total`);
  assert.deepEqual(got.summary.byStatus, want.byStatus, `${label}: byStatus`);
  assert.equal(got.summary.denied, want.denied.length, `${label}: denied`);
  assert.deepEqual(
    got.exchanges.map((e) => e.source.index),
    want.denied.map(([i]) => i),
    `${label}: the denied entries, in file order`,
  );
  got.exchanges.forEach((ex, k) => {
    const e = want.denied[k][1];
    assert.equal(ex.source.kind, 'har');
    assert.equal(ex.response.status, Number(e.response.status));
    assert.equal(ex.response.statusText, e.response.statusText);
    assert.deepEqual(ex.response.headers, e.response.headers);
    assert.equal(ex.response.content.text, e.response.content.text, `${label}: body of entry ${ex.source.index}`);
    assert.equal(ex.request?.method, e.request.method);
    assert.equal(ex.request?.url, e.request.url);
    assert.deepEqual(ex.request?.headers, e.request.headers);
    assert.equal(ex.startedDateTime, e.startedDateTime);
    if (e.serverIPAddress) assert.equal(ex.serverIPAddress, e.serverIPAddress);
  });
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'why403-har-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the real Chromium exports: same denied entries as JSON.parse, at any chunk size', async () => {
  for (const file of [SENSITIVE, SANITIZED]) {
    const bytes = readFileSync(file);
    for (const highWaterMark of [1, 2, 3, 7, 64, 1000, 1 << 20])
      assertMatches(await readAll(bytes, { highWaterMark }), bytes, `${file} @${highWaterMark}`);
    assertMatches(await readAll(file, { worker: false, highWaterMark: 5 }), bytes, `${file} from disk`);
    assertMatches(await readAll(file, { worker: true, highWaterMark: 11 }), bytes, `${file} on a worker`);
  }
});

test('the exchange carries what the HAR entry says', async () => {
  const { exchanges } = await readAll(SENSITIVE);
  assert.equal(exchanges.length, 2);
  const [unauthorized, forbidden] = exchanges;
  assert.equal(unauthorized.response.status, 401);
  assert.match(
    unauthorized.response.headers.find((h) => h.name === 'WWW-Authenticate')?.value ?? '',
    /error="invalid_token"/,
  );
  assert.match(unauthorized.request?.headers.find((h) => h.name === 'Authorization')?.value ?? '', /^Bearer eyJ/);
  assert.equal(unauthorized.source.name, 'test.har');
  assert.equal(unauthorized.source.index, 4);
  assert.equal(unauthorized.serverIPAddress, '127.0.0.1');
  assert.ok(unauthorized.request?.cookies?.some((c) => c.name === 'session'));
  assert.equal(forbidden.request?.method, 'POST');
  assert.equal(forbidden.request?.postData?.text, '{"to":"acct-2","amount":10}');
  assert.match(forbidden.response.content.text ?? '', /<pre>Forbidden<\/pre>/);
});

test('a generated browser-shaped HAR (escaped JSON, base64, HTTP/2 pseudo-headers) matches JSON.parse across chunk boundaries', async (t) => {
  const dir = tempDir(t);
  const g = await generateHar({ entries: 400, seed: 7, file: join(dir, 'gen.har') });
  const bytes = readFileSync(g.file);
  assert.ok(g.denials > 0);
  for (const highWaterMark of [97, 4093, 65536])
    assertMatches(await readAll(bytes, { highWaterMark }), bytes, `generated @${highWaterMark}`);
  assertMatches(await readAll(g.file, { worker: true, highWaterMark: 8191 }), bytes, 'generated on a worker');
});

test('escapes, backslash runs and multi-byte text split across chunks', async () => {
  const tricky = [
    '\\',
    '\\\\',
    '"',
    '\\"',
    'a\\"b\\\\"c',
    'ends with backslash \\',
    '€ ünïcödé 😀 \u2028',
    '\u0000\u001f',
    '}{][,:',
  ];
  const entries = tricky.map((text, i) => ({
    startedDateTime: `2026-01-01T00:00:0${i}Z`,
    request: {
      method: 'GET',
      url: `https://example.test/${i}?q=${encodeURIComponent(text)}`,
      headers: [{ name: 'x-text', value: text }],
    },
    response: {
      status: i % 2 ? 403 : 200,
      statusText: text,
      headers: [{ name: text || 'x', value: text }],
      content: { text: text.repeat(3) },
    },
  }));
  // A key spelled with an escape is still that key.
  const pretty = Buffer.from(JSON.stringify({ log: { version: '1.2', entries } }, null, 1));
  const escapedKey = Buffer.from(JSON.stringify({ log: { entries } }).replace('"status":403', '"st\\u0061tus":403'));
  for (const bytes of [pretty, escapedKey])
    for (const highWaterMark of [1, 2, 3, 4, 5, 6, 7, 8, 9, 1 << 16])
      assertMatches(await readAll(bytes, { highWaterMark }), bytes, `tricky @${highWaterMark}`);
});

test('layouts: minified, CRLF and tabs, BOM, pages after entries, log keys in any order, status last or as a string', async () => {
  const entry = (status: number | string, url: string) => ({
    response: { content: { size: 2, text: 'no' }, headers: [], statusText: '', status },
    request: { url, method: 'GET', headers: [] },
  });
  const log = {
    entries: [entry(200, 'https://a.test/'), entry(403, 'https://a.test/x'), entry('401', 'https://a.test/y')],
    pages: [{ id: 'p' }],
    version: '1.2',
    creator: { name: 'x', version: '1' },
  };
  const variants = [
    JSON.stringify({ log }),
    `\uFEFF${JSON.stringify({ log }, null, 2)}`,
    JSON.stringify({ comment: 'before', log, after: [1, 2, { log: 'not this one' }] }, null, '\t').replaceAll(
      '\n',
      '\r\n',
    ),
    `  \n${JSON.stringify({ log }, null, 4)}\n\n`,
  ];
  for (const v of variants) {
    const bytes = Buffer.from(v);
    for (const highWaterMark of [1, 4, 1 << 16]) {
      const got = await readAll(bytes, { highWaterMark });
      assert.deepEqual(
        got.exchanges.map((e) => [e.source.index, e.response.status]),
        [
          [1, 403],
          [2, 401],
        ],
      );
      assert.equal(got.summary.total, 3);
    }
  }
});

test('an entry far larger than a chunk is reassembled whole', async () => {
  const body = 'x'.repeat(3 << 20) + '\\"' + 'y'.repeat(1 << 20);
  const text = JSON.stringify({
    log: {
      entries: [
        {
          request: { method: 'GET', url: 'https://big.test/', headers: [] },
          response: { status: 403, statusText: 'Forbidden', headers: [], content: { text: body } },
        },
      ],
    },
  });
  const { exchanges } = await readAll(Buffer.from(text), { highWaterMark: 64 << 10 });
  assert.equal(exchanges.length, 1);
  assert.equal(exchanges[0].response.content.text, body);
});

test('input that is not a HAR fails with one line naming the input and what was expected', async () => {
  const cases: Array<[string, RegExp]> = [
    ['', /^test\.har: is empty; expected a HAR file/],
    [' \n\t', /^test\.har: is empty; expected a HAR file/],
    ['[]', /^test\.har: not a HAR file: expected a JSON object with log\.entries, found an array at byte 0$/],
    ['{"log": {"version": "1.2"}}', /^test\.har: not a HAR file: the "log" object has no "entries" array$/],
    [
      '{"request": {}, "response": {"status": 403}}',
      /^test\.har: not a HAR file: expected a JSON object with a "log" object/,
    ],
    ['{"log": []}', /^test\.har: not a HAR file: "log" at byte 8 is not an object$/],
    ['{"log": {"entries": {}}}', /^test\.har: not a HAR file: log\.entries at byte 20 is not an array$/],
    ['{"log": {"entries": [1]}}', /^test\.har: not a HAR file: log\.entries\[0\] at byte 21 is not an object$/],
    [
      'HTTP/1.1 403 Forbidden\r\n\r\n',
      /^test\.har: not valid JSON at byte 0: expected a HAR file \(a JSON object with log\.entries\), found 'H'$/,
    ],
    ['\xff\xfe{', /^test\.har: is UTF-16 encoded/],
  ];
  for (const [text, re] of cases) {
    const err = await failure(Buffer.from(text, text.startsWith('\xff') ? 'latin1' : 'utf8'));
    assert.match(err.message, re);
    assert.equal(err.input, 'test.har');
    assert.equal(err.exitCode, 2);
  }
});

test('invalid JSON is reported at the byte JSON.parse points to', async () => {
  const good = readFileSync(SENSITIVE, 'utf8');
  const at = good.indexOf('"statusText"', good.indexOf('"status": 401'));
  const comma = good.lastIndexOf(',', at);
  const broken = good.slice(0, comma) + good.slice(comma + 1); // a missing comma
  let parsePosition = -1;
  try {
    JSON.parse(broken);
  } catch (e) {
    parsePosition = Number(/position (\d+)/.exec((e as Error).message)?.[1]);
  }
  assert.ok(parsePosition > 0);
  for (const highWaterMark of [3, 4096]) {
    const err = await failure(Buffer.from(broken), { highWaterMark });
    assert.match(
      err.message,
      new RegExp(
        `^test\\.har: not valid JSON at byte ${parsePosition}: expected ',' or '}', found '"' \\(in log\\.entries\\[4\\]\\)$`,
      ),
    );
  }
});

test('a truncated file says where it ends and in which entry', async (t) => {
  const bytes = readFileSync(SENSITIVE);
  const cut = bytes.indexOf('"WWW-Authenticate"') + 5; // inside a string of entry 4
  let err = await failure(bytes.subarray(0, cut), { highWaterMark: 7 });
  assert.match(
    err.message,
    new RegExp(
      `^test\\.har: is truncated: it ends at byte ${cut} inside a string that starts at byte ${cut - 5} \\(in log\\.entries\\[4\\]\\); expected a complete HAR file$`,
    ),
  );
  const between = bytes.lastIndexOf('}') - 5; // inside the closing brackets
  err = await failure(bytes.subarray(0, between));
  assert.match(
    err.message,
    new RegExp(
      `^test\\.har: is truncated: it ends at byte ${between} where .+ was expected; expected a complete HAR file$`,
    ),
  );
  // The same words when the file is scanned on a worker thread.
  const file = join(tempDir(t), 'cut.har');
  writeFileSync(file, bytes.subarray(0, cut));
  const onWorker = await failure(file, { worker: true, name: file });
  assert.equal(
    onWorker.message,
    `${file}: is truncated: it ends at byte ${cut} inside a string that starts at byte ${cut - 5} (in log.entries[4]); expected a complete HAR file`,
  );
});

test('a file that cannot be read', async () => {
  const err = await failure('/nonexistent/why403.har', { name: '/nonexistent/why403.har' });
  assert.equal(err.message, '/nonexistent/why403.har: cannot read: no such file; expected a HAR file');
});

test('sanitized export: the real Chromium "Export HAR (sanitized)" file is recognised and every denial says so', async () => {
  const { exchanges, summary } = await readAll(SANITIZED);
  assert.equal(summary.sanitized, true);
  assert.deepEqual(summary.notes, [SANITIZED_NOTE]);
  assert.equal(exchanges.length, 2);
  for (const e of exchanges) assert.deepEqual(e.notes, [SANITIZED_NOTE]);
  assert.match(SANITIZED_NOTE, /Allow to generate HAR with sensitive data/);
  assert.match(SANITIZED_NOTE, /why403 check/);

  const whole = await readAll(SENSITIVE);
  assert.equal(whole.summary.sanitized, false);
  assert.deepEqual(whole.summary.notes, []);
  for (const e of whole.exchanges) assert.equal(e.notes, undefined);
});

test('sanitized export: headersSize still counting the removed headers is evidence on its own', async () => {
  // Another tool's name: the creator no longer says Chromium, the header sizes still do.
  const renamed = (file: string) =>
    Buffer.from(readFileSync(file, 'utf8').replace('"name": "WebInspector"', '"name": "Other Exporter"'));
  const sanitized = await readAll(renamed(SANITIZED));
  assert.equal(sanitized.summary.sanitized, true);
  assert.deepEqual(sanitized.exchanges[0].notes, [SANITIZED_NOTE]);
  const whole = await readAll(renamed(SENSITIVE));
  assert.equal(whole.summary.sanitized, false);
  // Without sizes (as over HTTP/2), a Chromium export with no credential anywhere is taken as sanitized…
  const noSizes = (file: string) =>
    Buffer.from(readFileSync(file, 'utf8').replace(/"headersSize": \d+/g, '"headersSize": -1'));
  assert.equal((await readAll(noSizes(SANITIZED))).summary.sanitized, true);
  // …but one that carries cookies is not.
  assert.equal((await readAll(noSizes(SENSITIVE))).summary.sanitized, false);
});

test('redacted credentials are reported as such', async () => {
  const text = readFileSync(SENSITIVE, 'utf8')
    .replace(/("name": "Cookie",\s*"value": )"[^"]*"/g, '$1"REDACTED"')
    .replace(/("name": "Authorization",\s*"value": )"[^"]*"/g, '$1"Bearer [REDACTED]"')
    .replace(/("name": "Set-Cookie",\s*"value": )"[^"]*"/g, '$1"REDACTED"')
    .replace(/"cookies": \[[^\]]*\]/g, '"cookies": []');
  const { exchanges, summary } = await readAll(Buffer.from(text), { highWaterMark: 13 });
  assert.equal(summary.sanitized, true);
  assert.deepEqual(summary.notes, [REDACTED_NOTE]);
  assert.deepEqual(exchanges[0].notes, [REDACTED_NOTE]);
});

test('standard input', () => {
  const script = `import { readHar } from ${JSON.stringify(join(import.meta.dirname, 'har.ts'))};
const r = readHar('-', { name: '-' });
const out = [];
for await (const e of r.exchanges) out.push([e.source.name, e.source.index, e.response.status]);
const s = await r.summary;
console.log(JSON.stringify({ out, total: s.total, sanitized: s.sanitized }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    input: readFileSync(SANITIZED),
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), {
    out: [
      ['-', 4, 401],
      ['-', 6, 403],
    ],
    total: 7,
    sanitized: true,
  });
});

test('a Node stream, including one that yields strings', async () => {
  const bytes = readFileSync(SENSITIVE);
  const chunks = [];
  for (let i = 0; i < bytes.length; i += 1000) chunks.push(bytes.subarray(i, i + 1000));
  assertMatches(await readAll(Readable.from(chunks)), bytes, 'buffer stream');
  const ascii = readFileSync(SENSITIVE, 'utf8');
  assertMatches(await readAll(Readable.from([ascii.slice(0, 5000), ascii.slice(5000)])), bytes, 'string stream');
});

test('awaiting the summary first does not deadlock, and the exchanges still come afterwards', async () => {
  const r = readHar(readFileSync(SENSITIVE), { name: 'x.har', highWaterMark: 100 });
  const summary = await r.summary;
  assert.equal(summary.denied, 2);
  const statuses = [];
  for await (const e of r.exchanges) statuses.push(e.response.status);
  assert.deepEqual(statuses, [401, 403]);
});

test('stopping early ends the read and says so', async (t) => {
  const g = await generateHar({ entries: 600, seed: 11, file: join(tempDir(t), 'stop.har') });
  for (const worker of [false, true]) {
    const r = readHar(g.file, { name: g.file, worker, highWaterMark: 4096 });
    for await (const e of r.exchanges) {
      assert.ok(e.response.status === 401 || e.response.status === 403);
      break;
    }
    const s = await r.summary;
    // Counts cover what was read before the stop: at least the one taken, not the whole file.
    assert.ok(s.denied >= 1 && s.denied < g.denials, `denied ${s.denied} of ${g.denials}`);
    assert.ok(s.total < 600);
    assert.match(s.notes.at(-1) ?? '', /^Reading stopped early/);
  }
});

test('summaries of files without denials say so', async () => {
  const none = await readAll(
    Buffer.from(
      '{"log":{"entries":[{"request":{"method":"GET","url":"https://a.test/","headers":[]},"response":{"status":200,"statusText":"OK","headers":[],"content":{}}}]}}',
    ),
  );
  assert.deepEqual(none.summary.notes, ['None of the 1 entries was answered 401, 403 or 407.']);
  const empty = await readAll(Buffer.from('{"log":{"entries":[]}}'));
  assert.deepEqual(empty.summary, {
    total: 0,
    denied: 0,
    byStatus: {},
    sanitized: false,
    notes: ['log.entries is empty: the HAR holds no requests.'],
  });
});

test('a 407 (Proxy Authentication Required) entry is a denial: yielded, counted and diagnosed', async (t) => {
  const entry = (status: number, url: string, headers: { name: string; value: string }[] = []) => ({
    startedDateTime: '2026-12-01T10:00:00.000Z',
    request: { method: 'GET', url, httpVersion: 'HTTP/1.1', headers: [], cookies: [], queryString: [] },
    response: {
      status,
      statusText: '',
      httpVersion: 'HTTP/1.1',
      headers,
      cookies: [],
      content: { size: 0, mimeType: 'text/html', text: '' },
    },
  });
  const challenge = [{ name: 'Proxy-Authenticate', value: 'Basic realm="corp proxy"' }];
  const har = {
    log: {
      version: '1.2',
      creator: { name: 'test', version: '1' },
      entries: [
        entry(200, 'https://a.test/ok'),
        entry(407, 'https://a.test/via-proxy', challenge),
        entry(403, 'https://a.test/no'),
      ],
    },
  };
  const bytes = Buffer.from(JSON.stringify(har, null, 2));
  const file = join(tempDir(t), 'proxy.har');
  writeFileSync(file, bytes);
  for (const [label, input, opts] of [
    ['buffer', bytes, {}],
    ['file', file, {}],
    ['file, worker', file, { worker: true }],
  ] as const) {
    const got = await readAll(input, { highWaterMark: 64, ...opts });
    assert.deepEqual(
      got.exchanges.map((e) => [e.source.index, e.response.status]),
      [
        [1, 407],
        [2, 403],
      ],
      label,
    );
    assert.deepEqual(got.summary.byStatus, { '200': 1, '407': 1, '403': 1 }, label);
    assert.equal(got.summary.denied, 2, label);
  }
  const [proxy] = (await readAll(bytes)).exchanges;
  const report = await diagnose(proxy!);
  assert.equal(report.status, 407);
  assert.equal(report.outcome, 'unauthenticated');
  assertMatches(await readAll(bytes), bytes, '407');
});

async function viaSegments(
  file: string,
  seams: number[],
): Promise<{ indexes: number[]; total: number; denied: number; byStatus: Record<string, number> }> {
  const gen = scanFile(file, 'seg.har', 4096, seams);
  const indexes: number[] = [];
  for (;;) {
    const step = await gen.next();
    if (step.done)
      return { indexes, total: step.value.total, denied: step.value.denied, byStatus: step.value.byStatus };
    for (const d of step.value.items) {
      assert.equal(
        JSON.parse(d.bytes.toString()).response.status % 400 < 4,
        true,
        'the bytes are a whole denied entry',
      );
      indexes.push(d.index);
    }
  }
}

test('a large file is cut where entries start and shared with a worker; the result is the same', async (t) => {
  const dir = tempDir(t);
  const g = await generateHar({ entries: 3000, seed: 5, file: join(dir, 'split.har') });
  const bytes = readFileSync(g.file);
  const seams = findSeams(g.file, bytes.length, g.file, 16);
  assert.equal(seams.length, 17, 'a seam near every cut');
  for (const at of seams.slice(1, -1)) assert.match(bytes.subarray(at - 16, at + 1).toString(), /},\n {6}\{$/);
  assertMatches(await readAll(g.file, { worker: true }), bytes, 'shared with a worker');

  // An error in the worker's part names the entry as the whole file counts it.
  const cut = bytes.lastIndexOf('"startedDateTime"') + 3;
  writeFileSync(join(dir, 'cut.har'), bytes.subarray(0, cut));
  const inThread = await failure(join(dir, 'cut.har'), { worker: false });
  assert.match(inThread.message, /\(in log\.entries\[2999\]\)/);
  for (let run = 0; run < 3; run++)
    assert.equal((await failure(join(dir, 'cut.har'), { worker: true })).message, inThread.message);
});

test('a seam that is not between two entries costs a rescan, never a wrong result', async (t) => {
  const dir = tempDir(t);
  const g = await generateHar({ entries: 1500, seed: 9, file: join(dir, 'seams.har') });
  const bytes = readFileSync(g.file);
  const want = oracle(bytes);
  const good = findSeams(g.file, bytes.length, g.file, 8);
  assert.equal(good.length, 9);
  // A "{" that opens a header object, not an entry, halfway between good[3] and good[4], with denials before it.
  const wrong = bytes.indexOf('{', bytes.indexOf('"headers": [', Math.floor((good[3] + good[4]) / 2)));
  assert.ok(wrong > good[3] && wrong < good[4]);
  assert.match(bytes.subarray(good[3], wrong).toString(), /"status": 40[13],/);
  const firstWrong = bytes.indexOf('{', bytes.indexOf('"headers": [', Math.floor((good[0] + good[1]) / 2)));
  assert.ok(firstWrong < good[1]);
  const cases: Array<[string, number[]]> = [
    ['all seams right', good],
    ['a seam is wrong: the rest is read again from the last right one', [...good.slice(0, 4), wrong, ...good.slice(5)]],
    ['the first seam is wrong', [0, firstWrong, ...good.slice(2)]],
    [
      'the last seam is wrong',
      [...good.slice(0, 8), bytes.indexOf('{', bytes.indexOf('"headers": [', good[8] - 100000)), bytes.length],
    ],
  ];
  for (const [label, seams] of cases) {
    const got = await viaSegments(g.file, seams);
    assert.deepEqual(
      got.indexes,
      want.denied.map(([i]) => i),
      label,
    );
    assert.equal(got.total, want.total, label);
    assert.equal(got.denied, want.denied.length, label);
    assert.deepEqual(got.byStatus, want.byStatus, label);
  }
});

test('when the cut falls between two objects that are not entries, the result is still right', async (t) => {
  // log.entries first, then a long pages array at the same indentation: the cuts land among the pages.
  const entry = (i: number) => ({
    request: { method: 'GET', url: `https://a.test/${i}`, headers: [] },
    response: { status: i % 5 ? 200 : 403, statusText: '', headers: [], content: { text: 'x'.repeat(50) } },
  });
  const pages = Array.from({ length: 4000 }, (_, i) => ({ id: `page_${i}`, title: 't'.repeat(40) }));
  const text = JSON.stringify({ log: { entries: Array.from({ length: 50 }, (_, i) => entry(i)), pages } }, null, 2);
  const file = join(tempDir(t), 'pages.har');
  writeFileSync(file, text);
  const seams = findSeams(file, statSync(file).size, file, 8);
  assert.ok(seams.length > 3 && seams[1] > text.indexOf('"pages"'), 'the seams are among the pages');
  assertMatches(await readAll(file, { worker: true }), Buffer.from(text), 'cut among pages');
  const got = await viaSegments(file, seams);
  assert.equal(got.total, 50);
});

test('split across threads, every denial still knows who wrote the file (sanitized-export note)', async (t) => {
  const dir = tempDir(t);
  const g = await generateHar({ entries: 800, seed: 13, file: join(dir, 'gen.har') });
  // The generated file as Chromium's sanitized export would leave it: no credential headers, empty cookie lists.
  const text = readFileSync(g.file, 'utf8')
    .replace(/"name": "(cookie|authorization|set-cookie)"/g, '"name": "x-$1-was-here"')
    .replace(/"cookies": \[[^\]]*\]/g, '"cookies": []');
  const file = join(dir, 'sanitized.har');
  writeFileSync(file, text);
  for (const worker of [false, true]) {
    const { exchanges, summary } = await readAll(file, { worker });
    assert.equal(summary.sanitized, true);
    assert.equal(exchanges.length, g.denials);
    for (const e of exchanges) assert.deepEqual(e.notes, [SANITIZED_NOTE], `entry ${e.source.index}, worker ${worker}`);
  }
});

test('an entry whose request method is empty reads as GET, as one without a method does', async () => {
  const har = JSON.stringify({
    log: { entries: [{ request: { method: '', url: 'http://a.test/' }, response: { status: 401 } }] },
  });
  const { exchanges } = await readAll(Buffer.from(har));
  assert.equal(exchanges[0]!.request!.method, 'GET');
});
