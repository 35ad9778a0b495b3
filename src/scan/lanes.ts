// The scan's workers, one per --concurrency lane: each takes a pending
// record, fetches it, and writes its outcome before taking the next. The
// source fills the state file meanwhile (the feed says when it added records
// and when it is done).
import { performance } from 'node:perf_hooks';
import { isDenial } from '../engine/status.ts';
import { recordUrlBuilder, UnsafeIdError, type ScanSettings } from './config.ts';
import { failed } from './fetch.ts';
import type { Attempted, Pace } from './pace.ts';
import type { SignatureCache } from './post-pass.ts';
import type { Scrubber } from './secrets.ts';
import type { PendingRecord, RecordOutcome, ScanState } from './state.ts';
import { Stopped, type StopSwitch } from './stop.ts';
import type { Tally } from './tally.ts';

/** Bodies worth reading: a denial's (for its diagnosis) and a 429's or 503's (they may say how long to wait). */
const keepRecordBody = (s: number) => isDenial(s) || s === 429 || s === 503;

/** Records taken from the state file at once. */
const BATCH = 256;

/** Between the source and the workers: records were added, or the source is done. */
export class Feed {
  done = false;
  /** Settles the next time the source adds records, ends, or the scan stops. */
  progress: Promise<void>;
  private wake?: () => void;

  constructor() {
    this.progress = this.newWait();
  }

  private newWait(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  signal(): void {
    const wake = this.wake;
    this.progress = this.newWait();
    wake?.();
  }
}

export interface LaneContext {
  state: ScanState;
  settings: ScanSettings;
  pace: Pace;
  stops: StopSwitch;
  signatures: SignatureCache;
  tally: Tally;
  feed: Feed;
  scrubber: Scrubber;
  note: (line: string) => void;
}

export class Lanes {
  private readonly c: LaneContext;
  private readonly urlFor: (id: string) => string;
  private buffer: { seqs: number[]; ids: string[] } = { seqs: [], ids: [] };
  private bufferAt = 0;
  private cursor = 0;
  private unsafeIdSeen = false;

  constructor(c: LaneContext) {
    this.c = c;
    this.urlFor = recordUrlBuilder(c.settings.template);
  }

  /** Every lane's worker; settles when the source is exhausted or the scan stops. */
  run(): Promise<void>[] {
    return Array.from({ length: this.c.settings.concurrency }, (_, lane) => this.worker(lane));
  }

  private take(): PendingRecord | undefined {
    if (this.bufferAt >= this.buffer.seqs.length) {
      this.buffer = this.c.state.pending(this.cursor, BATCH);
      this.bufferAt = 0;
      if (!this.buffer.seqs.length) return undefined;
      this.cursor = this.buffer.seqs[this.buffer.seqs.length - 1];
    }
    const i = this.bufferAt++;
    return { seq: this.buffer.seqs[i], id: this.buffer.ids[i] };
  }

  /**
   * One worker: takes a record, fetches it, logs its outcome, takes the
   * next. The outcome reaches the outcome log before the next request
   * leaves (the client's beforeSend hook, see `Scan.run`), so a worker has
   * at most one record that a crash would make fetch again. Callbacks, not
   * async/await: at thousands of records a second the promises of an async
   * loop were a measurable share of the scan's CPU time. Settles when the
   * source is exhausted or the scan stops; rejects if the state file cannot
   * be written.
   */
  private worker(lane: number): Promise<void> {
    const { state, stops, tally, feed } = this.c;
    return new Promise<void>((resolve, reject) => {
      const fail = (e: unknown) => (e instanceof Stopped ? resolve() : reject(e));
      const next = (): void => {
        try {
          if (state.writeError) return reject(state.writeError);
          if (stops.reason) return resolve();
          const rec = this.take();
          if (!rec) {
            if (feed.done) return resolve();
            feed.progress.then(next, fail);
            return;
          }
          if (!tally.firstSent) tally.firstSent = performance.now();
          this.fetchRecord(
            rec,
            lane,
            (outcome) => {
              state.record(rec.seq, outcome);
              const stop = tally.count(outcome);
              if (stop) stops.stop(stop);
              next();
            },
            fail,
          );
        } catch (e) {
          fail(e);
        }
      };
      next();
    });
  }

  /**
   * One record, the common case without a promise: no pause or --rate, an
   * answer that is not 429/503, and, for a denial, a body seen before.
   * Anything else continues on the general path (`processRecord`).
   */
  private fetchRecord(
    rec: PendingRecord,
    lane: number,
    done: (out: RecordOutcome) => void,
    fail: (e: unknown) => void,
  ): void {
    const { pace, settings, signatures } = this.c;
    let url: string;
    try {
      url = this.urlFor(rec.id);
    } catch (e) {
      if (!(e instanceof UnsafeIdError)) return fail(e);
      return done(this.unsafeId(rec, e));
    }
    if (!pace.open()) {
      this.processRecord(rec, url, lane).then(done, fail);
      return;
    }
    // The seq lets the state file note the record as sent (see ScanState.sending) just before it leaves.
    const req = { method: settings.method, url, headers: settings.headers, seq: rec.seq };
    // Noted now, it goes to the outcome log in this turn's one write, with the outcome just recorded.
    this.c.state.sending(rec.seq);
    pace.requests.records++;
    pace.client!.dispatch(
      req,
      keepRecordBody,
      (first) => {
        if (failed(first) || first.status === 429 || first.status === 503) {
          if (failed(first) && first.stopped) return fail(new Stopped());
          pace
            .send(req, keepRecordBody, 'records', first, lane)
            .then((r) => this.finishRecord(rec, url, r))
            .then(done, fail);
          return;
        }
        const out: RecordOutcome = { status: first.status, ms: first.ms, attempts: 1 };
        if (isDenial(first.status)) {
          const known = signatures.known(first);
          if (known === undefined) {
            signatures.of(first, url, rec.id).then((sig) => {
              out.signature = sig;
              done(out);
            }, fail);
            return;
          }
          out.signature = known;
        }
        done(out);
      },
      lane,
    );
  }

  /** An id that would leave its place in the URL: not requested, recorded as an error, said once. */
  private unsafeId(rec: PendingRecord, e: UnsafeIdError): RecordOutcome {
    if (!this.unsafeIdSeen) {
      this.unsafeIdSeen = true;
      const why = e.message.replace(/^not requested: /, '');
      this.c.note(
        `the id ${JSON.stringify(rec.id)} cannot be put in the URL safely (${why}); ` +
          'such records are not requested and are listed among the errors',
      );
    }
    return { status: null, ms: 0, attempts: 0, error: e.message };
  }

  private async processRecord(rec: PendingRecord, url: string, lane: number): Promise<RecordOutcome> {
    const { method, headers } = this.c.settings;
    return this.finishRecord(
      rec,
      url,
      await this.c.pace.send({ method, url, headers, seq: rec.seq }, keepRecordBody, 'records', undefined, lane),
    );
  }

  private async finishRecord(rec: PendingRecord, url: string, r: Attempted): Promise<RecordOutcome> {
    if ('error' in r) return { status: null, ms: r.ms, attempts: r.attempts, error: this.c.scrubber.clean(r.error) };
    const out: RecordOutcome = { status: r.result.status, ms: r.result.ms, attempts: r.attempts };
    if (r.result.status === 429) out.error = `rate-limited: still 429 after ${this.c.pace.maxWaits} waits`;
    if (isDenial(r.result.status)) out.signature = await this.c.signatures.of(r.result, url, rec.id);
    return out;
  }
}
