// The scan itself: a source that fills the state file with records, and
// --concurrency workers that each take a pending record, fetch it, and
// commit its outcome before taking the next. Requests obey one gate: the
// --rate pacing and any pause a 429's Retry-After asked for.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NameValue } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import type { Report } from '../model/report.ts';
import { isDenial } from '../engine/status.ts';
import { diagnose } from '../diagnose.ts';
import { loadRules } from '../rules/registry.ts';
import { InputError, NetworkError, Why403Error } from '../errors.ts';
import { DEFAULT_MAX_PAGE, recordUrl, recordUrlBuilder, UnsafeIdError, type ListSource, type ScanSettings } from './config.ts';
import { createClient, failed, type Fetched, type FetchFailure, type HttpClient, type ScanRequest } from './fetch.ts';
import { readIds } from './ids.ts';
import { describeStyle, PageError, readPage, type PaginationStyle } from './pagination.ts';
import { diagnoseDenial, shapeKey } from './signature.ts';
import type { PendingRecord, RecordOutcome, ScanState } from './state.ts';
import { recordLevelEvidence } from './record-level.ts';
import { summarize } from './summary.ts';
import { createHash } from 'node:crypto';
import type { Exchange } from '../model/exchange.ts';
import { redactUrl, scrub, secretsOf } from '../engine/scrub.ts';

/** The list endpoint itself refused: nothing can be scanned; the report says why. */
export class ListDeniedError extends Why403Error {
  readonly report: Report;
  constructor(report: Report) {
    super(`the list ${report.request.url} was answered ${report.status}: the identity cannot list the records`, 'W403_LIST_DENIED', 1);
    this.report = report;
  }
}

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

export interface ScanRunResult {
  /** Why the scan stopped before the end (Ctrl-C, a long Retry-After), if it did. */
  stopped?: string;
  /** Records a crash had left in flight, requested again by this run. */
  requeued: number;
  /** Ids the source gave more than once (scanned once). */
  duplicates: number;
  requests: { records: number; listPages: number; retries: number; rateLimitWaits: number };
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

const MAX_BACKOFF_MS = 30_000;

/** Pages in a row that bring no record not seen before: the list repeats itself (a new cursor, the same records); the walk stops. */
export const STALE_PAGES = 3;

/**
 * Every secret the scan's requests carry (what the redactor counts as one:
 * credential headers, cookies, secret query parameters), and the password
 * of a URL's user-info: none of them may reach the state file, the outcome
 * log or an --out file, however a server echoes it.
 */
export function scanSecrets(s: Pick<ScanSettings, 'method' | 'template' | 'headers' | 'source'>): string[] {
  const all = new Set<string>();
  for (const url of [recordUrl(s.template, 'x'), ...(s.source.kind === 'list' ? [s.source.url] : [])]) {
    for (const x of secretsOf({ request: { method: s.method, url, headers: s.headers } } as Exchange)) all.add(x);
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password.length >= 6) all.add(password);
    } catch {
      /* not a URL, or a password that is not percent-encoding */
    }
  }
  return [...all].sort((a, b) => b.length - a.length);
}

const secretMark = (secret: string, encoded: boolean) => `{why403-secret${encoded ? '-encoded' : ''}:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}}`;

/**
 * A URL to store (the list's next page) with each secret replaced by a mark
 * that `unhideSecrets` turns back into it, on --resume, once the user has
 * given the secrets again.
 */
export function hideSecrets(url: string, secrets: string[]): string {
  for (const secret of secrets)
    for (const [form, encoded] of [
      [secret, false],
      [encodeURIComponent(secret), true],
    ] as const)
      if (url.includes(form)) url = url.split(form).join(secretMark(secret, encoded));
  return url;
}

export function unhideSecrets(url: string, secrets: string[]): string {
  if (!url.includes('{why403-secret')) return url;
  for (const secret of secrets) url = url.split(secretMark(secret, false)).join(secret).split(secretMark(secret, true)).join(encodeURIComponent(secret));
  return url;
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: NameValue[], now = Date.now()): number | undefined {
  const v = headerValue(headers, 'retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

const backoff = (attempt: number) => Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt) * (0.75 + Math.random() * 0.5);

class Stopped extends Error {}

/** Bodies worth reading: a denial's (for its diagnosis) and a 429's or 503's (they may say how long to wait). */
const keepRecordBody = (s: number) => isDenial(s) || s === 429 || s === 503;
const keepAll = () => true;

export class Scan {
  readonly state: ScanState;
  readonly settings: ScanSettings;
  private readonly opts: ScanRunOptions;
  private client?: HttpClient;
  private readonly abort = new AbortController();
  private stopReason?: string;
  /** Requests in flight were ended by `stop` (see there). */
  private aborting = false;
  private sourceDone = false;
  private sourceError?: unknown;
  private wake?: () => void;
  private sourceProgress = this.newWait();
  private buffer: { seqs: number[]; ids: string[] } = { seqs: [], ids: [] };
  private bufferAt = 0;
  private cursor = 0;
  private nextSlot = 0;
  private pausedUntil = 0;
  private readonly interval: number;
  private readonly signatures = new Map<string, Promise<string>>();
  private readonly rawSignatures = new Map<string, Promise<string>>();
  private readonly urlFor: (id: string) => string;
  /** The first denial of each signature, kept to diagnose again once the whole scan is known. */
  private readonly examples = new Map<string, { fetched: Fetched; url: string }>();
  private counts = { total: 0, done: 0, denied: 0, errors: 0 };
  private samples: [number, number][] = [];
  private listPages = 0;
  private failuresInARow = 0;
  private startedAt = performance.now();
  private firstSent = 0;
  private lastDone = 0;
  private doneAtStart = 0;
  private readonly requests = { records: 0, listPages: 0, retries: 0, rateLimitWaits: 0 };
  private readonly notes: string[] = [];
  /** See `scanSecrets`. */
  private readonly secrets: string[];
  /** The secrets and their URL-encoded forms, as looked for in record fields. */
  private readonly secretForms: string[];

  constructor(state: ScanState, settings: ScanSettings, opts: ScanRunOptions = {}) {
    this.state = state;
    this.settings = settings;
    this.opts = opts;
    this.interval = settings.rate ? 1000 / settings.rate : 0;
    this.urlFor = recordUrlBuilder(settings.template);
    this.secrets = scanSecrets(settings);
    this.secretForms = [...new Set(this.secrets.flatMap((x) => [x, encodeURIComponent(x)]))];
  }

  /** A string on its way to disk, without the request's secrets. */
  private clean(text: string): string {
    return this.secrets.length ? scrub(text, this.secrets) : text;
  }

  /** A denial's answer with the secrets it echoes scrubbed from its body: what its shape and diagnosis are made of. */
  private cleanAnswer(r: Fetched): Fetched {
    const text = r.body?.text;
    if (!text || !this.secrets.length) return r;
    const cleaned = this.clean(text);
    return cleaned === text ? r : { ...r, body: { ...r.body!, text: cleaned } };
  }

  /** Record fields from the source, scrubbed of any secret they hold (rare: the test is a substring search). */
  private cleanRows<T extends { fields?: string }>(rows: T[]): T[] {
    if (!this.secrets.length) return rows;
    const forms = this.secretForms;
    for (const r of rows) if (r.fields && forms.some((x) => r.fields!.includes(x))) r.fields = this.clean(r.fields);
    return rows;
  }

  private newWait(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  private signal(): void {
    const wake = this.wake;
    this.sourceProgress = this.newWait();
    wake?.();
  }

  private note(line: string): void {
    line = this.clean(line);
    this.notes.push(line);
    this.opts.onNote?.(line);
  }

  /**
   * Stops taking records; those in flight finish and are recorded, or, with
   * `abortInFlight` (Ctrl-C), are ended now and stay pending, so --resume
   * fetches them again. Either way the state stays resumable.
   */
  stop(reason = 'interrupted', abortInFlight = false): void {
    if (abortInFlight) {
      this.aborting = true;
      this.client?.abortAll();
    }
    if (this.stopReason) return;
    this.stopReason = reason;
    this.abort.abort();
    this.signal();
  }

  progress(): ScanProgress {
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
      totalKnown: this.sourceDone,
      rate,
      ...(this.sourceDone && rate > 0 ? { eta: left / rate } : {}),
      ...(this.pausedUntil > now ? { pausedFor: (this.pausedUntil - now) / 1000 } : {}),
      listPages: this.listPages,
    };
  }

  /** No --rate, no pause, not stopping: a request may go at once. */
  private open(): boolean {
    return !this.interval && !this.stopReason && this.pausedUntil <= performance.now();
  }

  private gate(): Promise<void> | undefined {
    // The common case costs no promise.
    return this.open() ? undefined : this.slowGate();
  }

  private async slowGate(): Promise<void> {
    for (;;) {
      if (this.stopReason) throw new Stopped();
      const now = performance.now();
      if (this.pausedUntil > now) {
        await sleep(this.pausedUntil - now, undefined, { signal: this.abort.signal }).catch(() => undefined);
        continue;
      }
      if (this.interval) {
        const slot = Math.max(now, this.nextSlot);
        this.nextSlot = slot + this.interval;
        if (slot > now) await sleep(slot - now, undefined, { signal: this.abort.signal }).catch(() => undefined);
        if (this.stopReason) throw new Stopped();
      }
      return;
    }
  }

  private pause(ms: number, why: string): void {
    const maxWait = this.opts.maxWaitMs ?? 15 * 60_000;
    if (ms > maxWait) {
      this.stop(`${why} asked to wait ${Math.round(ms / 1000)} s (Retry-After), longer than --max-wait; resume later`);
      return;
    }
    this.pausedUntil = Math.max(this.pausedUntil, performance.now() + ms);
  }

  /**
   * One request with the scan's retry policy: network errors and timeouts
   * are retried --retries times with backoff; a 429 (or 503 with
   * Retry-After) pauses every worker for as long as the server asked.
   */
  private async fetchWithRetries(
    req: ScanRequest,
    keepBody: (s: number) => boolean,
    count: 'records' | 'listPages',
    /** The answer to a first attempt already sent. */
    first?: Fetched | FetchFailure,
    /** The worker's connection (see createClient); none for the list. */
    lane?: number,
  ): Promise<{ result: Fetched; attempts: number } | { error: string; attempts: number; ms: number }> {
    let attempts = 0;
    let waits = 0;
    for (;;) {
      let r: Fetched | FetchFailure;
      if (first) {
        r = first;
        first = undefined;
        attempts++;
      } else {
        const wait = this.gate();
        if (wait) await wait;
        attempts++;
        this.requests[count]++;
        r = await this.client!.send(req, keepBody, lane);
      }
      if (failed(r)) {
        if (r.stopped) throw new Stopped();
        if (attempts <= this.settings.retries && !this.stopReason) {
          this.requests.retries++;
          await sleep(backoff(attempts), undefined, { signal: this.abort.signal }).catch(() => undefined);
          continue;
        }
        return { error: r.error.message, attempts, ms: r.ms };
      }
      const ra = retryAfterMs(r.headers);
      if (r.status === 429 || (r.status === 503 && ra !== undefined)) {
        waits++;
        this.requests.rateLimitWaits++;
        if (waits > (this.opts.maxWaits ?? 8)) return { result: r, attempts };
        this.pause(ra ?? backoff(waits + 2), new URL(req.url).host);
        continue;
      }
      return { result: r, attempts };
    }
  }

  private signatureFor(r: Fetched, url: string, id: string): Promise<string> {
    // Most denials repeat a body byte for byte: look that up before normalising it.
    const raw = this.rawKey(r);
    const known = this.rawSignatures.get(raw);
    if (known) return known;
    r = this.cleanAnswer(r);
    const { key, shape } = shapeKey(r, id);
    let sig = this.signatures.get(key);
    if (!sig) {
      sig = diagnoseDenial(r, { method: this.settings.method, url, headers: this.settings.headers }, shape, { extraSecrets: this.secrets }).then((row) => {
        this.state.saveSignature(row);
        if (this.examples.size < 100) this.examples.set(row.key, { fetched: r, url });
        return row.key;
      });
      this.signatures.set(key, sig);
    }
    if (this.rawSignatures.size < 256) {
      this.rawSignatures.set(raw, sig);
      sig.then((key) => this.knownRaw.set(raw, key), () => undefined);
    }
    return sig;
  }

  /** The signature of a denial whose exact body was seen and diagnosed before: known without waiting. */
  private readonly knownRaw = new Map<string, string>();

  private rawKey(r: Fetched): string {
    return `${r.status}\n${r.body?.text ?? ''}`;
  }

  /**
   * One record, the common case without a promise: no pause or --rate, an
   * answer that is not 429/503, and, for a denial, a body seen before.
   * Anything else continues on the general path (`processRecord`).
   */
  private fetchRecord(rec: PendingRecord, lane: number, done: (out: RecordOutcome) => void, fail: (e: unknown) => void): void {
    let url: string;
    try {
      url = this.urlFor(rec.id);
    } catch (e) {
      if (!(e instanceof UnsafeIdError)) return fail(e);
      return done(this.unsafeId(rec, e));
    }
    if (!this.open()) {
      this.processRecord(rec, url, lane).then(done, fail);
      return;
    }
    const req = { method: this.settings.method, url, headers: this.settings.headers };
    this.requests.records++;
    this.client!.dispatch(req, keepRecordBody, (first) => {
      if (failed(first) || first.status === 429 || first.status === 503) {
        if (failed(first) && first.stopped) return fail(new Stopped());
        this.fetchWithRetries(req, keepRecordBody, 'records', first, lane)
          .then((r) => this.finishRecord(rec, url, r))
          .then(done, fail);
        return;
      }
      const out: RecordOutcome = { status: first.status, ms: first.ms, attempts: 1 };
      if (isDenial(first.status)) {
        const known = this.knownRaw.get(this.rawKey(first));
        if (known === undefined) {
          this.signatureFor(first, url, rec.id).then((sig) => {
            out.signature = sig;
            done(out);
          }, fail);
          return;
        }
        out.signature = known;
      }
      done(out);
    }, lane);
  }

  /** An id that would leave its place in the URL: not requested, recorded as an error, said once. */
  private unsafeId(rec: PendingRecord, e: UnsafeIdError): RecordOutcome {
    if (!this.unsafeIdSeen) {
      this.unsafeIdSeen = true;
      this.note(`the id ${JSON.stringify(rec.id)} cannot be put in the URL safely (${e.message.replace(/^not requested: /, '')}); such records are not requested and are listed among the errors`);
    }
    return { status: null, ms: 0, attempts: 0, error: e.message };
  }

  private unsafeIdSeen = false;

  private async processRecord(rec: PendingRecord, url: string, lane: number): Promise<RecordOutcome> {
    return this.finishRecord(rec, url, await this.fetchWithRetries({ method: this.settings.method, url, headers: this.settings.headers }, keepRecordBody, 'records', undefined, lane));
  }

  private async finishRecord(rec: PendingRecord, url: string, r: Awaited<ReturnType<Scan['fetchWithRetries']>>): Promise<RecordOutcome> {
    if ('error' in r) return { status: null, ms: r.ms, attempts: r.attempts, error: this.clean(r.error) };
    const out: RecordOutcome = { status: r.result.status, ms: r.result.ms, attempts: r.attempts };
    if (r.result.status === 429) out.error = `rate-limited: still 429 after ${this.opts.maxWaits ?? 8} waits`;
    if (isDenial(r.result.status)) out.signature = await this.signatureFor(r.result, url, rec.id);
    return out;
  }

  private take(): PendingRecord | undefined {
    if (this.bufferAt >= this.buffer.seqs.length) {
      this.buffer = this.state.pending(this.cursor, 256);
      this.bufferAt = 0;
      if (!this.buffer.seqs.length) return undefined;
      this.cursor = this.buffer.seqs[this.buffer.seqs.length - 1];
      this.state.taken(this.cursor);
    }
    const i = this.bufferAt++;
    return { seq: this.buffer.seqs[i], id: this.buffer.ids[i] };
  }

  /**
   * One worker: takes a record, fetches it, logs its outcome, takes the
   * next. The outcome reaches the outcome log before the next request
   * leaves (the client's beforeSend hook, see `run`), so a worker has at
   * most one record that a crash would make fetch again. Callbacks, not
   * async/await: at thousands of records a second the promises of an async
   * loop were a measurable share of the scan's CPU time. Settles when the
   * source is exhausted or the scan stops; rejects if the state file cannot
   * be written.
   */
  private worker(lane: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (e: unknown) => (e instanceof Stopped ? resolve() : reject(e));
      const next = (): void => {
        try {
          if (this.state.writeError) return reject(this.state.writeError);
          if (this.stopReason) return resolve();
          const rec = this.take();
          if (!rec) {
            if (this.sourceDone) return resolve();
            this.sourceProgress.then(next, fail);
            return;
          }
          if (!this.firstSent) this.firstSent = performance.now();
          this.fetchRecord(rec, lane, (outcome) => {
            this.state.record(rec.seq, outcome);
            this.count(outcome);
            next();
          }, fail);
        } catch (e) {
          fail(e);
        }
      };
      next();
    });
  }

  private count(outcome: RecordOutcome): void {
    this.counts.done++;
    if (outcome.status === null && outcome.attempts) {
      // A server that is down fails every record alike: stop (resumable) instead of grinding through them all.
      if (++this.failuresInARow >= Math.max(20, 5 * this.settings.concurrency)) this.stop(`${this.failuresInARow} records in a row got no answer (last: ${outcome.error}); is the server up?`);
    } else if (outcome.status !== null) this.failuresInARow = 0;
    this.lastDone = performance.now();
    if (outcome.status !== null && isDenial(outcome.status)) this.counts.denied++;
    if (outcome.error) this.counts.errors++;
  }

  private async ingestIds(): Promise<void> {
    const source = this.settings.source;
    if (source.kind !== 'ids') return;
    const skip = Number(this.state.meta('source.read') ?? '0');
    let duplicates = Number(this.state.meta('source.duplicates') ?? '0');
    for await (const { rows, read } of readIds(source, this.opts.stdin, skip)) {
      if (this.stopReason) return;
      const added = this.state.addRecords(this.cleanRows(rows), { 'source.read': String(read) });
      duplicates += rows.length - added;
      this.counts.total += added;
      if (rows.length - added) this.state.meta('source.duplicates', String(duplicates));
      this.signal();
    }
    this.state.meta('source.done', '1');
  }

  private async walkList(): Promise<void> {
    const source = this.settings.source as ListSource;
    const origin = new URL(source.url).origin;
    let url = unhideSecrets(this.state.meta('source.next') || source.url, this.secrets);
    const savedStyle = this.state.meta('source.style');
    let style = savedStyle ? (JSON.parse(savedStyle) as PaginationStyle) : undefined;
    let itemsPath = this.state.meta('source.items');
    let duplicates = Number(this.state.meta('source.duplicates') ?? '0');
    this.listPages = Number(this.state.meta('source.pages') ?? '0');
    const seen = new Set<string>();
    let stale = 0;
    /** Why the walk ended before the list said it was over: said now, and kept for the summary. */
    const cut = (why: string) => {
      this.note(why);
      this.state.meta('source.end', this.clean(why));
    };
    for (;;) {
      if (this.stopReason) return;
      const maxPage = this.settings.maxPage ?? DEFAULT_MAX_PAGE;
      // A page has its own limit: it is read whole to be parsed, unlike a record's body.
      const req = { method: 'GET', url, headers: this.settings.headers, maxBody: maxPage };
      const r = await this.fetchWithRetries(req, keepAll, 'listPages');
      if ('error' in r) throw new NetworkError(`--list: page ${this.listPages + 1} (${redactUrl(url)}) failed after ${r.attempts} attempts: ${r.error}`);
      const page = r.result;
      if (isDenial(page.status)) {
        const report = await diagnose(
          { request: { ...req }, response: { status: page.status, statusText: page.statusText, headers: page.headers, content: { mimeType: page.body?.mimeType, text: page.body?.text ?? '' } }, source: { kind: 'live', name: url } },
          {},
        );
        throw new ListDeniedError(report);
      }
      if (page.status < 200 || page.status > 299) throw new InputError('--list', `page ${this.listPages + 1} (${redactUrl(url)}) was answered ${page.status} ${page.statusText}; expected 200 with a JSON list of records`);
      if (page.body?.truncated)
        throw new InputError('--list', `page ${this.listPages + 1} (${redactUrl(url)}) is larger than --max-page (${maxPage} bytes); read no further. Raise it, e.g. --max-page ${Math.ceil((maxPage * 4) / 1048576)}MiB`);
      let read;
      try {
        read = readPage(url, page.headers, page.body?.text ?? '', source, style, itemsPath);
      } catch (e) {
        if (e instanceof PageError) throw new InputError('--list', `page ${this.listPages + 1} (${redactUrl(url)}): ${e.message}`);
        throw e;
      }
      if (!style) {
        this.note(`walking the list by ${describeStyle(read.style)}; records in "${read.itemsPath}"`);
        if (read.style.kind === 'single' && read.records.length)
          this.note(`the first page held ${read.records.length} records and no sign of a next page (Link header, next field, cursor, page or offset); if the list is paginated, set --next, --page-param or --offset-param`);
      }
      style = read.style;
      itemsPath = read.itemsPath;
      let next = read.next;
      seen.add(url);
      if (next && new URL(next).origin !== origin) {
        cut(`the next page is on another origin (${new URL(next).origin}); not followed, so the credential stays with ${origin}. The list stops here.`);
        next = null;
      }
      if (next && seen.has(next)) {
        cut(`the next page (${redactUrl(next)}) was already read: the list loops; it stops here.`);
        next = null;
      }
      this.listPages++;
      const added = this.state.addRecords(this.cleanRows(read.records), {
        'source.next': next ? hideSecrets(next, this.secrets) : '',
        'source.pages': String(this.listPages),
        'source.style': JSON.stringify(style),
        'source.items': itemsPath,
        ...(next ? {} : { 'source.done': '1' }),
      });
      duplicates += read.records.length - added;
      if (read.records.length - added) this.state.meta('source.duplicates', String(duplicates));
      this.counts.total += added;
      // A loop by content: new cursors, no new records.
      stale = added ? 0 : stale + 1;
      if (next && stale >= STALE_PAGES) {
        cut(`the last ${stale} pages brought no record not seen before (the list repeats itself under new cursors); it stops here after ${this.listPages} pages`);
        this.state.meta('source.next', '');
        this.state.meta('source.done', '1');
        next = null;
      }
      this.signal();
      if (!next) return;
      url = next;
    }
  }

  /**
   * Diagnoses each signature's first denial again, now with what the whole
   * scan showed: the same request allowed for other records, and the fields
   * that separate the refused ones. A signature first seen in an earlier run
   * has no example in memory; its first record is fetched once more.
   */
  private async diagnoseWithScanEvidence(): Promise<void> {
    const summary = summarize(this.state);
    if (!summary.records.allowed) return;
    for (const sig of summary.signatures) {
      let example = this.examples.get(sig.id);
      if (!example && !this.stopReason) {
        const url = recordUrl(this.settings.template, sig.examples[0]);
        const again = await this.client!.send({ method: this.settings.method, url, headers: this.settings.headers }, () => true, 0);
        this.requests.records++;
        if (!failed(again) && isDenial(again.status)) example = { fetched: this.cleanAnswer(again), url };
      }
      if (!example) continue;
      const evidence = recordLevelEvidence({ status: sig.status, denied: sig.count, allowed: summary.records.allowed, separation: summary.separation, command: `why403 scan report ${this.state.path}` });
      if (!evidence) continue;
      const { shape } = shapeKey(example.fetched, sig.examples[0]);
      const row = await diagnoseDenial(example.fetched, { method: this.settings.method, url: example.url, headers: this.settings.headers }, shape, { probes: [evidence.probe], probeClaims: evidence.claims, extraSecrets: this.secrets });
      this.state.updateSignature(sig.id, row);
    }
  }

  async run(): Promise<ScanRunResult> {
    const t0 = performance.now();
    const s = this.settings;
    // The template's origin, when the id cannot change it (it sits in the path or query).
    const a = new URL(recordUrl(s.template, 'a')).origin;
    const origin = a === new URL(recordUrl(s.template, 'b')).origin ? a : undefined;
    this.client = createClient({
      url: recordUrl(s.template, 'x'),
      origin,
      concurrency: s.concurrency,
      timeoutMs: s.timeoutMs,
      maxBody: s.maxBody,
      insecure: s.insecure,
      env: this.opts.env,
      // No request leaves before the outcomes already known are on disk. Usually the
      // turn's group write has happened by then and this costs nothing.
      beforeSend: () => this.state.flushLog(),
    });
    if (this.aborting) this.client.abortAll();
    // Loaded now, not at the first denial: importing every rule takes a few hundred
    // milliseconds, which mid-scan would hold up every worker.
    await loadRules();
    const requeued = this.state.requeueInFlight();
    if (requeued) this.note(`${requeued} record${requeued === 1 ? ' was' : 's were'} taken but not finished when the scan stopped (at most ${this.settings.concurrency} of them in flight); fetched again`);
    this.counts = this.state.counts();
    this.startedAt = performance.now();
    this.doneAtStart = this.counts.done;
    this.sourceDone = this.state.meta('source.done') === '1';
    if (this.client.proxy) this.note(`requests go through the proxy ${this.client.proxy} (HTTP(S)_PROXY)`);

    let sourceTask: Promise<void> = Promise.resolve();
    if (!this.sourceDone) {
      const fill = s.source.kind === 'ids' ? this.ingestIds() : this.walkList();
      sourceTask = fill.then(
        () => {
          // Also when stopped half-way: the workers must end; the state file keeps the source's position.
          this.sourceDone = true;
          this.signal();
        },
        (e: unknown) => {
          this.sourceDone = true;
          // Stopped: the page in flight is read again on --resume (its URL is the stored position).
          if (e instanceof Stopped) return this.signal();
          this.sourceError = e;
          this.stop('the source failed');
        },
      );
    }
    // Logged outcomes reach the database in batches; readers of the state file see them within a second.
    const apply = setInterval(() => this.state.applyLog(), 1000);
    try {
      await Promise.all([sourceTask, ...Array.from({ length: s.concurrency }, (_, lane) => this.worker(lane))]);
    } finally {
      clearInterval(apply);
      this.state.applyLog();
      // Let in-flight diagnoses land before the state closes.
      await Promise.allSettled(this.signatures.values());
      await this.client.close(this.aborting);
    }
    // Every worker has ended, so nothing is in flight: taken records that were never sent are pending again.
    this.state.releaseTaken();
    if (this.sourceError) throw this.sourceError;
    await this.diagnoseWithScanEvidence();
    const duplicates = Number(this.state.meta('source.duplicates') ?? '0');
    return {
      ...(this.stopReason ? { stopped: this.stopReason } : {}),
      requeued,
      duplicates,
      requests: { ...this.requests },
      notes: this.notes,
      elapsedMs: performance.now() - t0,
      fetchMs: this.firstSent ? this.lastDone - this.firstSent : 0,
    };
  }
}
