// A log line joined to an exchange: the lines of the server's logs that are
// about this very request (same method and path, written within seconds of
// the response), so that what the server wrote about it becomes evidence
// (`explain --log`, `check --log`). Only lines that give a reason are kept,
// and no more than a few per request: memory is bounded whatever the logs.
import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import type { Exchange, LoggedReason } from '../model/exchange.ts';
import type { LogRecord } from '../model/logs.ts';
import { InputError } from '../errors.ts';
import { detectFormat, shownLine } from './analyze.ts';
import { LOG_FORMATS } from './formats.generated.ts';
import { readBatches, type LineInput, type LineStats } from './read.ts';

/** Lines kept per method and path (the latest). */
const PER_REQUEST = 20;
/** Method-and-path keys kept; past this, the oldest key is dropped. */
const MAX_KEYS = 50_000;
/** How far apart the log's time and the response's may be (error logs write whole seconds, in local time). */
const SLACK_MS = 5_000;

interface Kept {
  line: LoggedReason;
  time?: number;
  file?: string;
}

/** What the logs say, indexed by method and path; `linesFor` finds an exchange's. */
export class LogIndex {
  private byKey = new Map<string, Kept[]>();
  /** By the last component of a filesystem path, for logs that name the file and not the URL (Apache). */
  private byFile = new Map<string, Kept[]>();
  readonly sources: { file: string; format: string; lines: number }[] = [];

  add(record: LogRecord, ref: { file: string; line: number; text: string }): void {
    const reason = record.reason;
    if (!reason) return;
    const kept: Kept = {
      line: {
        source: `log:${ref.file}:${ref.line}`,
        text: ref.text,
        product: reason.product,
        code: reason.code,
        causes: reason.causes,
        words: reason.words,
        ...(reason.fix ? { fix: reason.fix } : {}),
        ...(record.kind === 'error' && record.file ? { file: record.file } : {}),
        ...(record.principal ? { user: record.principal } : {}),
      },
      ...(record.time ? { time: record.time.getTime() } : {}),
      ...(record.kind === 'error' && record.file ? { file: record.file } : {}),
    };
    if (record.method && record.path) push(this.byKey, `${record.method} ${record.path}`, kept);
    else if (record.kind === 'error' && record.file) push(this.byFile, lastPart(record.file), kept);
  }

  /** The reasons the logs gave for this exchange's request, closest in time first. */
  linesFor(exchange: Exchange): LoggedReason[] {
    const req = exchange.request;
    if (!req) return [];
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return [];
    }
    const path = url.pathname;
    const at = timeOf(exchange);
    const near = (k: Kept) => at === undefined || k.time === undefined || Math.abs(k.time - at) <= SLACK_MS;
    const decoded = safeDecode(path).replace(/\/$/, '');
    const candidates = [
      ...(this.byKey.get(`${req.method} ${path}`) ?? []),
      ...(this.byFile.get(lastPart(decoded)) ?? []).filter((k) => k.file?.replace(/\/$/, '').endsWith(decoded)),
    ].filter(near);
    const ordered = at === undefined ? candidates.reverse() : candidates.sort((a, b) => dist(a, at) - dist(b, at));
    // One line per reason: the same refusal logged twice says no more.
    const seen = new Set<string>();
    return ordered
      .filter((k) => {
        const key = `${k.line.product}\u0000${k.line.code}`;
        return !seen.has(key) && seen.add(key);
      })
      .slice(0, 3)
      .map((k) => k.line);
  }
}

const dist = (k: Kept, at: number) => (k.time === undefined ? SLACK_MS : Math.abs(k.time - at));

function push(map: Map<string, Kept[]>, key: string, kept: Kept): void {
  let list = map.get(key);
  if (!list) {
    if (map.size >= MAX_KEYS) map.delete(map.keys().next().value!);
    list = [];
    map.set(key, list);
  }
  list.push(kept);
  if (list.length > PER_REQUEST) list.shift();
}

const lastPart = (p: string) => p.replace(/\/$/, '').split('/').pop() ?? '';

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** When the response was written: its Date header, else when it arrived or the exchange started. */
function timeOf(exchange: Exchange): number | undefined {
  const date = exchange.response.headers.find((h) => h.name.toLowerCase() === 'date')?.value;
  for (const v of [date, exchange.trace?.receivedAt, exchange.startedDateTime]) {
    const t = v ? Date.parse(v) : NaN;
    if (!Number.isNaN(t)) return t;
  }
  return undefined;
}

/** Reads logs (any format `why403 logs` reads) into an index (for check --log, inputs that start where the log ended before). */
export async function indexLogs(inputs: LineInput[]): Promise<LogIndex> {
  const index = new LogIndex();
  for (const input of inputs) {
    const stats: LineStats = { lines: 0, tooLong: 0 };
    const batches = readBatches(input, stats);
    const { format, sample } = await detectFormat(input, batches);
    if (!format) continue;
    let n = 0;
    const read = (text: string) => {
      n++;
      if (!text.trim() || format.isComment?.(text)) return;
      const record = format.parse(text);
      if (record)
        index.add(record, {
          file: input.name,
          line: n,
          text: shownLine(record.kind === 'error' ? (record.message ?? text) : text),
        });
    };
    for (const text of sample) read(text);
    for await (const batch of batches) for (const text of batch) read(text);
    index.sources.push({ file: input.name, format: format.id, lines: stats.lines });
  }
  return index;
}

/** Where each log file ends now, to read later only what the server appends meanwhile (check --log). */
export async function logOffsets(paths: string[]): Promise<Map<string, number>> {
  const offsets = new Map<string, number>();
  for (const p of paths) {
    try {
      offsets.set(p, (await stat(p)).size);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new InputError(
        p,
        err.code === 'ENOENT' ? 'no such file (--log)' : `cannot be read (${err.code ?? err.message})`,
      );
    }
  }
  return offsets;
}

/** The part of a log written since its offset; a log rotated meanwhile (now shorter) is read whole. */
export async function appendedInput(path: string, offset: number): Promise<LineInput> {
  const size = (await stat(path)).size;
  const start = size < offset ? 0 : offset;
  return { name: path, stream: () => createReadStream(path, { start }) };
}

/**
 * The reasons given lines of logs hold for an exchange, read at once (a
 * fixture's `logs`, a test): each file's lines in the format that reads most
 * of them.
 */
export function reasonsFromLines(files: { file: string; lines: string[] }[], exchange: Exchange): LoggedReason[] {
  const index = new LogIndex();
  for (const { file, lines } of files) {
    const format = [...LOG_FORMATS].sort(
      (a, b) => lines.filter((l) => b.parse(l)).length - lines.filter((l) => a.parse(l)).length,
    )[0];
    lines.forEach((text, i) => {
      const record = format?.parse(text);
      if (record)
        index.add(record, {
          file,
          line: i + 1,
          text: shownLine(record.kind === 'error' ? (record.message ?? text) : text),
        });
    });
  }
  return index.linesFor(exchange);
}
