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

export const fileInput = (path: string): LineInput => ({ name: path, stream: () => createReadStream(path) });
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

/**
 * The lines of an input, without their line ends; `stats` counts them as
 * they go. A read error after the start (a truncated gzip) ends the lines and
 * is kept in `stats.stoppedEarly`; one at the start (no such file) throws.
 */
export async function* readLines(input: LineInput, stats: LineStats): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let skipping = false;
  let sniffed = false;
  try {
    for await (const chunk of chunks(input)) {
      if (!sniffed) {
        sniffed = true;
        if (chunk.subarray(0, SNIFF).includes(0))
          throw new InputError(input.name, 'holds binary data, not a text log (a NUL byte near the start)');
      }
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        const end = nl === -1 ? chunk.length : nl;
        if (!skipping) {
          if (pendingLength + (end - start) > MAX_LINE) {
            skipping = true;
            pending = [];
            pendingLength = 0;
          } else if (end > start) {
            pending.push(chunk.subarray(start, end));
            pendingLength += end - start;
          }
        }
        if (nl === -1) break;
        stats.lines++;
        if (skipping) stats.tooLong++;
        else yield lineOf(pending);
        pending = [];
        pendingLength = 0;
        skipping = false;
        start = nl + 1;
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (!sniffed) throw new InputError(input.name, readFailure(err));
    stats.stoppedEarly =
      /unexpected end of file/i.test(err.message) || err.code === 'Z_BUF_ERROR'
        ? `the gzip stream ends early (a truncated file): read ${stats.lines} lines before it`
        : `reading stopped after ${stats.lines} lines: ${err.message}`;
    return;
  }
  if (skipping || pendingLength) {
    stats.lines++;
    if (skipping) stats.tooLong++;
    else yield lineOf(pending);
  }
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
