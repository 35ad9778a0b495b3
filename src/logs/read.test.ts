import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { MAX_LINE, readLines, type LineInput, type LineStats } from './read.ts';
import { InputError } from '../errors.ts';

const input = (data: Buffer | string, chunk = 7): LineInput => ({
  name: 'test.log',
  stream: () => {
    const b = Buffer.from(data);
    const parts: Buffer[] = [];
    for (let i = 0; i < b.length; i += chunk) parts.push(b.subarray(i, i + chunk));
    return Readable.from(parts);
  },
});

async function all(i: LineInput): Promise<{ lines: string[]; stats: LineStats }> {
  const stats: LineStats = { lines: 0, tooLong: 0 };
  const lines: string[] = [];
  for await (const l of readLines(i, stats)) lines.push(l);
  return { lines, stats };
}

test('lines across chunk borders, CRLF endings and a last line without a newline', async () => {
  const { lines, stats } = await all(input('first line\r\nsecond\n\nlast without newline'));
  assert.deepEqual(lines, ['first line', 'second', '', 'last without newline']);
  assert.equal(stats.lines, 4);
});

test('gzip is told by its magic bytes, not its name', async () => {
  const { lines } = await all(input(gzipSync('a\nb\n'), 5));
  assert.deepEqual(lines, ['a', 'b']);
});

test('a line longer than the limit is skipped whole and counted, and the next one is read', async () => {
  const long = 'x'.repeat(10 * 1024 * 1024);
  const { lines, stats } = await all(input(`before\n${long}\nafter\n`, 65536));
  assert.deepEqual(lines, ['before', 'after']);
  assert.deepEqual(stats, { lines: 3, tooLong: 1 });
  const edge = await all(input(`${'y'.repeat(MAX_LINE)}\n${'z'.repeat(MAX_LINE + 1)}\n`, 4096));
  assert.equal(edge.lines.length, 1, 'a line of exactly the limit is read');
  assert.equal(edge.stats.tooLong, 1);
});

test('binary data is refused at once, by name', async () => {
  await assert.rejects(all(input(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]))), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /^test\.log: holds binary data/);
    return true;
  });
});

test('a truncated gzip stops the reading with a note of how far it got, never a wrong silence', async () => {
  const text = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'p'.repeat(i % 50)}`).join('\n') + '\n';
  const gz = gzipSync(text);
  const { lines, stats } = await all(input(gz.subarray(0, Math.floor(gz.length / 2)), 4096));
  assert.ok(lines.length > 0 && lines.length < 20_000, String(lines.length));
  assert.match(stats.stoppedEarly ?? '', /gzip stream ends early \(a truncated file\): read \d+ lines before it/);
  // Not gzip at all after its magic: one clear line.
  await assert.rejects(
    all(input(Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8]))),
    /test\.log: is not a readable gzip file/,
  );
});

test('a records document ({"Records":[…]}, as CloudTrail delivers it) is read one record a line, gzipped or not', async () => {
  const records = [
    { eventName: 'GetObject', errorMessage: 'a } and a { and a \\" inside', n: [1, [2]] },
    { eventName: 'PutObject', errorCode: 'AccessDenied' },
    { eventName: 'ListBuckets' },
  ];
  const doc = ` { "Records" : [${records.map((r) => JSON.stringify(r)).join(',\n ')}] }\n`;
  for (const data of [Buffer.from(doc), gzipSync(doc)]) {
    const { lines, stats } = await all(input(data, 3));
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as unknown),
      records,
    );
    assert.equal(stats.lines, 3);
  }
  const cut = await all(input(doc.slice(0, doc.indexOf('PutObject')), 5));
  assert.equal(cut.lines.length, 1);
  assert.match(cut.stats.stoppedEarly ?? '', /ends inside a record \(read 1 records\)/);
});
