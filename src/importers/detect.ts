// Which importer reads an input, decided on its first few kilobytes, and the
// entry points that route a text or a file to it. A HAR is never read whole
// here: its path (or standard input) goes to readHar, which streams it.
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { InputError } from '../errors.ts';
import { clip, unreadable } from './common.ts';
import { importCurl } from './curl.ts';
import { importCurlCmd, isPowerShell } from './curl-cmd.ts';
import { readHar, type HarReading } from './har.ts';
import type { Imported, InputFormat } from './imported.ts';
import { importJson } from './json.ts';
import { importRaw, looksLikeRaw } from './raw.ts';

export type { InputFormat } from './imported.ts';

/** A text input, read whole: exchanges that hold a response, and requests alone (to send live). */
export interface TextImport extends Imported {
  format: Exclude<InputFormat, 'har'>;
}

/** A HAR, streamed by readHar: its denied entries one at a time, then its summary. */
export interface HarImport extends HarReading {
  format: 'har';
  /**
   * The same reading as the import itself (exchanges, requests, summary): kept
   * for callers written before the one shape (src/cli/explain.ts, test/fuzz).
   */
  har: HarReading;
}

export interface ImportOptions {
  /** Where "-" reads from (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

export type Import = TextImport | HarImport;

/** How much of an input detection looks at. */
export const DETECT_BYTES = 64 * 1024;

const EXPECTED = 'expected a HAR file, a JSON {request,response}, raw HTTP text, or a curl command';

/** The format of an input from its first few kilobytes; undefined when none fits. */
export function detectFormat(text: string): InputFormat | undefined {
  const head = text
    .slice(0, DETECT_BYTES)
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (!head) return undefined;
  if (head[0] === '{' || head[0] === '[') {
    // HAR 1.2's root holds "log" alone; a tool that writes another key first still
    // opens "log" with one of the keys HAR defines.
    if (/^\{\s*"log"\s*:/.test(head) || /"log"\s*:\s*\{\s*"(?:version|creator|browser|pages|entries)"\s*:/.test(head))
      return 'har';
    return 'json';
  }
  // A pasted shell line may keep its prompt.
  if (/^(?:[$>]\s+)?(?:\S*[\\/])?curl(?:\.exe)?(?=\s|$)/i.test(head)) {
    // cmd.exe's escapes: ^" around arguments, a caret ending a line, a caret before a cmd metacharacter.
    return /\^"|\s\^\r?\n|\^[&|<>%^]/.test(head) ? 'curl-cmd' : 'curl-bash';
  }
  if (looksLikeRaw(head)) return 'raw';
  return undefined;
}

/** How many of the first bytes the binary test looks at (as git does). */
const BINARY_BYTES = 8000;

/** Binary formats a user may hand over by mistake, by their first bytes. */
const MAGIC: [RegExp, string][] = [
  [/^\x1f\x8b/, 'gzip-compressed data, not text (decompress it first)'],
  [/^\x28\xb5\x2f\xfd/, 'zstd-compressed data, not text (decompress it first)'],
  [/^BZh[1-9]/, 'bzip2-compressed data, not text (decompress it first)'],
  [/^\xfd7zXZ\x00/, 'xz-compressed data, not text (decompress it first)'],
  [/^PK\x03\x04/, 'a zip archive, not text (extract the file first)'],
  [/^\x89PNG/, 'a PNG image, not text'],
  [/^\xff\xd8\xff/, 'a JPEG image, not text'],
  [/^GIF8[79]a/, 'a GIF image, not text'],
  [/^%PDF-/, 'a PDF document, not text'],
  [/^\x7fELF/, 'an executable (ELF), not text'],
  [/^SQLite format 3\x00/, 'an SQLite database, not text (a scan state? see why403 scan report)'],
];

/**
 * What an input's first bytes are when they are not text, or undefined when
 * they are: a NUL byte, or bytes that are not UTF-8, in the first 8,000 bytes
 * (a multi-byte character cut by the end of `buf` still counts as text).
 * UTF-16 with a byte order mark is text: decode reads it.
 */
export function binaryKind(buf: Uint8Array): string | undefined {
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) return undefined;
  const head = buf.subarray(0, BINARY_BYTES);
  const nul = head.includes(0);
  let utf8 = true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    utf8 = false;
  }
  if (!nul && utf8) return undefined;
  const start = Buffer.from(head.subarray(0, 16)).toString('latin1');
  const known = MAGIC.find(([re]) => re.test(start))?.[1];
  return known ?? (nul ? 'binary data, not text' : 'not UTF-8 text (binary data?)');
}

/**
 * Why no format fits an input: binary data, a snippet in a language we do not
 * read, or the first line, quoted (control characters escaped).
 */
function unknownFormat(text: string, name: string, bytes?: Uint8Array): InputError {
  const binary = bytes && binaryKind(bytes);
  if (binary) return new InputError(name, `${binary}; ${EXPECTED}`);
  const head = text.slice(0, DETECT_BYTES);
  if (isPowerShell(head)) {
    return new InputError(
      name,
      'PowerShell (Invoke-WebRequest) copies are not supported; use "Copy as cURL (bash)" or "Copy as cURL (cmd)" instead',
    );
  }
  if (/^\s*(?:await\s+)?fetch\s*\(/.test(head)) {
    return new InputError(name, 'fetch() copies are not supported; use "Copy as cURL (bash)" or "Copy as HAR" instead');
  }
  const first = head
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .find((l) => l.trim());
  return new InputError(
    name,
    first ? `${EXPECTED}; found "${clip(first.trim(), 50)}"` : `${EXPECTED}; found an empty input`,
  );
}

/** Which importer reads each text format. */
const TEXT_IMPORTERS: Record<TextImport['format'], (text: string, name: string) => Imported | Promise<Imported>> = {
  json: importJson,
  raw: importRaw,
  'curl-bash': importCurl,
  'curl-cmd': importCurlCmd,
};

async function readText(format: TextImport['format'], text: string, name: string): Promise<TextImport> {
  return { format, ...(await TEXT_IMPORTERS[format](text, name)) };
}

function harImport(reading: HarReading): HarImport {
  return { format: 'har', ...reading, har: reading };
}

/** Reads an input held in memory. `name` is how errors and sources refer to it. */
export async function importText(text: string, name: string): Promise<Import> {
  const format = detectFormat(text);
  if (!format) throw unknownFormat(text, name, Buffer.from(text.slice(0, BINARY_BYTES), 'utf8'));
  if (format === 'har') return harImport(readHar(Buffer.from(text, 'utf8'), { name }));
  return readText(format, text, name);
}

function decode(buf: Buffer, name: string): string {
  if (buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf[0] === 0xfe && buf[1] === 0xff)
    throw new InputError(name, 'is UTF-16 big-endian text; expected UTF-8 (or UTF-16LE)');
  return buf.toString('utf8').replace(/^\uFEFF/, '');
}

function fileError(path: string, err: unknown): InputError {
  return new InputError(path, unreadable(err, { permission: true }), { cause: err });
}

/**
 * Reads a file, or standard input for "-". A HAR is detected on its first
 * bytes and handed to readHar unread; anything else is read whole.
 */
export async function importFile(path: string, opts: ImportOptions = {}): Promise<Import> {
  if (path === '-') return importStream((opts.stdin ?? process.stdin) as AsyncIterable<Buffer | string>, '-');
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw fileError(path, err);
  }
  let passOn = false;
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new InputError(path, 'is a directory, expected a file');
    if (!stat.isFile()) {
      // A pipe or device (`<(…)`, /dev/stdin) can be read once only: peek at it as a stream.
      passOn = true;
      return await importStream(handle.createReadStream(), path);
    }
    const headBuf = Buffer.alloc(Math.min(DETECT_BYTES, stat.size));
    const { bytesRead } = await handle.read(headBuf, 0, headBuf.length, 0);
    const head = decode(headBuf.subarray(0, bytesRead), path);
    const format = detectFormat(head);
    if (!format) throw unknownFormat(head, path, headBuf.subarray(0, bytesRead));
    if (format === 'har') return harImport(readHar(path, { name: path }));
    const all = bytesRead === stat.size ? headBuf.subarray(0, bytesRead) : await handle.readFile();
    // Awaited here, not returned as a promise: its rejection must reach the
    // catch below before the finally closes the handle. A promise returned
    // unawaited that rejects while `await handle.close()` runs has no handler
    // yet, and Node ends the process on the unhandled rejection.
    return await readText(format, decode(all, path), path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw fileError(path, err);
  } finally {
    // The stream made from the handle closes it when done.
    if (!passOn) await handle.close();
  }
}

/**
 * Reads the first `want` bytes of a stream (or all of it, if shorter) and
 * returns them with a stream that yields the input again from its first byte,
 * so the next reader (readHar) misses nothing.
 */
async function peek(stream: AsyncIterable<Buffer | string>, want: number): Promise<{ head: Buffer; whole: Readable }> {
  const it = stream[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < want) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    chunks.push(b);
    length += b.length;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    yield* chunks;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next())
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
  }
  return { head: Buffer.concat(chunks), whole: Readable.from(replay(), { objectMode: false }) };
}

async function importStream(stream: AsyncIterable<Buffer | string>, name: string): Promise<Import> {
  let head: Buffer;
  let whole: Readable;
  try {
    ({ head, whole } = await peek(stream, DETECT_BYTES));
  } catch (err) {
    throw new InputError(name, `cannot be read (${(err as Error).message})`, { cause: err });
  }
  const headText = decode(head, name);
  const format = detectFormat(headText);
  if (!format) {
    whole.destroy();
    throw unknownFormat(headText, name, head);
  }
  if (format === 'har') return harImport(readHar(whole, { name }));
  const chunks: Buffer[] = [];
  try {
    for await (const c of whole) chunks.push(c as Buffer);
  } catch (err) {
    throw new InputError(name, `cannot be read (${(err as Error).message})`, { cause: err });
  }
  return readText(format, decode(Buffer.concat(chunks), name), name);
}
