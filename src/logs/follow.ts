// `why403 logs --follow`: after the report, keep reading what the servers
// append to their logs and say, as it happens, each denial and why — an
// error line joined to its access line as in the report (same client, second
// and path), or the error line alone when only error logs are followed.
// Polled (once a second), so it works on any filesystem; a log that shrank
// was rotated and is read again from its start.
import { stat } from 'node:fs/promises';
import type { AccessRecord, ErrorRecord, LogFormat, LogRecord } from '../model/logs.ts';
import { appendedInput } from './match.ts';
import { readBatches, type LineStats } from './read.ts';

export interface FollowedDenial {
  time?: string;
  file: string;
  status?: number;
  method?: string;
  path?: string;
  client?: string;
  principal?: string;
  reason?: { causes: string[]; product: string; code: string; words: string };
}

export interface FollowOptions {
  /** How often the files are looked at. */
  intervalMs?: number;
  /** Stops the following when aborted (Ctrl-C). */
  signal: AbortSignal;
  onDenial(d: FollowedDenial): void;
}

const DENIED = new Set([401, 403, 407]);
/** Error lines kept to join access lines appended up to this long after them. */
const WINDOW_MS = 60_000;

interface Followed {
  path: string;
  /** Unknown for a log that was empty when the following began: told by its first lines. */
  format?: LogFormat;
  offset: number;
}

/** The format that reads most of the lines, if any reads one. */
function formatOf(lines: string[], formats: readonly LogFormat[]): LogFormat | undefined {
  let best: { format: LogFormat; n: number } | undefined;
  for (const format of formats) {
    const n = lines.filter((l) => format.parse(l)).length;
    if (n && (!best || n > best.n)) best = { format, n };
  }
  return best?.format;
}

export async function followLogs(
  files: { path: string; format?: LogFormat }[],
  formats: readonly LogFormat[],
  opts: FollowOptions,
): Promise<void> {
  const followed: Followed[] = [];
  for (const f of files) followed.push({ ...f, offset: (await stat(f.path)).size });
  // Error logs first in each round, so that an access line finds the error line written with it.
  const isAccess = (f: Followed) => f.format?.kind === 'access';
  followed.sort((a, b) => Number(isAccess(a)) - Number(isAccess(b)));
  // A log that was empty is taken for an access log's error log only if it turns out one.
  const accessFollowed = () => followed.some(isAccess);
  let recent: { record: ErrorRecord; at: number; used?: boolean }[] = [];
  const interval = opts.intervalMs ?? 1000;
  while (!opts.signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, interval);
      opts.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    if (opts.signal.aborted) break;
    const now = Date.now();
    recent = recent.filter((r) => now - r.at < WINDOW_MS);
    for (const f of followed) {
      let size: number;
      try {
        size = (await stat(f.path)).size;
      } catch {
        continue; // rotated away: it comes back, or not
      }
      if (size === f.offset) continue;
      const input = await appendedInput(f.path, f.offset);
      f.offset = size;
      const stats: LineStats = { lines: 0, tooLong: 0 };
      for await (const batch of readBatches(input, stats)) {
        f.format ??= formatOf(batch, formats);
        const format = f.format;
        if (!format) continue;
        for (const text of batch) {
          if (!text.trim() || format.isComment?.(text)) continue;
          const record = format.parse(text);
          if (record) handle(record, f.path);
        }
      }
    }
    followed.sort((a, b) => Number(isAccess(a)) - Number(isAccess(b)));
  }

  function handle(record: LogRecord, file: string): void {
    if (record.kind === 'error') {
      if (!record.reason) return;
      if (accessFollowed()) recent.push({ record, at: Date.now() });
      else opts.onDenial(denial(record, file, record.reason));
      return;
    }
    if (!DENIED.has(record.status)) return;
    const reason = record.reason ?? joined(record)?.reason;
    opts.onDenial(denial(record, file, reason));
  }

  function joined(a: AccessRecord): ErrorRecord | undefined {
    const second = (d?: Date) => (d ? Math.floor(d.getTime() / 1000) : undefined);
    const s = second(a.time);
    const hit = recent.find(
      (r) =>
        !r.used &&
        (!r.record.client || r.record.client === a.client) &&
        (s === undefined || second(r.record.time) === undefined || Math.abs(second(r.record.time)! - s) <= 1) &&
        (r.record.path
          ? r.record.path === a.path
          : r.record.file && a.path
            ? r.record.file.replace(/\/$/, '').endsWith(a.path.replace(/\/$/, ''))
            : Boolean(r.record.client)),
    );
    if (hit) hit.used = true;
    return hit?.record;
  }
}

function denial(record: LogRecord, file: string, reason: LogRecord['reason']): FollowedDenial {
  return {
    ...(record.time ? { time: record.time.toISOString() } : {}),
    file,
    ...(record.kind === 'access' ? { status: record.status } : {}),
    ...(record.method ? { method: record.method } : {}),
    ...(record.path ? { path: record.path } : record.kind === 'error' && record.file ? { path: record.file } : {}),
    ...(record.client ? { client: record.client } : {}),
    ...(record.principal ? { principal: record.principal } : {}),
    ...(reason
      ? { reason: { causes: reason.causes, product: reason.product, code: reason.code, words: reason.words } }
      : {}),
  };
}
