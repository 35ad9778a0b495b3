// Sums up an API's own denial events (`why403 events`): how many, why (the
// cause and the rule that refused, with the grant that was missing), who was
// refused, on which routes, from where, with which status (denials hidden as
// 404 counted apart, by what they really were), and over time. Streamed:
// memory holds the tallies, each capped at MAX_KEYS keys (the rest counted
// as "(others)"), whatever the size of the files.
import { overTime, reportWindow, sinceRate } from '../logs/over-time.ts';
import { CappedTally, MAX_TALLY_KEYS, OTHERS } from '../logs/capped-tally.ts';
import { InputError } from '../errors.ts';
import { EVENTS_SCHEMA, type EventsReport, type ReasonSummary } from './model.ts';
import { openEvents, type ReadEvent, type Window } from './read.ts';

export interface EventsOptions {
  since?: Date;
  until?: Date;
  /** Read for "-". */
  stdin?: NodeJS.ReadableStream;
}

/** Distinct keys counted one by one in a tally; past this, "(others)". */
export const MAX_KEYS = MAX_TALLY_KEYS;
/** Distinct reasons (cause and rule) kept; past this, one "(others)" reason. */
const MAX_REASONS = 1_000;
/** Routes kept per reason. */
const MAX_REASON_ROUTES = 100;
const TOP = 10;
/** Minutes counted for the histogram (139 days of minutes); later minutes still count in the totals. */
const MAX_MINUTES = 200_000;
/** Bucket sizes for the histogram: the smallest that fits the span in at most 60 buckets. */

export const ANONYMOUS = '(anonymous)';

interface Reason {
  cause: string;
  rule?: string;
  count: number;
  exampleGap?: ReasonSummary['exampleGap'];
  routes: CappedTally;
}

class ReasonTally {
  private byKey = new Map<string, Reason>();
  add(e: ReadEvent, route: string): void {
    let key = `${e.cause}\u0000${e.rule ?? ''}`;
    let r = this.byKey.get(key);
    if (!r && this.byKey.size >= MAX_REASONS) {
      key = OTHERS;
      r = this.byKey.get(key);
      e = { ...e, cause: OTHERS, rule: undefined };
    }
    if (!r) {
      r = { cause: e.cause, ...(e.rule ? { rule: e.rule } : {}), count: 0, routes: new CappedTally(MAX_REASON_ROUTES) };
      this.byKey.set(key, r);
    }
    r.count++;
    r.routes.add(route);
    if (!r.exampleGap && e.gap?.required.length) r.exampleGap = e.gap;
  }
  list(): ReasonSummary[] {
    return [...this.byKey.values()]
      .map((r) => ({
        cause: r.cause,
        ...(r.rule ? { rule: r.rule } : {}),
        count: r.count,
        ...(r.exampleGap ? { exampleGap: r.exampleGap } : {}),
        routes: r.routes.top(5),
      }))
      .sort((a, b) => b.count - a.count || a.cause.localeCompare(b.cause) || (a.rule ?? '').localeCompare(b.rule ?? ''))
      .slice(0, TOP * 2);
  }
}

export async function analyzeEvents(files: string[], opts: EventsOptions = {}): Promise<EventsReport> {
  if (!files.length) throw new InputError('events', 'no events file given');
  const window: Window = {
    ...(opts.since ? { since: opts.since.getTime() } : {}),
    ...(opts.until ? { until: opts.until.getTime() } : {}),
  };
  /** Denials before --since: the rate they ran at, for the comparison (a spike after a deploy). */
  const before = { count: 0, first: undefined as number | undefined };
  const inWindow = (t: number) =>
    (window.since === undefined || t >= window.since) && (window.until === undefined || t <= window.until);
  const reasons = new ReasonTally();
  const byPrincipal = new CappedTally();
  const byRoute = new CappedTally();
  const byClient = new CappedTally();
  const byStatus = new CappedTally();
  const hidden = new CappedTally();
  const perMinute = new Map<number, number>();
  let first: number | undefined;
  let last: number | undefined;
  let denials = 0;
  const sources: EventsReport['sources'] = [];
  const notes: string[] = [];

  for (const file of files) {
    const opened = openEvents(file, window, opts.stdin);
    let inThisFile = 0;
    sources.push(opened.source);
    for await (const batch of opened.batches)
      for (const e of batch) {
        if (window.since !== undefined && e.time < window.since) {
          before.count++;
          before.first = before.first === undefined ? e.time : Math.min(before.first, e.time);
        }
        if (!inWindow(e.time)) continue;
        denials++;
        inThisFile++;
        const route = `${e.method} ${e.route ?? '(no route)'}`;
        reasons.add(e, route);
        byPrincipal.add(e.principal ?? ANONYMOUS);
        byRoute.add(route);
        byClient.add(e.client);
        if (e.hidden) hidden.add(e.deniedAs !== undefined ? String(e.deniedAs) : '(unknown)');
        else byStatus.add(String(e.status));
        first = first === undefined ? e.time : Math.min(first, e.time);
        last = last === undefined ? e.time : Math.max(last, e.time);
        const minute = Math.floor(e.time / 60_000);
        if (perMinute.has(minute) || perMinute.size < MAX_MINUTES)
          perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
      }
    if (opened.earlier) {
      before.count += opened.earlier.count;
      const f = opened.earlier.first;
      if (f !== undefined) before.first = before.first === undefined ? f : Math.min(before.first, f);
    }
    const s = opened.source;
    if (s.stoppedEarly) notes.push(`${s.file}: ${s.stoppedEarly}`);
    if (s.notEvents || s.tooLong)
      notes.push(
        `${s.file}: ${[
          s.notEvents ? `${s.notEvents} ${s.format === 'sqlite' ? 'rows' : 'lines'} not denial events` : '',
          s.tooLong ? `${s.tooLong} lines skipped as longer than 64 KiB` : '',
        ]
          .filter(Boolean)
          .join(', ')}`,
      );
    // A file whose denials all fall outside --since/--until is not a file without denials.
    const windowed = window.since !== undefined || window.until !== undefined;
    if (!inThisFile)
      notes.push(`${s.file}: no denial events${windowed && (s.events || s.read) ? ' in the window' : ''}`);
  }

  const rate = sinceRate(opts.since, before, { count: denials, last });
  return {
    schema: EVENTS_SCHEMA,
    sources,
    window: reportWindow(opts, first, last),
    denials,
    byReason: reasons.list(),
    byPrincipal: byPrincipal.top(),
    byRoute: byRoute.top(),
    byClient: byClient.top(),
    byStatus: byStatus.top(),
    hidden: hidden.top(),
    overTime: overTime(perMinute, first, last),
    ...(rate ? { rate } : {}),
    notes,
  };
}
