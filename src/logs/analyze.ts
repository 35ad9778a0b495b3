// Reads access and error logs and sums up their denials: how many, why (the
// reason an error log wrote, joined to its access-log line), where, from
// whom, when. Streamed: memory holds the tallies (capped), the error lines
// that may still be joined (capped) and the current line, whatever the size
// of the logs.
import { overTime as overTimeOf, reportWindow, sinceRate } from './over-time.ts';
import { CappedTally, detached } from './capped-tally.ts';
import type {
  LogFormat,
  LogRecord,
  LogReport,
  LogSource,
  ReasonSummary,
  ErrorRecord,
  AccessRecord,
} from '../model/logs.ts';
import { LOGS_SCHEMA } from '../model/logs.ts';
import type { CauseId } from '../model/vocabulary.ts';
import { formatFix } from '../model/template.ts';
import { InputError } from '../errors.ts';
import { LOG_FORMATS } from './formats.generated.ts';
import { readBatches, type LineInput, type LineStats } from './read.ts';

export interface LogsOptions {
  since?: Date;
  until?: Date;
  /** Formats tried before the known ones (a --log-format); they win a tie. */
  formats?: readonly LogFormat[];
}

/** Lines looked at to tell a file's format. */
const SAMPLE = 200;
/** An error line is joined to an access line written up to this long after it (a slow request logs its end). */
const JOIN_WINDOW = 60_000;
/** Error lines are read up to this far past the access line in hand (clocks and buffering differ by a second or so). */
const JOIN_AHEAD = 2_000;
const EXAMPLES = 3;

/** Refusals: 407 is a proxy's own 401 (Squid). */
const DENIED = new Set([401, 403, 407]);

interface Opened {
  input: LineInput;
  stats: LineStats;
  batches: AsyncGenerator<string[]>;
  sample: string[];
  format?: LogFormat;
}

/**
 * A file's format, from its first lines (read from `batches` and returned as
 * `sample`, to be read again): the format that reads most of them. A file
 * none reads well is one clear line naming the formats tried.
 */
export async function detectFormat(
  input: LineInput,
  batches: AsyncGenerator<string[]>,
  extra: readonly LogFormat[] = [],
): Promise<{ format?: LogFormat; sample: string[] }> {
  const candidates = [...extra, ...LOG_FORMATS];
  const sample: string[] = [];
  while (sample.length < SAMPLE) {
    const next = await batches.next();
    if (next.done) break;
    for (const line of next.value) sample.push(line);
  }
  const filled = sample.filter((l) => l.trim()).slice(0, SAMPLE);
  if (!filled.length) return { sample };
  let best: { format: LogFormat; n: number } | undefined;
  for (const format of candidates) {
    const n = filled.filter((l) => format.parse(l) || format.isComment?.(l)).length;
    if (n && (!best || n > best.n)) best = { format, n };
  }
  if (!best || best.n * 2 < filled.length)
    throw new InputError(
      input.name,
      `is not a log format why403 reads: tried ${candidates.map((f) => f.id).join(', ')} (why403 logs --help says what each is); ` +
        `${best ? `the closest, ${best.format.id}, read ${best.n} of the first ${filled.length} lines` : `none read any of the first ${filled.length} lines`}`,
    );
  return { format: best.format, sample };
}

async function open(input: LineInput, extra: readonly LogFormat[]): Promise<Opened> {
  const stats: LineStats = { lines: 0, tooLong: 0 };
  const batches = readBatches(input, stats);
  const { format, sample } = await detectFormat(input, batches, extra);
  return { input, stats, batches, sample, ...(format ? { format } : {}) };
}

/** Every line of a source, the sample first, a batch at a time. */
async function* batchesOf(o: Opened): AsyncGenerator<string[]> {
  yield o.sample;
  yield* o.batches;
}

/** A line read as its source's format: a record, or nothing (a blank or comment line, or one not understood, counted). */
function parseLine(o: Opened, source: LogSource, text: string): LogRecord | undefined {
  if (!text || o.format!.isComment?.(text) || !text.trim()) return undefined;
  const record = o.format!.parse(text);
  if (!record) source.notUnderstood++;
  return record;
}

async function* recordsOf(
  o: Opened,
  source: LogSource,
): AsyncGenerator<{ record: LogRecord; line: number; text: string }> {
  let n = 0;
  for await (const batch of batchesOf(o))
    for (const text of batch) {
      n++;
      const record = parseLine(o, source, text);
      if (record) yield { record, line: n, text };
    }
}

const second = (d: Date | undefined) => (d ? Math.floor(d.getTime() / 1000) : undefined);

/** A log line fit to show: queries (which may hold credentials) cut, the length bounded. */
export function shownLine(text: string): string {
  const cut = text.replace(/\?[^\s"]*/g, '?…');
  return cut.length > 300 ? `${cut.slice(0, 299)}…` : cut;
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** Whether an error line is about this access line: same request, or (Apache) a file whose path ends with its URL path. */
function sameRequest(e: ErrorRecord, a: AccessRecord): boolean {
  if (e.path && a.path) return e.path === a.path && (!e.method || !a.method || e.method === a.method);
  if (e.file && a.path) {
    const path = decodePath(a.path).replace(/\/$/, '');
    return e.file.replace(/\/$/, '').endsWith(path);
  }
  return true;
}

interface Item {
  record: LogRecord;
  line: number;
  text: string;
  file: string;
}

/** The time of a source's first dated record (from the lines read to tell its format), for ordering rotated logs. */
function firstTime(o: Opened): number {
  for (const l of o.sample) {
    const t = o.format?.parse(l)?.time;
    if (t) return t.getTime();
  }
  return Number.POSITIVE_INFINITY;
}

/** Items of several sources, oldest first (each source in its own order); undated items go as they come. */
async function* mergeByTime(streams: AsyncGenerator<Item>[]): AsyncGenerator<Item> {
  const heads = await Promise.all(streams.map((st) => st.next()));
  const at = (r: IteratorResult<Item>) => (r.done ? Number.POSITIVE_INFINITY : (r.value.record.time?.getTime() ?? -1));
  for (;;) {
    let best = -1;
    for (let k = 0; k < heads.length; k++) if (!heads[k].done && (best < 0 || at(heads[k]) < at(heads[best]))) best = k;
    if (best < 0) return;
    yield (heads[best] as IteratorYieldResult<Item>).value;
    heads[best] = await streams[best].next();
  }
}

interface Pending {
  record: ErrorRecord;
  ref: { file: string; line: number; text: string };
  used?: boolean;
}

class ReasonTally {
  private byKey = new Map<string, ReasonSummary>();
  private paths = new Map<string, CappedTally>();
  add(
    reason: NonNullable<ErrorRecord['reason']>,
    path: string | undefined,
    example: ReasonSummary['examples'][number],
    values: Record<string, string>,
  ) {
    const key = `${reason.product}\u0000${reason.code}`;
    let s = this.byKey.get(key);
    if (!s) {
      this.paths.set(key, new CappedTally());
      s = {
        causes: reason.causes,
        product: reason.product,
        code: reason.code,
        words: reason.words,
        count: 0,
        paths: [],
        examples: [],
        fixes: reason.fix ? [formatFix(reason.fix, values)] : [],
      };
      this.byKey.set(key, s);
    }
    s.count++;
    this.paths.get(key)!.add(path);
    if (s.examples.length < EXAMPLES) s.examples.push(example);
  }
  list(): ReasonSummary[] {
    return [...this.byKey]
      .map(([key, s]) => ({ ...s, paths: this.paths.get(key)!.top(5) }))
      .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  }
}

/** Bucket sizes for the histogram: the smallest that fits the span in at most 60 buckets. */
const MAX_MINUTES = 200_000;

export async function analyzeLogs(inputs: LineInput[], opts: LogsOptions = {}): Promise<LogReport> {
  if (!inputs.length) throw new InputError('logs', 'no log file given');
  const opened: Opened[] = [];
  for (const input of inputs) opened.push(await open(input, opts.formats ?? []));
  const sources: LogSource[] = opened.map((o) => ({
    file: o.input.name,
    format: o.format?.id ?? 'empty',
    kind: o.format?.kind ?? 'access',
    lines: 0,
    notUnderstood: 0,
    tooLong: 0,
  }));
  const notes: string[] = [];
  const inWindow = (t: Date | undefined) =>
    !t || ((!opts.since || t >= opts.since) && (!opts.until || t <= opts.until));

  const reasons = new ReasonTally();
  const byPath = new CappedTally();
  const byClient = new CappedTally();
  const byPrincipal = new CappedTally();
  const byStatus = new CappedTally();
  const perMinute = new Map<number, number>();
  let first: number | undefined;
  let last: number | undefined;
  let denials = 0;
  let requests = 0;
  let unexplained = 0;
  const before = { count: 0, first: undefined as number | undefined };

  const countDenial = (t: Date | undefined, path?: string, client?: string, principal?: string) => {
    denials++;
    byPath.add(path);
    byClient.add(client);
    byPrincipal.add(principal);
    if (t) {
      const ms = t.getTime();
      first = first === undefined ? ms : Math.min(first, ms);
      last = last === undefined ? ms : Math.max(last, ms);
      const minute = Math.floor(ms / 60_000);
      if (perMinute.has(minute) || perMinute.size < MAX_MINUTES)
        perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
    }
  };
  const countBefore = (t: Date | undefined) => {
    if (!t || !opts.since || t >= opts.since) return;
    before.count++;
    before.first = before.first === undefined ? t.getTime() : Math.min(before.first, t.getTime());
  };

  const isAccess = (o: Opened) => o.format?.kind === 'access';
  const errorsOnly = !opened.some(isAccess);
  for (const o of opened) if (!o.format) notes.push(`${o.input.name}: empty`);

  /** A source's counts, final once it has been read to the end. */
  const finish = (i: number) => {
    const o = opened[i];
    const source = sources[i];
    source.lines = o.stats.lines;
    source.tooLong = o.stats.tooLong;
    if (o.stats.stoppedEarly) {
      source.stoppedEarly = o.stats.stoppedEarly;
      notes.push(`${o.input.name}: ${o.stats.stoppedEarly}`);
    }
    if (source.notUnderstood || source.tooLong)
      notes.push(
        `${o.input.name}: ${source.notUnderstood} of ${source.lines} lines not read as ${source.format}` +
          (source.tooLong ? `, ${source.tooLong} skipped as longer than 64 KiB` : ''),
      );
  };
  /** A source's records, each tagged with where it was read. */
  async function* tagged(i: number): AsyncGenerator<Item> {
    const o = opened[i];
    for await (const r of recordsOf(o, sources[i])) yield { ...r, file: o.input.name };
    finish(i);
  }
  const refOf = (item: Item) => ({
    file: item.file,
    line: item.line,
    text: detached(shownLine(exampleText(item.record, item.text))),
  });
  const errorSources = opened.map((_, i) => i).filter((i) => opened[i].format && !isAccess(opened[i]));
  // Several error logs (rotated ones) are read as one, oldest line first.
  const errors = mergeByTime(errorSources.map(tagged));

  if (errorsOnly) {
    for await (const item of errors) {
      const record = item.record;
      if (record.kind !== 'error' || !record.reason) continue;
      if (!inWindow(record.time)) {
        countBefore(record.time);
        continue;
      }
      countDenial(record.time, record.path ?? record.file, record.client, record.principal);
      reasons.add(record.reason, record.path ?? record.file, { error: refOf(item) }, valuesOf(record));
    }
    if (opened.some((o) => o.format))
      notes.push('no access log given: the denials counted are the refusals the error logs wrote');
  } else {
    // The join streams too: error lines are read only as far as the access
    // line in hand (and a little past it), and forgotten once they are older
    // than JOIN_WINDOW, so memory holds minutes of error lines, not the log.
    const pending = new Map<string, Pending[]>();
    const queue: { key: string; at: number }[] = [];
    let head = 0;
    let next = await errors.next();
    /** When the next error line was written: the access lines read up to it need nothing from the error logs. */
    const nextAt = () =>
      next.done ? Number.POSITIVE_INFINITY : (next.value.record.time?.getTime() ?? Number.NEGATIVE_INFINITY);
    let joined = 0;
    let admitted = 0;
    const admit = async (upTo: number) => {
      while (!next.done) {
        const item = next.value;
        const at = item.record.time?.getTime();
        if (at !== undefined && at > upTo) break;
        const record = item.record;
        if (record.kind === 'error' && record.reason && inWindow(record.time)) {
          const key = `${record.client ?? ''}|${second(record.time) ?? ''}`;
          const list = pending.get(key) ?? [];
          list.push({ record, ref: refOf(item) });
          pending.set(key, list);
          queue.push({ key, at: at ?? upTo });
          admitted++;
        }
        next = await errors.next();
      }
    };
    const forget = (before: number) => {
      while (head < queue.length && queue[head].at < before) {
        const { key } = queue[head++];
        const list = pending.get(key);
        list?.shift();
        if (list && !list.length) pending.delete(key);
      }
      if (head > 4096 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
    };
    const accessSources = opened
      .map((_, i) => i)
      .filter((i) => isAccess(opened[i]))
      .sort((x, y) => firstTime(opened[x]) - firstTime(opened[y]));
    let clock = Number.NEGATIVE_INFINITY;
    // The hot loop: a batch of lines at a time, awaiting only when an error line is due.
    for (const i of accessSources) {
      const o = opened[i];
      const source = sources[i];
      let n = 0;
      for await (const batch of batchesOf(o))
        for (const text of batch) {
          n++;
          const record = parseLine(o, source, text);
          if (!record || record.kind !== 'access') continue;
          const at = record.time?.getTime();
          if (at !== undefined && at > clock) clock = at;
          const upTo = at === undefined ? Number.POSITIVE_INFINITY : at + JOIN_AHEAD;
          if (nextAt() <= upTo) await admit(upTo);
          if (head < queue.length && queue[head].at < clock - JOIN_WINDOW) forget(clock - JOIN_WINDOW);
          if (!inWindow(record.time)) {
            if (DENIED.has(record.status)) countBefore(record.time);
            continue;
          }
          requests++;
          if (!DENIED.has(record.status)) continue;
          byStatus.add(String(record.status));
          countDenial(record.time, record.path, record.client, record.principal);
          const item: Item = { record, line: n, text, file: o.input.name };
          if (record.reason) {
            reasons.add(record.reason, record.path, { access: refOf(item) }, valuesOf(record));
            continue;
          }
          const match = joinError(pending, record);
          if (match) {
            match.used = true;
            joined++;
            reasons.add(
              match.record.reason!,
              record.path,
              { access: refOf(item), error: match.ref },
              valuesOf(match.record),
            );
          } else unexplained++;
        }
      finish(i);
    }
    // Read the rest of the error logs, for their counts.
    await admit(Number.POSITIVE_INFINITY);
    if (admitted > joined)
      notes.push(
        `${admitted - joined} refusals in the error log${errorSources.length > 1 ? 's' : ''} matched no denial in the access log${accessSources.length > 1 ? 's' : ''} (another vhost's log, or outside the access log's time)`,
      );
  }

  const overTime = overTimeOf(perMinute, first, last);
  const rate = sinceRate(opts.since, before, { count: denials, last });
  return {
    schema: LOGS_SCHEMA,
    sources,
    window: reportWindow(opts, first, last),
    denials,
    requests,
    byStatus: byStatus.top(),
    byReason: reasons.list(),
    unexplained: errorsOnly ? 0 : unexplained,
    byPath: byPath.top(),
    byClient: byClient.top(),
    byPrincipal: byPrincipal.top(),
    overTime,
    ...(rate ? { rate } : {}),
    notes,
  };
}

/** What an example shows of a line: the time, client and request of an access line; an error line's message. */
function exampleText(r: LogRecord, text: string): string {
  if (r.kind === 'error') return r.message ?? text;
  const at = r.time
    ? r.time
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z')
    : '';
  return [at, r.client, r.principal, r.method && r.path ? `${r.method} ${r.path}` : '', `→ ${r.status}`]
    .filter(Boolean)
    .join(' ');
}

function valuesOf(r: LogRecord): Record<string, string> {
  return {
    file: (r.kind === 'error' ? r.file : undefined) ?? 'FILE',
    user: r.principal ?? 'USER',
    method: r.method ?? 'METHOD',
    path: r.path ?? 'PATH',
  };
}

function joinError(pending: Map<string, Pending[]>, a: AccessRecord): Pending | undefined {
  const s = second(a.time);
  // An error line that names no client (lighttpd's) is joined by time and path alone.
  for (const client of [a.client ?? '', ''])
    for (const t of s === undefined ? [undefined] : [s, s - 1, s + 1]) {
      const list = pending.get(`${client}|${t ?? ''}`);
      const hit = list?.find((p) => !p.used && (client || p.record.path || p.record.file) && sameRequest(p.record, a));
      if (hit) return hit;
    }
  return undefined;
}

/** The causes a reason names, for renderers: "path-forbidden or ip-restricted". */
export const causesText = (causes: CauseId[]) => causes.join(' or ');
