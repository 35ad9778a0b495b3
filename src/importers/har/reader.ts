// readHar: a HAR's denied entries as exchanges, one at a time, then its
// summary. The input is read as a byte stream by the scanner (scan.ts), on
// this thread or, for a large file, shared with a worker (segments.ts); only
// denied entries are parsed (entry.ts). The consumer sets the pace: reading
// pauses when QUEUE_AHEAD exchanges wait to be taken.
import { createReadStream } from 'node:fs';
import type { Exchange } from '../../model/exchange.ts';
import { parseDenial } from './entry.ts';
import { sanitizedVerdict } from './sanitized.ts';
import { HarScanner, resultOf, type Batch, type ScanResult } from './scan.ts';
import { findSeams, MAX_SEGMENTS, scanFile, workerSize } from './segments.ts';
import { readError, type HarInput, type HarReading, type HarSummary, type ReadHarOptions } from './types.ts';

const DEFAULT_HIGH_WATER_MARK = 256 << 10;
/** Exchanges parsed ahead of the consumer before reading pauses. */
const QUEUE_AHEAD = 32;

async function* chunksOf(input: HarInput, hwm: number): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(input)) {
    for (let i = 0; i < input.length; i += hwm) yield input.subarray(i, i + hwm);
    return;
  }
  const stream =
    typeof input === 'string'
      ? input === '-'
        ? process.stdin
        : createReadStream(input, { highWaterMark: hwm })
      : input;
  for await (const chunk of stream as AsyncIterable<Buffer | string>)
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

async function* scanHere(input: HarInput, name: string, hwm: number): AsyncGenerator<Batch, ScanResult> {
  const scanner = new HarScanner(name);
  for await (const chunk of chunksOf(input, hwm)) {
    scanner.scan(chunk);
    const items = scanner.take();
    if (items.length) yield { items, creator: scanner.creator };
  }
  scanner.finish();
  const items = scanner.take();
  if (items.length) yield { items, creator: scanner.creator };
  return resultOf(scanner);
}

/** A promise that notices being awaited, so awaiting the summary can start the reader. */
class ObservedPromise<T> extends Promise<T> {
  static override get [Symbol.species]() {
    return Promise;
  }
  onObserved: (() => void) | undefined;
  override then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.onObserved?.();
    return super.then(onfulfilled, onrejected);
  }
}

export function readHar(input: HarInput, opts: ReadHarOptions): HarReading {
  const name = opts.name;
  const hwm = Math.max(1, opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
  const queue: Exchange[] = [];
  let started = false;
  let finished = false;
  let stopped = false;
  let unbounded = false;
  let failure: Error | undefined;
  let failureDelivered = false;
  const sizes = { shrunk: false, intact: false };
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  let resolveSummary!: (s: HarSummary) => void;
  let rejectSummary!: (e: unknown) => void;
  const counted: ScanResult = {
    total: 0,
    denied: 0,
    byStatus: {},
    signs: { present: 0, redacted: 0 },
    creator: undefined,
  };

  const summary = new ObservedPromise<HarSummary>((resolve, reject) => {
    resolveSummary = resolve;
    rejectSummary = reject;
  });
  // The error also reaches the consumer of `exchanges`; an unobserved summary must not crash the process.
  Promise.prototype.then.call(summary, undefined, () => {});
  summary.onObserved = () => {
    summary.onObserved = undefined;
    unbounded = true;
    wake('producer');
    start();
  };

  function wake(who: 'producer' | 'consumer'): void {
    const f = who === 'producer' ? wakeProducer : wakeConsumer;
    if (who === 'producer') wakeProducer = undefined;
    else wakeConsumer = undefined;
    f?.();
  }

  async function produce(): Promise<void> {
    try {
      const size = workerSize(input, opts);
      const seams =
        size >= 0 ? findSeams(input as string, size, name, opts.worker === true ? MAX_SEGMENTS : undefined) : [];
      const source = seams.length > 2 ? scanFile(input as string, name, hwm, seams) : scanHere(input, name, hwm);
      for (;;) {
        const step = await source.next();
        if (step.done) {
          resolveSummary(makeSummary(step.value, false, sizes));
          break;
        }
        for (const d of step.value.items) {
          const { exchange, headers } = parseDenial(d, name, step.value.creator);
          if (headers === 'shrunk') sizes.shrunk = true;
          else if (headers === 'intact') sizes.intact = true;
          queue.push(exchange);
          counted.denied++;
          counted.total = d.index + 1;
        }
        counted.creator = step.value.creator;
        wake('consumer');
        while (!unbounded && !stopped && queue.length >= QUEUE_AHEAD)
          await new Promise<void>((r) => (wakeProducer = r));
        if (stopped) {
          await source.return(counted);
          resolveSummary(makeSummary(counted, true, sizes));
          break;
        }
      }
    } catch (err) {
      failure = readError(name, err);
      rejectSummary(failure);
    } finally {
      finished = true;
      wake('consumer');
    }
  }

  function start(): void {
    if (started) return;
    started = true;
    void produce();
  }

  const iterator: AsyncIterator<Exchange> & AsyncIterable<Exchange> = {
    async next(): Promise<IteratorResult<Exchange>> {
      start();
      for (;;) {
        if (queue.length) {
          const value = queue.shift()!;
          wake('producer');
          return { value, done: false };
        }
        if (finished) {
          if (failure && !failureDelivered) {
            failureDelivered = true;
            throw failure;
          }
          return { value: undefined, done: true };
        }
        await new Promise<void>((r) => (wakeConsumer = r));
      }
    },
    async return(): Promise<IteratorResult<Exchange>> {
      // Stopping early ends the read, unless someone is waiting for the summary.
      if (!unbounded) stopped = true;
      if (!started) {
        started = true;
        finished = true;
        resolveSummary(makeSummary(counted, true, sizes));
      }
      queue.length = 0;
      wake('producer');
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  return { exchanges: iterator, requests: [], summary };
}

function makeSummary(r: ScanResult, stopped: boolean, sizes: { shrunk: boolean; intact: boolean }): HarSummary {
  const notes: string[] = [];
  const verdict = sanitizedVerdict(r.signs, r.creator, sizes, r.total);
  if (verdict) notes.push(verdict);
  if (stopped)
    notes.push(
      `Reading stopped early, after the first ${r.denied} denied entries: the counts cover only the entries read up to there.`,
    );
  else if (r.total === 0) notes.push('log.entries is empty: the HAR holds no requests.');
  else if (r.denied === 0) notes.push(`None of the ${r.total} entries was answered 401, 403 or 407.`);
  return { total: r.total, denied: r.denied, byStatus: { ...r.byStatus }, sanitized: verdict !== undefined, notes };
}
