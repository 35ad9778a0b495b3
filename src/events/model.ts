// What `why403 events` reports over an API's own denial events (the ones
// its why403 middleware wrote to SQLite or as JSON lines): how many, why
// (cause and rule, with the grant that was missing), who, where, and when.
// The report is data (why403/events@1), rendered for a terminal or as
// Markdown by src/render/events.ts, written as it is with --json.
import type { Gap } from '../middleware/denial.ts';

export const EVENTS_SCHEMA = 'why403/events@1';

/** A count with what it counts. */
export interface Tally {
  key: string;
  count: number;
}

export interface EventsSource {
  /** The file as the user named it ("-" for standard input). */
  file: string;
  format: 'sqlite' | 'json-lines';
  /** Rows (SQLite) or lines (JSON lines) read. */
  read: number;
  /** Denial events among them, in the window or not. */
  events: number;
  /** Lines that are not denial events (an app's other log lines, blank lines excluded). */
  notEvents: number;
  /** Lines longer than 64 KiB, skipped whole. */
  tooLong: number;
  /** Set when reading stopped before the end (a truncated gzip stream, a read error). */
  stoppedEarly?: string;
}

/** One reason: a cause, and the rule or policy that refused. */
export interface ReasonSummary {
  cause: string;
  rule?: string;
  count: number;
  /** The grant missing in the first denial of this reason that named one. */
  exampleGap?: Gap;
  /** The routes (method and template) refused for this reason, most first. */
  routes: Tally[];
}

export interface EventsReport {
  schema: typeof EVENTS_SCHEMA;
  sources: EventsSource[];
  /** The window asked for (--since/--until) and the span the denials in it cover. */
  window: { since?: string; until?: string; first?: string; last?: string };
  /** Denials in the window, hidden ones included. */
  denials: number;
  /** The reasons, most first (at most 20); the tallies below keep their top 10. */
  byReason: ReasonSummary[];
  /** Who was refused: the principal's id, or "(anonymous)". */
  byPrincipal: Tally[];
  /** Method and route template: "POST /orders/:id". */
  byRoute: Tally[];
  byClient: Tally[];
  /** The status the caller was answered, for denials not hidden. */
  byStatus: Tally[];
  /** Denials answered 404 to hide the resource, by the status they stood for. */
  hidden: Tally[];
  /** Denials per bucket over the window, oldest first. */
  overTime: { bucketSeconds: number; start?: string; counts: number[]; peak?: { at: string; count: number } };
  /** With --since: denials a minute after it, and before it where the events reach back that far. */
  rate?: { before: number; after: number };
  notes: string[];
}
