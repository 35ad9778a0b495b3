// A large file is cut into segments where entries start. Segments are
// handed out in file order from one shared counter to this thread and a
// worker, each taking the next one when it is free; this thread also runs the
// caller's work on every denial (the CLI diagnoses and prints it), so the
// worker ends up scanning more, in whatever proportion that work leaves.
// Results are put back in file order here. Each seam is a guess from the
// layout, confirmed by whoever scanned the segment before it
// (HarScanner.atNextEntry); a wrong guess costs a rescan, never a wrong result.
//
// This module is the worker side and its handle on this thread: the worker
// is started on this very module (import.meta.url), which runs workerMain when
// loaded as a worker with the job in workerData. scripts/build.ts bundles it
// into whichever chunk holds it; the worker loads that chunk.
import { open } from 'node:fs/promises';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { InputError } from '../../errors.ts';
import { HarScanner, resultOf, type DenialBytes, type ScanResult } from './scan.ts';

const WORKER_KEY = 'why403.harScan';
const WORKER_YOUNG_MB = 2;

/** A batch on the wire: the entries' bytes back to back, and seven numbers per entry. */
interface WireBatch {
  bytes: Uint8Array;
  /** index, offset, length, signs.present, signs.redacted, before.present, before.redacted */
  meta: number[];
}
const WIRE_FIELDS = 7;

function toWire(items: DenialBytes[]): WireBatch {
  let size = 0;
  for (const d of items) size += d.bytes.length;
  const bytes = new Uint8Array(size);
  const meta: number[] = [];
  let at = 0;
  for (const d of items) {
    bytes.set(d.bytes, at);
    at += d.bytes.length;
    meta.push(
      d.index,
      d.offset,
      d.bytes.length,
      d.signs.present,
      d.signs.redacted,
      d.before.present,
      d.before.redacted,
    );
  }
  return { bytes, meta };
}

export function fromWire(w: WireBatch): DenialBytes[] {
  const all = Buffer.from(w.bytes.buffer, w.bytes.byteOffset, w.bytes.byteLength);
  const items: DenialBytes[] = [];
  let at = 0;
  for (let k = 0; k < w.meta.length; k += WIRE_FIELDS) {
    const [index, offset, length, present, redacted, beforePresent, beforeRedacted] = w.meta.slice(k, k + WIRE_FIELDS);
    items.push({
      bytes: all.subarray(at, at + length),
      index,
      offset,
      signs: { present, redacted },
      before: { present: beforePresent, redacted: beforeRedacted },
    });
    at += length;
  }
  return items;
}

export type WorkerFailure =
  | { kind: 'input'; detail: string }
  | { kind: 'fs'; code: string; message: string }
  | { kind: 'other'; message: string };

/** What became of one segment, whichever thread scanned it. Indexes and signs count from the segment's start. */
export type SegmentNews = (
  | { t: 'batch'; k: number; batch: WireBatch; creator?: string }
  | { t: 'segment'; k: number; result: ScanResult; seamOk: boolean }
  | { t: 'error'; k: number; failure: WorkerFailure }
) & {
  /** Scanned on this thread (the worker need not hear that it was taken). */
  here?: boolean;
};

export interface WorkerJob {
  path: string;
  name: string;
  hwm: number;
  seams: number[];
  /** Int32 [0]: the next segment to take. */
  counter: SharedArrayBuffer;
}

/** Denial bytes the worker may have sent and the reader not yet taken; past this it waits before its next segment. */
const WORKER_AHEAD_BYTES = 4 << 20;

function failureOf(err: unknown): WorkerFailure {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (err instanceof InputError) return { kind: 'input', detail: err.detail };
  if (typeof code === 'string') return { kind: 'fs', code, message: (err as Error).message };
  return { kind: 'other', message: String((err as Error)?.stack ?? err) };
}

/** Scans segment k (seams[k] to seams[k + 1]); the last one also checks the end of the file. */
export async function scanSegment(
  path: string,
  name: string,
  hwm: number,
  seams: number[],
  k: number,
  emit: (n: SegmentNews) => void,
): Promise<void> {
  const last = seams.length - 2;
  const scanner = k === 0 ? new HarScanner(name) : HarScanner.atEntry(name, seams[k]);
  try {
    // log.creator comes before the entries, so segment 0's first batch can already say who wrote the file.
    for await (const items of scanRange(scanner, path, hwm, seams[k], seams[k + 1]))
      emit({ t: 'batch', k, batch: toWire(items), creator: scanner.creator });
    if (k === last) {
      scanner.finish();
      const items = scanner.take();
      if (items.length) emit({ t: 'batch', k, batch: toWire(items) });
    }
    emit({ t: 'segment', k, result: resultOf(scanner), seamOk: k === last || scanner.atNextEntry });
  } catch (err) {
    // Only the reader knows whether this segment's start was right; after a wrong seam an error means nothing.
    emit({ t: 'error', k, failure: failureOf(err) });
  }
}

async function workerMain(job: WorkerJob): Promise<void> {
  const port = parentPort!;
  const counter = new Int32Array(job.counter);
  const segments = job.seams.length - 1;
  let outstanding = 0;
  let waiting: (() => void) | undefined;
  port.on('message', (consumed: number) => {
    outstanding -= consumed;
    waiting?.();
  });
  const emit = (n: SegmentNews) => {
    if (n.t === 'batch') {
      outstanding += n.batch.bytes.byteLength;
      port.postMessage(n, [n.batch.bytes.buffer as ArrayBuffer]);
    } else port.postMessage(n);
  };
  for (;;) {
    // Waits only between segments: the reader may need the current one finished before it takes anything.
    while (outstanding > WORKER_AHEAD_BYTES) await new Promise<void>((r) => (waiting = r));
    const k = Atomics.add(counter, 0, 1);
    if (k >= segments) break;
    await scanSegment(job.path, job.name, job.hwm, job.seams, k, emit);
  }
  port.close();
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[WORKER_KEY])
  void workerMain((workerData as Record<string, WorkerJob>)[WORKER_KEY]);

/** The worker side, seen from this thread: news sorted by segment. */
export class SegmentWorker {
  private readonly worker: Worker;
  private readonly news = new Map<number, SegmentNews[]>();
  private wake: (() => void) | undefined;
  private gone: Error | undefined;

  constructor(job: WorkerJob) {
    this.worker = new Worker(new URL(import.meta.url), {
      workerData: { [WORKER_KEY]: job },
      // The scan keeps little alive: a small young generation keeps its garbage, and the process's RSS, small.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    // Only a reader waiting for it keeps the process alive.
    this.worker.unref();
    this.worker.on('message', (m: SegmentNews) => this.put(m));
    this.worker.on('error', (err) => {
      this.gone ??= err instanceof Error ? err : new Error(String(err));
      this.wake?.();
    });
    this.worker.on('exit', () => {
      this.gone ??= new Error('the worker reading the HAR stopped before the end of its part');
      this.wake?.();
    });
  }

  put(m: SegmentNews): void {
    const list = this.news.get(m.k) ?? [];
    list.push(m);
    this.news.set(m.k, list);
    this.wake?.();
  }

  /** The next news about segment k, if any has come. */
  take(k: number): SegmentNews | undefined {
    return this.news.get(k)?.shift();
  }

  /** Waits for news about any segment. */
  async wait(): Promise<void> {
    if (this.gone) throw this.gone;
    this.worker.ref();
    await new Promise<void>((r) => (this.wake = r));
    this.wake = undefined;
    this.worker.unref();
  }

  ack(bytes: number): void {
    this.worker.postMessage(bytes);
  }

  cancel(): void {
    void this.worker.terminate();
  }
}

/**
 * A file's bytes from `start` (to `end`, exclusive) in two buffers used in
 * turn: the next read runs while the caller scans the current one, and no
 * garbage is made per chunk. A yielded buffer is overwritten two steps later.
 */
async function* fileChunks(path: string, hwm: number, start: number, end = Infinity): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  const buffers = [spareBuffer(hwm), spareBuffer(hwm)];
  try {
    let position = start;
    const readInto = (b: Buffer) => {
      const want = Math.min(b.length, end - position);
      if (want <= 0) return Promise.resolve(0);
      const p = fh.read(b, 0, want, position).then((r) => r.bytesRead);
      position += want;
      return p;
    };
    let turn = 0;
    let pending = readInto(buffers[0]);
    for (;;) {
      const n = await pending;
      if (n === 0) return;
      const current = buffers[turn];
      turn ^= 1;
      pending = readInto(buffers[turn]);
      yield n === current.length ? current : current.subarray(0, n);
    }
  } finally {
    spare.push(...buffers);
    await fh.close();
  }
}

/** Read buffers kept between segments (per thread): a file read in segments makes no garbage either. */
const spare: Buffer[] = [];

function spareBuffer(size: number): Buffer {
  for (let i = 0; i < spare.length; i++) if (spare[i].length === size) return spare.splice(i, 1)[0];
  return Buffer.allocUnsafe(size);
}

export async function* scanRange(
  scanner: HarScanner,
  path: string,
  hwm: number,
  start: number,
  end?: number,
): AsyncGenerator<DenialBytes[]> {
  scanner.volatileChunks = true;
  for await (const chunk of fileChunks(path, hwm, start, end)) {
    scanner.scan(chunk);
    const items = scanner.take();
    if (items.length) yield items;
  }
}
