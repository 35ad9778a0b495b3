// Why a scan stopped before the end, as data: the command turns it into an
// exit code (src/cli/exit-code.ts) and, with `describeStop`, into the line the
// user reads. Every stop leaves the state file resumable.

export type ScanStop =
  /** Ctrl-C (SIGINT) or SIGTERM, or a library caller's `stop()`: exit 130. */
  | { kind: 'interrupted'; signal?: string }
  /** A 429 or 503 asked to wait longer than --max-wait: exit 75. */
  | { kind: 'retry-after'; host: string; waitMs: number }
  /** Records in a row got no answer at all (is the server up?): exit 3. */
  | { kind: 'no-answer'; inARow: number; lastError?: string }
  /** The source (the list or the ids) failed; the scan throws its error rather than returning this. */
  | { kind: 'source-failed' };

export type ScanStopKind = ScanStop['kind'];

/** The stop in words, as the summary (`run.stopped` in --json) and the last line on stderr say it. */
export function describeStop(s: ScanStop): string {
  switch (s.kind) {
    case 'interrupted':
      return s.signal ? `interrupted (${s.signal})` : 'interrupted';
    case 'retry-after':
      return (
        `${s.host} asked to wait ${Math.round(s.waitMs / 1000)} s (Retry-After), ` +
        'longer than --max-wait; resume later'
      );
    case 'no-answer':
      return `${s.inARow} records in a row got no answer (last: ${s.lastError}); is the server up?`;
    case 'source-failed':
      return 'the source failed';
  }
}

/**
 * The one place a scan's stop is kept: set once (the first reason wins), it
 * aborts every wait in the pace (sleeps take `signal`) and tells the owner.
 */
export class StopSwitch {
  reason?: ScanStop;
  private readonly controller = new AbortController();
  private readonly onStop: () => void;

  constructor(onStop: () => void) {
    this.onStop = onStop;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** False when the scan had stopped already (the first reason stands). */
  stop(reason: ScanStop): boolean {
    if (this.reason) return false;
    this.reason = reason;
    this.controller.abort();
    this.onStop();
    return true;
  }
}

/** Thrown inside the scan to unwind a worker or the source once the scan stops; never leaves `Scan.run`. */
export class Stopped extends Error {}
