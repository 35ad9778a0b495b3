// The scan itself, put together: a source that fills the state file with
// records (sources.ts), --concurrency workers that each take a pending record,
// fetch it and commit its outcome before taking the next (lanes.ts), one gate
// and retry policy for every request (pace.ts), the denial signatures and the
// post-pass that diagnoses them again with the whole scan's evidence
// (post-pass.ts). Why it stopped, if it did, is data (stop.ts).
import { performance } from 'node:perf_hooks';
import { loadRules } from '../rules/registry.ts';
import { recordUrl, type ScanSettings } from './config.ts';
import { createClient, type HttpClient } from './fetch.ts';
import { Feed, Lanes } from './lanes.ts';
import { Pace, type RequestCounts } from './pace.ts';
import { rediagnose, SignatureCache } from './post-pass.ts';
import { Scrubber } from './secrets.ts';
import { fillFromSource } from './sources.ts';
import type { ScanState } from './state.ts';
import { Stopped, StopSwitch, type ScanStop } from './stop.ts';
import { Tally, type ScanProgress } from './tally.ts';

export { ListDeniedError, STALE_PAGES } from './sources.ts';
export { hideSecrets, scanSecrets, unhideSecrets } from './secrets.ts';
export { retryAfterMs } from './pace.ts';
export { describeStop, type ScanStop, type ScanStopKind } from './stop.ts';
export type { ScanProgress } from './tally.ts';

export interface ScanRunResult {
  /** Why the scan stopped before the end (Ctrl-C, a long Retry-After, a server that stopped answering), if it did. */
  stopped?: ScanStop;
  /** Records a crash had left in flight (sent, their answers never recorded), requested again by this run. */
  requeued: number;
  /** Ids the source gave more than once (scanned once). */
  duplicates: number;
  requests: RequestCounts;
  notes: string[];
  elapsedMs: number;
  /** From the first record request sent to the last outcome written: the records' throughput. */
  fetchMs: number;
}

export interface ScanRunOptions {
  stdin?: NodeJS.ReadableStream;
  env?: NodeJS.ProcessEnv;
  /** A Retry-After longer than this stops the scan (resumable) instead of waiting. */
  maxWaitMs?: number;
  /** 429s honoured for one record before it is recorded as rate-limited. */
  maxWaits?: number;
  onNote?: (line: string) => void;
}

export class Scan {
  readonly state: ScanState;
  readonly settings: ScanSettings;
  private readonly opts: ScanRunOptions;
  private client?: HttpClient;
  /** Requests in flight were ended by `stop` (see there). */
  private aborting = false;
  private readonly feed = new Feed();
  private readonly stops = new StopSwitch(() => this.feed.signal());
  private readonly scrubber: Scrubber;
  private readonly pace: Pace;
  private readonly tally: Tally;
  private readonly signatures: SignatureCache;
  private readonly notes: string[] = [];

  constructor(state: ScanState, settings: ScanSettings, opts: ScanRunOptions = {}) {
    this.state = state;
    this.settings = settings;
    this.opts = opts;
    this.scrubber = new Scrubber(settings);
    this.pace = new Pace(
      { rate: settings.rate, retries: settings.retries, maxWaitMs: opts.maxWaitMs, maxWaits: opts.maxWaits },
      this.stops,
    );
    this.tally = new Tally(settings.concurrency);
    this.signatures = new SignatureCache(state, settings, this.scrubber);
  }

  private readonly note = (line: string): void => {
    line = this.scrubber.clean(line);
    this.notes.push(line);
    this.opts.onNote?.(line);
  };

  /**
   * Stops taking records; those in flight finish and are recorded, or, with
   * `abortInFlight` (Ctrl-C), are ended now and stay pending, so --resume
   * fetches them again. Either way the state stays resumable. The first
   * reason given is the one the result carries.
   */
  stop(reason: ScanStop = { kind: 'interrupted' }, abortInFlight = false): void {
    if (abortInFlight) {
      this.aborting = true;
      this.client?.abortAll();
    }
    this.stops.stop(reason);
  }

  progress(): ScanProgress {
    return this.tally.progress(this.feed.done, this.pace.pausedFor());
  }

  async run(): Promise<ScanRunResult> {
    const t0 = performance.now();
    const s = this.settings;
    // The template's origin, when the id cannot change it (it sits in the path or query).
    const a = new URL(recordUrl(s.template, 'a')).origin;
    const origin = a === new URL(recordUrl(s.template, 'b')).origin ? a : undefined;
    const client = createClient({
      url: recordUrl(s.template, 'x'),
      origin,
      concurrency: s.concurrency,
      timeoutMs: s.timeoutMs,
      maxBody: s.maxBody,
      insecure: s.insecure,
      env: this.opts.env,
      // No request leaves before the outcomes already known are on disk, nor before
      // the record it fetches is noted as sent (so a crash knows which records were
      // in flight): one write with the turn's outcomes.
      beforeSend: (req) => {
        if (req.seq !== undefined) this.state.sending(req.seq);
        this.state.flushLog();
      },
    });
    this.client = this.pace.client = client;
    if (this.aborting) client.abortAll();
    // Loaded now, not at the first denial: importing every rule takes a few hundred
    // milliseconds, which mid-scan would hold up every worker.
    await loadRules();
    const { count: requeued, sent } = this.state.requeueInFlight();
    if (requeued)
      this.note(
        sent
          ? `${requeued} record${requeued === 1 ? ' was' : 's were'} in flight when the scan stopped (sent, no answer recorded); requested again`
          : // A state file from an earlier version knows the records taken, not those sent.
            `${requeued} record${requeued === 1 ? ' was' : 's were'} taken but not finished when the scan stopped ` +
              `(at most ${s.concurrency} of them in flight); requested again`,
      );
    this.tally.start(this.state.counts());
    this.feed.done = this.state.meta('source.done') === '1';
    if (client.proxy) this.note(`requests go through the proxy ${client.proxy} (HTTP(S)_PROXY)`);

    const parts = {
      state: this.state,
      settings: s,
      pace: this.pace,
      stops: this.stops,
      scrubber: this.scrubber,
      tally: this.tally,
      feed: this.feed,
      note: this.note,
    };
    let sourceError: unknown;
    let sourceTask: Promise<void> = Promise.resolve();
    if (!this.feed.done) {
      sourceTask = fillFromSource({ ...parts, stdin: this.opts.stdin }).then(
        () => {
          // Also when stopped half-way: the workers must end; the state file keeps the source's position.
          this.feed.done = true;
          this.feed.signal();
        },
        (e: unknown) => {
          this.feed.done = true;
          // Stopped: the page in flight is read again on --resume (its URL is the stored position).
          if (e instanceof Stopped) return this.feed.signal();
          sourceError = e;
          this.stop({ kind: 'source-failed' });
        },
      );
    }
    // Logged outcomes reach the database in batches; readers of the state file see them within a second.
    const apply = setInterval(() => this.state.applyLog(), 1000);
    try {
      await Promise.all([sourceTask, ...new Lanes({ ...parts, signatures: this.signatures }).run()]);
    } finally {
      clearInterval(apply);
      this.state.applyLog();
      // Let in-flight diagnoses land before the state closes.
      await this.signatures.settle();
      await client.close(this.aborting);
    }
    // Every worker has ended, so nothing is in flight: taken records that were never sent are pending again.
    this.state.releaseTaken();
    if (sourceError) throw sourceError;
    this.pace.requests.records += await rediagnose({
      state: this.state,
      request: s,
      cache: this.signatures,
      scrubber: this.scrubber,
      client,
      stopped: () => this.stops.reason !== undefined,
    });
    const duplicates = Number(this.state.meta('source.duplicates') ?? '0');
    const stopped = this.stops.reason;
    return {
      ...(stopped ? { stopped } : {}),
      requeued,
      duplicates,
      requests: { ...this.pace.requests },
      notes: this.notes,
      elapsedMs: performance.now() - t0,
      fetchMs: this.tally.firstSent ? this.tally.lastDone - this.tally.firstSent : 0,
    };
  }
}
