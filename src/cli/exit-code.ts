// Every command's exit code, from what the command produced: one pure
// function and its table (exit-code.test.ts), so the codes the README and
// --help document are decided in one place.
//
//   0    nothing denied (or nothing to judge: help, token, rules, a dry run)
//   1    denied and diagnosed (a report, a scan's records, the scan's list);
//        an audit's matrix that does not hold
//   2    usage or input error
//   3    network failure; a scan's records without an answer, none denied;
//        a scan stopped because records in a row got no answer
//   70   internal error (a bug), or standard output that cannot be written
//   75   scan, audit: stopped, the server asked to wait longer than --max-wait
//   130  scan, audit: interrupted (Ctrl-C)
//   141  standard output closed by its reader (128 + SIGPIPE)
// Imports types only (and errors.ts), so bin.ts and io.ts may use it at start-up.
import type { Outcome } from '../model/report.ts';
import type { ScanStop } from '../scan/stop.ts';
import { InputError, NetworkError, UsageError, Why403Error } from '../errors.ts';

export type ExitCode = 0 | 1 | 2 | 3 | 70 | 75 | 130 | 141;

/** What went wrong, when a command failed rather than produced a result. */
export type ErrorKind =
  /** An unknown option, a missing argument, an unsupported Node.js. */
  | 'usage'
  /** An input that cannot be read or understood. */
  | 'input'
  /** The request (or a scan's list page) could not be completed. */
  | 'network'
  /** The scan's list endpoint itself refused the identity (diagnosed and shown). */
  | 'list-denied'
  /** A bug in why403. */
  | 'internal'
  /** Standard output was closed by its reader. */
  | 'output-closed'
  /** Standard output failed otherwise. */
  | 'output-failed';

/** What a command produced, as far as its exit code goes. */
export type CommandResult =
  /** Nothing to judge: help, version, token, rules, a dry run. */
  | { kind: 'done' }
  /** `why403` with no command: the usage, printed as an error. */
  | { kind: 'no-command' }
  /** check (and library callers): the reports written. */
  | { kind: 'reports'; reports: readonly { outcome: Outcome }[] }
  /** explain: denials counted as the reports streamed by (a HAR's are not kept). */
  | { kind: 'explained'; denied: number }
  /** scan: its records, and why it stopped early, if it did. */
  | { kind: 'scan'; records: { denied: number; errors: number }; stop?: ScanStop }
  /** scan report: a state file read back. */
  | { kind: 'scan-report'; records: { denied: number } }
  /** scan diff: two state files compared. */
  | { kind: 'scan-diff'; newlyForbidden: number }
  /** audit: its failing findings, or with a baseline what changed; why it stopped early, if it did. */
  | {
      kind: 'audit';
      failing: number;
      baseline?: { newlyOpen: number; newlyDenied: number };
      stop?: { kind: 'interrupted' | 'retry-after' | 'no-answer'; signal?: string };
    }
  | { kind: 'error'; error: ErrorKind };

/** A report's outcome that counts as a denial (401, 403, 407). */
export const isDeniedOutcome = (outcome: Outcome): boolean => outcome === 'denied' || outcome === 'unauthenticated';

const ERROR_CODES: Record<ErrorKind, ExitCode> = {
  usage: 2,
  input: 2,
  network: 3,
  'list-denied': 1,
  internal: 70,
  'output-closed': 141,
  'output-failed': 70,
};

const STOP_CODES: Record<ScanStop['kind'], ExitCode> = {
  interrupted: 130,
  'retry-after': 75,
  'no-answer': 3,
  // Never returned by a scan (its error is thrown instead); an internal error if it were.
  'source-failed': 70,
};

export function exitCode(r: CommandResult): ExitCode {
  switch (r.kind) {
    case 'done':
      return 0;
    case 'no-command':
      return 2;
    case 'reports':
      return r.reports.some((x) => isDeniedOutcome(x.outcome)) ? 1 : 0;
    case 'explained':
      return r.denied > 0 ? 1 : 0;
    case 'scan':
      if (r.stop) return STOP_CODES[r.stop.kind];
      return r.records.denied > 0 ? 1 : r.records.errors > 0 ? 3 : 0;
    case 'scan-report':
      return r.records.denied > 0 ? 1 : 0;
    case 'scan-diff':
      return r.newlyForbidden > 0 ? 1 : 0;
    case 'audit':
      if (r.stop) return STOP_CODES[r.stop.kind];
      if (r.baseline) return r.baseline.newlyOpen + r.baseline.newlyDenied > 0 ? 1 : 0;
      return r.failing > 0 ? 1 : 0;
    case 'error':
      return ERROR_CODES[r.error];
  }
}

/**
 * The kind of a thrown error: by class for the library's errors, by its
 * code for the scan's list denial (its class lives with the scan, which
 * is not loaded for other commands), and `parseArgs`'s own errors are usage.
 */
export function errorKind(err: unknown): ErrorKind {
  if (err instanceof UsageError) return 'usage';
  if (err instanceof InputError) return 'input';
  if (err instanceof NetworkError) return 'network';
  if (err instanceof Why403Error) {
    if (err.code === 'W403_LIST_DENIED') return 'list-denied';
    // A Why403Error of another kind: what its own exit code says.
    const byCode = (Object.keys(ERROR_CODES) as ErrorKind[]).find((k) => ERROR_CODES[k] === err.exitCode);
    return byCode ?? 'internal';
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || code === 'ERR_INVALID_ARG_VALUE'))
    return 'usage';
  return 'internal';
}
