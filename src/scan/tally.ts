// What the scan has done so far, for the progress display: records counted
// as their outcomes are written, the rate over the last few seconds, and the
// run of records in a row without an answer (a server that is down).
import { performance } from 'node:perf_hooks';
import type { RecordOutcome } from './state.ts';
import type { ScanStop } from './stop.ts';

export interface ScanProgress {
  done: number;
  /** Records known so far; final once `totalKnown`. */
  total: number;
  totalKnown: boolean;
  denied: number;
  errors: number;
  /** Records a second over the last few seconds. */
  rate: number;
  /** Seconds left at the current rate, when the total is known. */
  eta?: number;
  /** Set while a Retry-After pause holds every worker. */
  pausedFor?: number;
  listPages: number;
}

const isDenied = (s: number | null) => s === 401 || s === 403 || s === 407;

export class Tally {
  counts = { total: 0, done: 0, denied: 0, errors: 0 };
  listPages = 0;
  /** When the first record request left, and the last outcome was counted: the records' throughput. */
  firstSent = 0;
  lastDone = 0;
  private samples: [number, number][] = [];
  private startedAt = performance.now();
  private doneAtStart = 0;
  private failuresInARow = 0;
  /** Records in a row without an answer that stop the scan (at least 20, or 5 per worker). */
  private readonly unanswered: number;

  constructor(concurrency: number) {
    this.unanswered = Math.max(20, 5 * concurrency);
  }

  /** The counts a resumed state file starts from. */
  start(counts: Tally['counts']): void {
    this.counts = counts;
    this.startedAt = performance.now();
    this.doneAtStart = counts.done;
  }

  /**
   * Counts one outcome. A server that is down fails every record alike: the
   * stop returned then (resumable) ends the scan instead of grinding
   * through them all.
   */
  count(outcome: RecordOutcome): ScanStop | undefined {
    this.counts.done++;
    let stop: ScanStop | undefined;
    if (outcome.status === null && outcome.attempts) {
      if (++this.failuresInARow >= this.unanswered)
        stop = { kind: 'no-answer', inARow: this.failuresInARow, lastError: outcome.error };
    } else if (outcome.status !== null) this.failuresInARow = 0;
    this.lastDone = performance.now();
    if (isDenied(outcome.status)) this.counts.denied++;
    if (outcome.error) this.counts.errors++;
    return stop;
  }

  progress(totalKnown: boolean, pausedFor: number | undefined): ScanProgress {
    const now = performance.now();
    this.samples.push([now, this.counts.done]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    let [t0, d0] = this.samples[0];
    // Until a few samples span a second, the run's average is the better estimate.
    if (now - t0 < 1000) [t0, d0] = [this.startedAt, this.doneAtStart];
    const rate = now - t0 > 0 ? ((this.counts.done - d0) * 1000) / (now - t0) : 0;
    const left = this.counts.total - this.counts.done;
    return {
      ...this.counts,
      totalKnown,
      rate,
      ...(totalKnown && rate > 0 ? { eta: left / rate } : {}),
      ...(pausedFor !== undefined ? { pausedFor } : {}),
      listPages: this.listPages,
    };
  }
}
