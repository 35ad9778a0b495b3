import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import type { Exchange } from '../model/exchange.ts';
import { binaryKind, detectFormat, importFile, importText, DETECT_BYTES, type Import } from './detect.ts';

const read = (p: string) => JSON.parse(readFileSync(new URL(p, import.meta.url), 'utf8'));
const chromium = read('./fixtures/curl/chromium-copy-as-curl.json');
const rawV = read('./fixtures/raw/curl-v-http1.json').input as string;
const rawWire = read('./fixtures/raw/wire-post-nginx.json').input as string;
const rawResponse = read('./fixtures/raw/curl-i-response.json').input as string;
const jsonText = JSON.stringify(read('./fixtures/json/nginx-deny-shorthand.json').input, null, 2);
const harText = chromium.harText as string;

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'why403-detect-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function collect(imp: Import): Promise<Exchange[]> {
  if (imp.format !== 'har') return imp.exchanges;
  const out: Exchange[] = [];
  for await (const e of imp.har.exchanges) out.push(e);
  return out;
}

async function rejectsWith(p: Promise<unknown>, input: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.equal(err.input, input);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

test('detectFormat on real inputs of every kind', () => {
  assert.equal(detectFormat(harText), 'har');
  assert.equal(detectFormat(harText.slice(0, 40)), 'har', 'the first bytes are enough');
  assert.equal(detectFormat('\uFEFF' + harText), 'har');
  assert.equal(detectFormat(jsonText), 'json');
  assert.equal(detectFormat(JSON.stringify(JSON.parse(harText).log.entries[0])), 'json', 'a single HAR entry is JSON');
  assert.equal(detectFormat(`[${jsonText}]`), 'json');
  assert.equal(detectFormat(rawV), 'raw');
  assert.equal(detectFormat(rawWire), 'raw');
  assert.equal(detectFormat(rawResponse), 'raw');
  assert.equal(detectFormat(chromium.bash), 'curl-bash');
  assert.equal(detectFormat(chromium.bashAll), 'curl-bash');
  assert.equal(detectFormat(`$ ${chromium.bash}`), 'curl-bash', 'a pasted prompt');
  assert.equal(detectFormat(chromium.cmd), 'curl-cmd');
  assert.equal(detectFormat(chromium.cmdAll), 'curl-cmd');
  assert.equal(detectFormat('curl.exe -X POST https://example.com/a -d x^&y'), 'curl-cmd');
  assert.equal(detectFormat(chromium.powershell), undefined);
  assert.equal(detectFormat('   \n'), undefined);
  assert.equal(detectFormat('hello'), undefined);
  assert.equal(detectFormat('curly braces'), undefined);
});

test('importText routes each format to its importer', async () => {
  const v = await importText(rawV, 'v.txt');
  assert.equal(v.format, 'raw');
  assert.equal((await collect(v))[0]?.response.status, 403);

  const j = await importText(jsonText, 'x.json');
  assert.equal(j.format, 'json');
  assert.equal((await collect(j))[0]?.source.kind, 'json');

  const b = await importText(chromium.bashAll, 'paste');
  assert.ok(b.format === 'curl-bash');
  assert.equal(b.exchanges.length, 0);
  assert.deepEqual(
    b.requests.map((r) => r.method),
    ['GET', 'POST'],
  );

  const c = await importText(chromium.cmd, 'paste');
  assert.ok(c.format === 'curl-cmd');
  assert.equal(c.requests[0]?.method, 'POST');

  const reqOnly = await importText('GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n', 'req.txt');
  assert.ok(reqOnly.format === 'raw');
  assert.deepEqual([reqOnly.exchanges.length, reqOnly.requests[0]?.url], [0, 'http://example.com/x']);

  const jsonReq = await importText('{"request":{"url":"https://example.com/"}}', 'r.json');
  assert.ok(jsonReq.format === 'json');
  assert.equal(jsonReq.requests.length, 1);

  const h = await importText(harText, 'h.har');
  assert.equal(h.format, 'har');
  const hx = await collect(h);
  assert.equal(hx.length, 1);
  assert.equal(hx[0]?.response.status, 403);
});

test('an input no importer reads: the error lists the formats tried', async () => {
  await rejectsWith(
    importText('hello world\nsecond', 'notes.txt'),
    'notes.txt',
    /expected a HAR file, a JSON \{request,response\}, raw HTTP text, or a curl command; found "hello world"/,
  );
  await rejectsWith(importText('', 'empty'), 'empty', /expected a HAR file, .*; found an empty input/);
  await rejectsWith(
    importText(chromium.powershell, 'ps.txt'),
    'ps.txt',
    /PowerShell \(Invoke-WebRequest\) copies are not supported/,
  );
  await rejectsWith(
    importText('fetch("https://example.com/", { "headers": {} });', 'f.js'),
    'f.js',
    /fetch\(\) copies are not supported/,
  );
});

test('importFile reads every kind of file; a HAR goes to readHar', async () => {
  const cases: [string, string, string][] = [
    ['v.txt', rawV, 'raw'],
    ['x.json', jsonText, 'json'],
    ['c.sh', chromium.bash, 'curl-bash'],
    ['c.cmd', chromium.cmd.replace(/\n/g, '\r\n'), 'curl-cmd'],
    ['h.har', harText, 'har'],
  ];
  for (const [name, content, format] of cases) {
    const imp = await importFile(file(name, content));
    assert.equal(imp.format, format, name);
    if (imp.format === 'har') {
      const ex = await collect(imp);
      assert.equal(ex[0]?.source.name, join(dir, name));
      const s = await imp.har.summary;
      assert.deepEqual([s.total, s.denied], [1, 1]);
    } else if (format.startsWith('curl')) {
      assert.equal(imp.requests[0]?.postData?.text?.slice(0, 12), `note=it's "q`, name);
    } else {
      assert.equal(imp.exchanges[0]?.response.status, 403, name);
    }
  }
});

test('a HAR is detected on its first bytes and not read whole', async () => {
  // The tail is broken: only a reader that went through the whole file can notice.
  const broken = harText.replace(/\]\s*\}\s*\}\s*$/, '');
  const p = file('broken.har', broken + ' '.repeat(DETECT_BYTES));
  const imp = await importFile(p);
  assert.equal(imp.format, 'har');
  if (imp.format !== 'har') return;
  await assert.rejects(imp.har.summary, InputError);
});

test('a text file longer than what detection reads is read whole', async () => {
  const big = {
    request: { url: 'https://example.com/' },
    response: { status: 403, body: 'x'.repeat(DETECT_BYTES * 2) },
  };
  const imp = await importFile(file('big.json', JSON.stringify(big)));
  assert.ok(imp.format === 'json');
  assert.equal(imp.exchanges[0]?.response.content.text?.length, DETECT_BYTES * 2);
});

test('UTF-8 with a BOM and UTF-16LE files', async () => {
  const bom = await importFile(file('bom.json', '\uFEFF' + jsonText));
  assert.equal(bom.format, 'json');
  const u16 = await importFile(
    file('u16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(rawResponse, 'utf16le')])),
  );
  assert.ok(u16.format === 'raw');
  assert.equal(u16.exchanges[0]?.response.status, 403);
});

test('file errors are one line naming the path', async () => {
  await rejectsWith(importFile(join(dir, 'nope.har')), join(dir, 'nope.har'), /no such file/);
  await rejectsWith(importFile(dir), dir, /is a directory/);
  await rejectsWith(importFile(file('empty.txt', '')), join(dir, 'empty.txt'), /found an empty input/);
  await rejectsWith(
    importFile(file('junk.bin', Buffer.from([0, 1, 2, 3]))),
    join(dir, 'junk.bin'),
    /expected a HAR file/,
  );
});

test('"-" reads the stream given as stdin: raw text, and a HAR peeked then streamed', async () => {
  const raw = await importFile('-', {
    stdin: Readable.from([Buffer.from(rawWire.slice(0, 10)), Buffer.from(rawWire.slice(10))]),
  });
  assert.ok(raw.format === 'raw');
  assert.equal(raw.exchanges[0]?.source.name, '-');
  assert.equal(raw.exchanges[0]?.request?.postData?.text, '{"note":"café"}');

  // Small chunks, so the head detection reads several before deciding.
  const chunks: Buffer[] = [];
  const bytes = Buffer.from(harText);
  for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
  const har = await importFile('-', { stdin: Readable.from(chunks) });
  assert.equal(har.format, 'har');
  const ex = await collect(har);
  assert.equal(ex.length, 1, 'the bytes read for detection were given back to the HAR reader');
  assert.equal(ex[0]?.request?.postData?.text, chromium.received.body);
});

function runImport(arg: string, stdin: string | undefined): { status: number | null; stdout: string; stderr: string } {
  const code = `
    const { importFile } = await import('./src/importers/detect.ts');
    try {
      const imp = await importFile(${JSON.stringify(arg)});
      const ex = imp.format === 'har' ? await (async () => { const a = []; for await (const e of imp.har.exchanges) a.push(e); return a; })() : imp.exchanges;
      console.log(JSON.stringify({ format: imp.format, statuses: ex.map((e) => e.response.status), requests: imp.requests?.length ?? 0 }));
    } catch (err) {
      console.error(err.message);
      process.exitCode = 2;
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    input: stdin,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('"-" is the process standard input (piped)', () => {
  const raw = runImport('-', rawV);
  assert.equal(raw.status, 0, raw.stderr);
  assert.deepEqual(JSON.parse(raw.stdout), { format: 'raw', statuses: [403], requests: 0 });
  const har = runImport('-', harText);
  assert.equal(har.status, 0, har.stderr);
  assert.deepEqual(JSON.parse(har.stdout), { format: 'har', statuses: [403], requests: 0 });
  const bad = runImport('-', 'nothing useful');
  assert.equal(bad.status, 2);
  assert.equal(
    bad.stderr.trim(),
    '-: expected a HAR file, a JSON {request,response}, raw HTTP text, or a curl command; found "nothing useful"',
  );
});

test('a named pipe is read as a stream', async () => {
  const fifo = join(dir, 'fifo');
  const mk = spawnSync('mkfifo', [fifo]);
  assert.equal(mk.status, 0, 'mkfifo');
  const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', file('for-fifo.har', harText), fifo]);
  const exited = new Promise((r) => writer.once('exit', r));
  const imp = await importFile(fifo);
  assert.equal(imp.format, 'har');
  assert.equal((await collect(imp)).length, 1);
  await exited;
});

test('a file whose content is refused rejects importFile, with no unhandled rejection on the way', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await rejectsWith(
      importFile(file('truncated.json', '{"request": {"method"')),
      join(dir, 'truncated.json'),
      /expected JSON/,
    );
    await rejectsWith(importFile(file('array.json', '[1,2]')), join(dir, 'array.json'), /\[0\] expected a JSON object/);
    await rejectsWith(
      importFile(file('two.cmd', 'curl ^"https://example.com/^"\r\necho done\r\n')),
      join(dir, 'two.cmd'),
      /found a command starting with "echo"/,
    );
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});

test('binaryKind: NUL bytes or invalid UTF-8 in the first bytes; known formats named', () => {
  assert.equal(binaryKind(Buffer.from('HTTP/1.1 403 Forbidden\r\n\r\ncafé')), undefined);
  assert.equal(binaryKind(Buffer.from('\ufeff{"log": {}}')), undefined);
  assert.equal(
    binaryKind(Buffer.from([0xff, 0xfe, 0x7b, 0x00])),
    undefined,
    'UTF-16LE with its byte order mark is text',
  );
  // A multi-byte character cut by the end of the bytes looked at is still text.
  assert.equal(binaryKind(Buffer.from('abc€').subarray(0, 5)), undefined);
  assert.match(binaryKind(Buffer.from([0x1f, 0x8b, 0x08, 0x00]))!, /^gzip-compressed/);
  assert.match(binaryKind(Buffer.from('\x89PNG\r\n\x1a\n\x00', 'latin1'))!, /^a PNG image/);
  assert.match(binaryKind(Buffer.from('\x7fELF\x02\x01\x01\x00', 'latin1'))!, /executable/);
  assert.match(binaryKind(Buffer.from('SQLite format 3\x00', 'latin1'))!, /SQLite/);
  assert.equal(binaryKind(Buffer.from('text\x00more', 'latin1')), 'binary data, not text');
  assert.equal(binaryKind(Buffer.from('caf\xe9 au lait', 'latin1')), 'not UTF-8 text (binary data?)');
});

test('binary input is named and not quoted: from a file, from a stream, from text', async () => {
  const png = Buffer.from('\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x1b[31m', 'latin1');
  await rejectsWith(
    importFile(file('image.png', png)),
    join(dir, 'image.png'),
    /: a PNG image, not text; expected a HAR file/,
  );
  await rejectsWith(importFile('-', { stdin: Readable.from([png]) }), '-', /^-: a PNG image, not text/);
  await rejectsWith(importText('\x00\x01\x02', 'pasted'), 'pasted', /^pasted: binary data, not text/);
});

test('what an error quotes from the input has its control characters escaped', async () => {
  await assert.rejects(importText('hello \x1b[31mred\x07\n', 'pasted'), (err: InputError) => {
    assert.match(err.message, /found "hello \\x1b\[31mred\\x07"/);
    assert.doesNotMatch(err.message, /[\x00-\x1f\x7f]/);
    return true;
  });
});
