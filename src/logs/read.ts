// Lines of a log, streamed: plain or gzip (told by its magic bytes, not its
// name), a file or standard input. Nothing is held but the current line, and
// a line longer than MAX_LINE is skipped whole and counted, so a 10 MB line
// or a file with no newline at all costs no more memory than a short one.
// Binary data is refused at the start; a gzip stream that ends early stops
// the reading with a note saying how far it got.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.ts';

/** The longest line read; longer lines are counted as skipped (a log line is rarely over a few KiB). */
export const MAX_LINE = 64 * 1024;
/** How much of the start is looked at for binary data. */
const SNIFF = 8192;

export interface LineStats {
  lines: number;
  tooLong: number;
  /** Why reading stopped before the end, if it did. */
  stoppedEarly?: string;
}

export interface LineInput {
  /** The name the user gave (a path, or "-"). */
  name: string;
  stream(): NodeJS.ReadableStream;
}

export const fileInput = (path: string): LineInput => ({
  name: path,
  stream: () => createReadStream(path, { highWaterMark: 1 << 20 }),
});
export const stdinInput = (stdin: NodeJS.ReadableStream): LineInput => ({ name: '-', stream: () => stdin });

const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Chunks of the input, gunzipped when they are gzip. */
async function* chunks(input: LineInput): AsyncGenerator<Buffer> {
  const raw = input.stream();
  const iterator = (raw as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = Buffer.isBuffer(first.value) ? first.value : Buffer.from(first.value);
  const rest = async function* () {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    }
  };
  if (!isGzip(head)) {
    yield* rest();
    return;
  }
  const gunzip = createGunzip();
  const feed = (async () => {
    try {
      for await (const c of rest()) if (!gunzip.write(c)) await new Promise((r) => gunzip.once('drain', r));
      gunzip.end();
    } catch (e) {
      gunzip.destroy(e as Error);
    }
  })();
  for await (const c of gunzip as AsyncIterable<Buffer>) yield c;
  await feed;
}

/** A JSON document of records (CloudTrail's delivered files): `{"Records":[{…},{…}]}`. */
const RECORDS_DOCUMENT = /^\s*\{\s*"Records"\s*:\s*\[/;
/** How much of the start is read before deciding between lines and a records document. */
const HEAD = 256;
/** The largest record of a records document kept (a CloudTrail event is a few KiB). */
const MAX_RECORD = 1024 * 1024;

/**
 * The lines of an input, without their line ends; `stats` counts them as
 * they go. A records document (`{"Records":[…]}`, as CloudTrail delivers its
 * logs) is read as one record a line. A read error after the start (a
 * truncated gzip) ends the lines and is kept in `stats.stoppedEarly`; one at
 * the start (no such file) throws.
 */
export async function* readLines(input: LineInput, stats: LineStats): AsyncGenerator<string> {
  for await (const batch of readBatches(input, stats)) yield* batch;
}

/** The same lines, a batch at a time (a chunk's worth): what a hot loop reads, without a promise per line. */
export async function* readBatches(input: LineInput, stats: LineStats): AsyncGenerator<string[]> {
  const source = chunks(input);
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  try {
    while (headLength < HEAD) {
      const next = await source.next();
      if (next.done) {
        ended = true;
        break;
      }
      head.push(next.value);
      headLength += next.value.length;
    }
  } catch (e) {
    throw new InputError(input.name, readFailure(e as NodeJS.ErrnoException));
  }
  if (!headLength) return;
  const first = Buffer.concat(head);
  if (first.subarray(0, SNIFF).includes(0))
    throw new InputError(input.name, 'holds binary data, not a text log (a NUL byte near the start)');
  async function* all(): AsyncGenerator<Buffer> {
    yield first;
    if (ended) return;
    for (;;) {
      const next = await source.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const document = RECORDS_DOCUMENT.exec(first.subarray(0, HEAD).toString('latin1'));
  try {
    if (document) yield* documentRecords(all(), document[0].length, stats);
    else yield* splitLines(all(), stats);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    stats.stoppedEarly =
      /unexpected end of file/i.test(err.message) || err.code === 'Z_BUF_ERROR'
        ? `the gzip stream ends early (a truncated file): read ${stats.lines} lines before it`
        : `reading stopped after ${stats.lines} lines: ${err.message}`;
  }
}

async function* splitLines(source: AsyncGenerator<Buffer>, stats: LineStats): AsyncGenerator<string[]> {
  // The start of a line a chunk ends inside, carried to the next chunk.
  let carry: Buffer[] = [];
  let carryLength = 0;
  let skipping = false;
  for await (const chunk of source) {
    const firstNl = chunk.indexOf(10);
    if (firstNl === -1) {
      if (!skipping && carryLength + chunk.length > MAX_LINE) {
        skipping = true;
        carry = [];
        carryLength = 0;
      } else if (!skipping) {
        carry.push(chunk);
        carryLength += chunk.length;
      }
      continue;
    }
    const batch: string[] = [];
    stats.lines++;
    if (skipping || carryLength + firstNl > MAX_LINE) stats.tooLong++;
    else {
      carry.push(chunk.subarray(0, firstNl));
      batch.push(lineOf(carry));
    }
    carry = [];
    carryLength = 0;
    skipping = false;
    // The whole lines between the first and the last newline: one decode, one split.
    const lastNl = chunk.lastIndexOf(10);
    if (lastNl > firstNl)
      for (const line of chunk.toString('utf8', firstNl + 1, lastNl).split('\n')) {
        stats.lines++;
        if (line.length > MAX_LINE) stats.tooLong++;
        else batch.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      }
    const rest = chunk.length - lastNl - 1;
    if (rest > MAX_LINE) skipping = true;
    else if (rest > 0) {
      carry.push(chunk.subarray(lastNl + 1));
      carryLength = rest;
    }
    if (batch.length) yield batch;
  }
  if (skipping || carryLength) {
    stats.lines++;
    if (skipping) stats.tooLong++;
    else yield [lineOf(carry)];
  }
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The elements of the array a records document opens with, each as one line; `skip` bytes are its opening. */
async function* documentRecords(
  source: AsyncGenerator<Buffer>,
  skip: number,
  stats: LineStats,
): AsyncGenerator<string[]> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: Buffer[] = [];
  let length = 0;
  let tooLong = false;
  let done = false;
  for await (const chunk of source) {
    if (done) continue;
    const batch: string[] = [];
    let i = skip;
    let start = depth > 0 ? 0 : -1;
    skip = 0;
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (c === QUOTE) {
        if (depth > 0) inString = true;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === 0) start = i;
        depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0) {
          // The array's own closing bracket: the records are done.
          done = true;
          break;
        }
        depth--;
        if (depth === 0) {
          stats.lines++;
          if (!tooLong && length + (i + 1 - start) <= MAX_RECORD) {
            parts.push(chunk.subarray(start, i + 1));
            batch.push(lineOf(parts));
          } else stats.tooLong++;
          parts = [];
          length = 0;
          tooLong = false;
          start = -1;
        }
      }
    }
    if (depth > 0 && start >= 0 && !tooLong) {
      const piece = chunk.subarray(start, done ? i : chunk.length);
      if (length + piece.length > MAX_RECORD) {
        tooLong = true;
        parts = [];
        length = 0;
      } else {
        parts.push(piece);
        length += piece.length;
      }
    }
    if (batch.length) yield batch;
  }
  if (depth > 0) throw new Error(`the records document ends inside a record (read ${stats.lines} records)`);
}

function lineOf(parts: Buffer[]): string {
  const s = (parts.length === 1 ? parts[0] : Buffer.concat(parts)).toString('utf8');
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

function readFailure(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return 'no such file';
  if (err.code === 'EISDIR') return 'is a directory, not a log file';
  if (err.code === 'EACCES') return 'cannot be read (permission denied)';
  if (err.code?.startsWith('Z_') || /incorrect header check|unexpected end of file/i.test(err.message))
    return `is not a readable gzip file (${err.message})`;
  return `cannot be read (${err.code ?? err.message})`;
}
