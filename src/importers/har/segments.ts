// Where a large file is cut for two threads (findSeams), and the scan that
// shares its segments with the worker (worker.ts) and puts the results back
// in file order (scanFile).
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { InputError } from '../../errors.ts';
import { HarScanner, resultOf, type Batch, type CredentialSigns, type DenialBytes, type ScanResult } from './scan.ts';
import { readError, type HarInput, type ReadHarOptions } from './types.ts';
import { fromWire, scanRange, scanSegment, SegmentWorker, type WorkerFailure } from './worker.ts';

/** Files smaller than this are scanned on the calling thread: a worker costs more to start than it saves. */
const WORKER_MIN_BYTES = 32 << 20;
/** Segments are about this large (and at most MAX_SEGMENTS). */
const SEGMENT_BYTES = 16 << 20;
export const MAX_SEGMENTS = 64;
/** How far into the file to look for log.entries[0], and past each cut for an entry to start at. */
const SEAM_PROBE_BYTES = 1 << 20;

export function workerSize(input: HarInput, opts: ReadHarOptions): number {
  if (typeof input !== 'string' || input === '-' || opts.worker === false) return -1;
  try {
    const st = statSync(input);
    if (!st.isFile()) return -1;
    return opts.worker === true || st.size >= WORKER_MIN_BYTES ? st.size : -1;
  } catch {
    return -1; // the in-thread reader reports the error in the usual words
  }
}

/**
 * Offsets where segments start: 0, then the "{" of entries near evenly
 * spaced cuts, then the file size. An entry start is found by the layout: in
 * a pretty-printed HAR the entries are siblings at one indentation,
 * "},\n<indent>{", and a raw newline is never inside a JSON string. Only
 * [0, size] when the layout is not like that.
 */
export function findSeams(
  path: string,
  size: number,
  name: string,
  segments = Math.min(MAX_SEGMENTS, Math.floor(size / SEGMENT_BYTES)),
): number[] {
  const none = [0, size];
  if (segments < 2) return none;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, SEAM_PROBE_BYTES));
    readSync(fd, head, 0, head.length, 0);
    const probe = new HarScanner(name);
    try {
      probe.scan(head);
    } catch {
      return none;
    }
    const first = probe.firstEntryAt;
    if (first < 0) return none;
    let k = first;
    while (k > 0 && (head[k - 1] === 0x20 || head[k - 1] === 0x09)) k--;
    if (k === 0 || head[k - 1] !== 0x0a) return none;
    const newline = k >= 2 && head[k - 2] === 0x0d ? '\r\n' : '\n';
    const indent = head.subarray(k, first);
    const seam = Buffer.concat([Buffer.from(newline), indent, Buffer.from(`},${newline}`), indent, Buffer.from('{')]);
    const seams = [0];
    const window = Buffer.alloc(Math.min(SEAM_PROBE_BYTES, Math.ceil(size / segments)));
    for (let s = 1; s < segments; s++) {
      const cut = Math.max(first + 1, Math.floor((size * s) / segments), seams[seams.length - 1] + 1);
      const n = readSync(fd, window, 0, Math.min(window.length, size - cut), cut);
      const at = window.subarray(0, n).indexOf(seam);
      if (at >= 0) seams.push(cut + at + seam.length - 1);
    }
    seams.push(size);
    return seams;
  } finally {
    closeSync(fd);
  }
}

function addSigns(a: CredentialSigns, b: CredentialSigns): CredentialSigns {
  return { present: a.present + b.present, redacted: a.redacted + b.redacted };
}

function merged(a: ScanResult, b: ScanResult): ScanResult {
  const byStatus = { ...a.byStatus };
  for (const [k, v] of Object.entries(b.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + v;
  return {
    total: a.total + b.total,
    denied: a.denied + b.denied,
    byStatus,
    signs: addSigns(a.signs, b.signs),
    creator: a.creator ?? b.creator,
  };
}

/** Denials of a scan that started mid-file, counted as the whole file counts them. */
function rebased(items: DenialBytes[], before: ScanResult): DenialBytes[] {
  for (const d of items) {
    d.index += before.total;
    d.before = addSigns(d.before, before.signs);
  }
  return items;
}

/** Scans a file cut at `seams` (from findSeams), sharing the segments with a worker. */
export async function* scanFile(
  path: string,
  name: string,
  hwm: number,
  seams: number[],
): AsyncGenerator<Batch, ScanResult> {
  const segments = seams.length - 1;
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const worker = new SegmentWorker({ path, name, hwm, seams, counter: counter.buffer as SharedArrayBuffer });
  const labels = (detail: string, before: ScanResult) =>
    detail.replace(/log\.entries\[\+(\d+)\]/g, (_, n: string) => `log.entries[${Number(n) + before.total}]`);
  const failed = (f: WorkerFailure, before: ScanResult): Error => {
    if (f.kind === 'input') return new InputError(name, labels(f.detail, before));
    if (f.kind === 'fs') return readError(name, Object.assign(new Error(f.message), { code: f.code }));
    return new Error(f.message);
  };
  let creator: string | undefined;
  /** The rest of the file read here, from segment j's confirmed start, skipping the denials it already gave. */
  async function* restHere(j: number, before: ScanResult, lastGiven: number): AsyncGenerator<Batch, ScanResult> {
    worker.cancel();
    const again = j === 0 ? new HarScanner(name) : HarScanner.atEntry(name, seams[j]);
    try {
      for await (const items of scanRange(again, path, hwm, seams[j])) {
        const fresh = items.filter((d) => d.index > lastGiven);
        if (fresh.length) yield { items: rebased(fresh, before), creator: creator ?? again.creator };
      }
      again.finish();
    } catch (err) {
      if (err instanceof InputError) throw new InputError(name, labels(err.detail, before));
      throw err;
    }
    const fresh = again.take().filter((d) => d.index > lastGiven);
    if (fresh.length) yield { items: rebased(fresh, before), creator: creator ?? again.creator };
    return merged(before, { ...resultOf(again), creator: creator ?? again.creator });
  }
  try {
    let acc: ScanResult = { total: 0, denied: 0, byStatus: {}, signs: { present: 0, redacted: 0 }, creator: undefined };
    let seamOk = true; // whether segment j starts where an entry starts, as the end of segment j - 1 says
    let previous = acc;
    let previousLast = -1;
    for (let j = 0; j < segments; j++) {
      // Segment j - 1 did not end between two entries: j's start, and all after it, are wrong.
      if (!seamOk) return yield* restHere(j - 1, previous, previousLast);
      const before = acc;
      let lastGiven = -1; // the last denial of segment j already yielded, counted from seams[j]
      for (;;) {
        const m = worker.take(j);
        if (!m) {
          // Nothing to hand on yet: take the next segment here if any is left, else wait for the worker.
          const k = Atomics.add(counter, 0, 1);
          if (k < segments) await scanSegment(path, name, hwm, seams, k, (n) => worker.put({ ...n, here: true }));
          else await worker.wait();
          continue;
        }
        if (m.t === 'batch') {
          if (!m.here) worker.ack(m.batch.bytes.byteLength);
          if (j === 0) creator = m.creator;
          const items = fromWire(m.batch);
          lastGiven = items[items.length - 1].index;
          yield { items: rebased(items, before), creator };
          continue;
        }
        if (m.t === 'error') throw failed(m.failure, before);
        if (j === 0) creator = m.result.creator;
        acc = merged(before, { ...m.result, creator });
        seamOk = m.seamOk;
        break;
      }
      previous = before;
      previousLast = lastGiven;
    }
    return acc;
  } finally {
    worker.cancel();
  }
}
