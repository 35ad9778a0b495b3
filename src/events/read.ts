// Reads the denial events an API's why403 middleware wrote: a SQLite file of
// sqliteSink's (told by SQLite's magic header, not the file's name) or JSON
// lines of jsonLinesSink's or pinoSink's (plain or gzip; "-" for standard
// input). Streamed a batch at a time: SQLite rows through an iterator over
// the time index, lines through src/logs/read.ts (a line over 64 KiB is
// skipped whole and counted). A pino log holds the app's other lines too:
// those are counted, never fatal; a file none of whose first lines is a JSON
// object is not an events file, and says so in one line.
import { closeSync, openSync, readSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { InputError } from '../errors.ts';
import { fileInput, readBatches, stdinInput, type LineInput, type LineStats } from '../logs/read.ts';
import { DENIALS_TABLE_VERSION } from '../middleware/sinks/sqlite.ts';
import type { Gap } from '../middleware/denial.ts';
import type { EventsSource } from './model.ts';

/** A denial event as read back: the fields the summary uses, checked; the cause is kept even when this version does not know it. */
export interface ReadEvent {
  /** Epoch milliseconds. */
  time: number;
  method: string;
  cause: string;
  status: number;
  principal?: string;
  route?: string;
  resource?: string;
  rule?: string;
  gap?: Gap;
  hidden?: boolean;
  deniedAs?: number;
  client?: string;
}

/** The first 16 bytes of every SQLite database file. */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** Rows handed on at once. */
const BATCH = 1024;
/** Non-blank lines looked at to decide that a file is JSON lines at all. */
const SAMPLE = 200;
/** The longest string kept from an event: tallies are keyed by them, and 10,000 keys of 64 KiB would be 640 MB. */
const MAX_STRING = 256;

const clipped = (s: string) => (s.length > MAX_STRING ? `${s.slice(0, MAX_STRING - 1)}…` : s);
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? clipped(v) : undefined);

/** The latest time a Date holds (±100,000,000 days from 1970): later ones are no time at all. */
const MAX_TIME = 8.64e15;

function timeOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v) <= MAX_TIME ? v : undefined;
  // pino configured with stdTimeFunctions.isoTime writes an ISO string.
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function gapOf(v: unknown): Gap | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const { required, held } = v as { required?: unknown; held?: unknown };
  const names = (a: unknown) =>
    Array.isArray(a) && a.every((x) => typeof x === 'string') ? a.slice(0, 64).map(clipped) : undefined;
  const r = names(required);
  const h = names(held);
  return r && h ? { required: r, held: h } : undefined;
}

/** An object as a denial event (schema why403/denial@…), or undefined when it is something else. */
export function eventOf(o: unknown): ReadEvent | undefined {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  if (typeof r.schema !== 'string' || !r.schema.startsWith('why403/denial@')) return undefined;
  const time = timeOf(r.time);
  const method = text(r.method);
  const cause = text(r.cause);
  const status = r.status;
  if (time === undefined || !method || !cause || !Number.isInteger(status)) return undefined;
  const e: ReadEvent = { time, method, cause, status: status as number };
  const principal = text(r.principal);
  const route = text(r.route);
  const resource = text(r.resource);
  const rule = text(r.rule);
  const client = text(r.client);
  const gap = gapOf(r.gap);
  if (principal) e.principal = principal;
  if (route) e.route = route;
  if (resource) e.resource = resource;
  if (rule) e.rule = rule;
  if (gap) e.gap = gap;
  if (r.hidden === true) e.hidden = true;
  if (Number.isInteger(r.deniedAs)) e.deniedAs = r.deniedAs as number;
  if (client) e.client = client;
  return e;
}

export interface Window {
  /** Epoch milliseconds, inclusive. */
  since?: number;
  until?: number;
}

export interface OpenedEvents {
  source: EventsSource;
  /** The events, a batch at a time; SQLite's only those in the window, JSON lines' all of them (the caller filters). */
  batches: AsyncGenerator<ReadEvent[]>;
  /** SQLite, with --since: the denials before it, counted by the database (JSON lines' are seen in the batches). */
  earlier?: { count: number; first?: number };
}

function failure(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return 'no such file';
  if (err.code === 'EISDIR') return 'is a directory, not an events file';
  if (err.code === 'EACCES') return 'cannot be read (permission denied)';
  return `cannot be read (${err.code ?? err.message})`;
}

/** Whether a file starts with SQLite's magic header. */
function isSqlite(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(path, failure(e as NodeJS.ErrnoException));
  }
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return n === head.length && head.equals(SQLITE_MAGIC);
  } catch (e) {
    throw new InputError(path, failure(e as NodeJS.ErrnoException));
  } finally {
    closeSync(fd);
  }
}

/** Opens one input: a path or "-" (standard input, JSON lines). */
export function openEvents(name: string, window: Window, stdin?: NodeJS.ReadableStream): OpenedEvents {
  if (name === '-') {
    if (!stdin) throw new InputError('-', 'standard input is not available');
    return jsonLines(stdinInput(stdin));
  }
  return isSqlite(name) ? sqliteEvents(name, window) : jsonLines(fileInput(name));
}

const COLUMNS = 'time, method, cause, status, principal, route, resource, rule, gap, hidden, denied_as, client';

function sqliteEvents(path: string, window: Window): OpenedEvents {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (e) {
    throw new InputError(path, `is a SQLite file that cannot be opened (${(e as Error).message})`);
  }
  try {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'denials'").get();
    if (!table) throw new InputError(path, 'is a SQLite file with no denials table (not one written by sqliteSink)');
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version > DENIALS_TABLE_VERSION)
      throw new InputError(
        path,
        `holds denials in layout ${version}, newer than this version reads (${DENIALS_TABLE_VERSION}): update why403`,
      );
    // A denials table another program wrote lacks the columns read below.
    try {
      db.prepare(`SELECT ${COLUMNS} FROM denials LIMIT 0`);
    } catch (e) {
      throw new InputError(
        path,
        `has a denials table in another layout (${(e as Error).message}): not one written by sqliteSink`,
      );
    }
  } catch (e) {
    db.close();
    if (e instanceof InputError) throw e;
    throw new InputError(path, `is a SQLite file that cannot be read (${(e as Error).message})`);
  }
  const total = Number((db.prepare('SELECT count(*) AS n FROM denials').get() as { n: number | bigint }).n);
  let earlier: OpenedEvents['earlier'];
  if (window.since !== undefined) {
    const row = db
      .prepare('SELECT count(*) AS n, min(time) AS first FROM denials WHERE time < ?')
      .get(window.since) as {
      n: number | bigint;
      first: number | bigint | null;
    };
    earlier = { count: Number(row.n), ...(row.first !== null ? { first: Number(row.first) } : {}) };
  }
  const source: EventsSource = { file: path, format: 'sqlite', read: total, events: 0, notEvents: 0, tooLong: 0 };
  async function* batches(): AsyncGenerator<ReadEvent[]> {
    try {
      const rows = db
        .prepare(`SELECT ${COLUMNS} FROM denials WHERE time >= ? AND time <= ? ORDER BY time`)
        .iterate(window.since ?? Number.MIN_SAFE_INTEGER, window.until ?? Number.MAX_SAFE_INTEGER);
      let batch: ReadEvent[] = [];
      for (const row of rows) {
        const e = eventOf(eventFields(row as Record<string, unknown>));
        if (e) {
          source.events++;
          batch.push(e);
        } else source.notEvents++;
        if (batch.length === BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } finally {
      db.close();
    }
  }
  return { source, batches: batches(), ...(earlier ? { earlier } : {}) };
}

/** A row of the denials table as the event it was written from. */
function eventFields(row: Record<string, unknown>): Record<string, unknown> {
  let gap: unknown;
  if (typeof row.gap === 'string')
    try {
      gap = JSON.parse(row.gap);
    } catch {
      gap = undefined;
    }
  return {
    schema: 'why403/denial@1',
    time: row.time,
    method: row.method,
    cause: row.cause,
    status: row.status,
    principal: row.principal,
    route: row.route,
    resource: row.resource,
    rule: row.rule,
    gap,
    hidden: row.hidden === 1,
    deniedAs: row.denied_as,
    client: row.client,
  };
}

function jsonLines(input: LineInput): OpenedEvents {
  const source: EventsSource = { file: input.name, format: 'json-lines', read: 0, events: 0, notEvents: 0, tooLong: 0 };
  const stats: LineStats = { lines: 0, tooLong: 0 };
  async function* batches(): AsyncGenerator<ReadEvent[]> {
    // Non-blank lines seen, and how many of them were JSON objects: none in the first SAMPLE is no events file.
    let seen = 0;
    let objects = 0;
    const notJsonLines = () =>
      new InputError(
        input.name,
        `is not JSON lines of denial events: none of its first ${seen} lines is a JSON object (why403 events reads sqliteSink's SQLite files and jsonLinesSink's or pino's JSON lines)`,
      );
    for await (const lines of readBatches(input, stats)) {
      const batch: ReadEvent[] = [];
      for (const line of lines) {
        const t = line.trim();
        if (!t) continue;
        seen++;
        let parsed: unknown;
        if (t.startsWith('{'))
          try {
            parsed = JSON.parse(t);
            objects++;
          } catch {
            parsed = undefined;
          }
        const e = eventOf(parsed);
        if (e) {
          source.events++;
          batch.push(e);
        } else source.notEvents++;
      }
      if (seen >= SAMPLE && !objects) throw notJsonLines();
      if (batch.length) yield batch;
    }
    if (seen && !objects) throw notJsonLines();
    source.read = stats.lines;
    source.tooLong = stats.tooLong;
    if (stats.stoppedEarly) source.stoppedEarly = stats.stoppedEarly;
  }
  return { source, batches: batches() };
}
