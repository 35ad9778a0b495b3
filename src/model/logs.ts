// What `why403 logs` reads and reports: access and error log records, the
// reason a server wrote for a denial, and the summary over a whole log. The
// report is data (why403/logs@1), rendered for a terminal, as JSON or as
// Markdown by src/render/logs.ts.
import type { Fix } from './report.ts';
import type { CauseId } from './vocabulary.ts';

export const LOGS_SCHEMA = 'why403/logs@1';

/** Where a record was read: the file as the user named it, and its line number. */
export interface LogRef {
  file: string;
  line: number;
}

/** The reason a server wrote for refusing a request, in its own words. */
export interface LogReason {
  /** The causes the words speak for; two when the server writes one message for both (nginx's "access forbidden by rule"). */
  causes: CauseId[];
  /** The product that wrote it. */
  product: string;
  /** The message's stable id where the product has one (Apache's AH01630), else a short name. */
  code: string;
  /** The server's words, as a person would search for them. */
  words: string;
  /** What to do about it; `{{file}}` and `{{user}}` are filled from the line. */
  fix?: Fix;
}

/** One request from an access log. */
export interface AccessRecord {
  kind: 'access';
  time?: Date;
  client?: string;
  /** The authenticated user the log shows (%u, $remote_user), never a credential. */
  principal?: string;
  method?: string;
  /** The request target's path, without its query (which may hold credentials). */
  path?: string;
  /** The HTTP status; formats whose records are not HTTP answers (CloudTrail) give 403 for a refusal. */
  status: number;
  /** A reason the access record carries itself (Kubernetes' audit annotations, CloudTrail's errorCode). */
  reason?: LogReason;
}

/** One line of an error log. */
export interface ErrorRecord {
  kind: 'error';
  time?: Date;
  client?: string;
  method?: string;
  path?: string;
  /** A filesystem path the message names (Apache names the file, not the URL). */
  file?: string;
  /** The authenticated user the message names, where it names one. */
  principal?: string;
  /** The message without the line's time, level and process prefix. */
  message?: string;
  reason?: LogReason;
}

export type LogRecord = AccessRecord | ErrorRecord;

/** A log format: how to read one line of it. One module each in src/logs/formats/. */
export interface LogFormat {
  id: string;
  /** Who writes it. */
  product: string;
  kind: 'access' | 'error';
  description: string;
  /** Where the format is documented. */
  docs: string[];
  /** The record one line holds; undefined when the line is not of this format. */
  parse(line: string): LogRecord | undefined;
  /** A line of the format that holds no record (W3C's `#Fields:` header): neither a record nor a line not understood. */
  isComment?(line: string): boolean;
}

/** A count with what it counts. */
export interface Tally {
  key: string;
  count: number;
}

export interface ReasonSummary {
  causes: CauseId[];
  product: string;
  code: string;
  words: string;
  count: number;
  /** The paths refused for this reason, most first. */
  paths: Tally[];
  /** Up to three denials with this reason: the access line (when joined) and the error line. */
  examples: { access?: LogRef & { text: string }; error?: LogRef & { text: string } }[];
  fixes: Fix[];
}

export interface LogSource {
  file: string;
  format: string;
  kind: 'access' | 'error';
  lines: number;
  /** Lines the format did not read, and lines longer than the limit (skipped whole). */
  notUnderstood: number;
  tooLong: number;
  /** Set when reading stopped early: a truncated gzip stream, a read error. */
  stoppedEarly?: string;
}

export interface LogReport {
  schema: typeof LOGS_SCHEMA;
  sources: LogSource[];
  /** The window read (--since/--until) and the span the records cover. */
  window: { since?: string; until?: string; first?: string; last?: string };
  /** 401 and 403 answers (access logs), or refusals written to error logs when no access log was given. */
  denials: number;
  /** Requests in the window (access logs only). */
  requests: number;
  byStatus: Tally[];
  byReason: ReasonSummary[];
  /** Denials whose reason no error line gave. */
  unexplained: number;
  byPath: Tally[];
  byClient: Tally[];
  byPrincipal: Tally[];
  /** Denials per bucket over the window, oldest first. */
  overTime: { bucketSeconds: number; start?: string; counts: number[]; peak?: { at: string; count: number } };
  /** With --since: denials per minute before it and after, where the log covers both. */
  rate?: { before: number; after: number };
  notes: string[];
}
