// The scan's pace: one gate every request passes (the --rate slots, and any
// pause a 429's or 503's Retry-After asked for, which holds every worker),
// and the retry policy (network errors and timeouts retried --retries times
// with backoff). A Retry-After longer than --max-wait stops the scan instead.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NameValue } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import { failed, type Fetched, type FetchFailure, type HttpClient, type ScanRequest } from './fetch.ts';
import { Stopped, type StopSwitch } from './stop.ts';

const MAX_BACKOFF_MS = 30_000;
export const DEFAULT_MAX_WAIT_MS = 15 * 60_000;
/** 429s honoured for one record before it is recorded as rate-limited. */
export const DEFAULT_MAX_WAITS = 8;

/** Requests sent, by what they were for. */
export interface RequestCounts {
  records: number;
  listPages: number;
  retries: number;
  rateLimitWaits: number;
}

/** What a request came to after the retry policy: an answer, or the last network error. */
export type Attempted = { result: Fetched; attempts: number } | { error: string; attempts: number; ms: number };

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: NameValue[], now = Date.now()): number | undefined {
  const v = headerValue(headers, 'retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

const backoff = (attempt: number) => Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt) * (0.75 + Math.random() * 0.5);

export class Pace {
  /** Set by the scan once its client exists. */
  client?: HttpClient;
  readonly requests: RequestCounts = { records: 0, listPages: 0, retries: 0, rateLimitWaits: 0 };
  readonly maxWaits: number;
  private readonly interval: number;
  private readonly retries: number;
  private readonly maxWaitMs: number;
  private readonly stops: StopSwitch;
  private nextSlot = 0;
  private pausedUntil = 0;

  constructor(o: { rate?: number; retries: number; maxWaitMs?: number; maxWaits?: number }, stops: StopSwitch) {
    this.interval = o.rate ? 1000 / o.rate : 0;
    this.retries = o.retries;
    this.maxWaitMs = o.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.maxWaits = o.maxWaits ?? DEFAULT_MAX_WAITS;
    this.stops = stops;
  }

  /** Seconds every worker is still held by a Retry-After, if any. */
  pausedFor(now = performance.now()): number | undefined {
    return this.pausedUntil > now ? (this.pausedUntil - now) / 1000 : undefined;
  }

  /** No --rate, no pause, not stopping: a request may go at once. */
  open(): boolean {
    return !this.interval && !this.stops.reason && this.pausedUntil <= performance.now();
  }

  /** Resolves when the next request may leave; throws Stopped once the scan stops. */
  gate(): Promise<void> | undefined {
    // The common case costs no promise.
    return this.open() ? undefined : this.slowGate();
  }

  private async slowGate(): Promise<void> {
    const signal = this.stops.signal;
    for (;;) {
      if (this.stops.reason) throw new Stopped();
      const now = performance.now();
      if (this.pausedUntil > now) {
        await sleep(this.pausedUntil - now, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (this.interval) {
        const slot = Math.max(now, this.nextSlot);
        this.nextSlot = slot + this.interval;
        if (slot > now) await sleep(slot - now, undefined, { signal }).catch(() => undefined);
        if (this.stops.reason) throw new Stopped();
      }
      return;
    }
  }

  /** Holds every worker for `ms`, or stops the scan (resumable) when that is longer than --max-wait. */
  private pause(ms: number, host: string): void {
    if (ms > this.maxWaitMs) {
      this.stops.stop({ kind: 'retry-after', host, waitMs: ms });
      return;
    }
    this.pausedUntil = Math.max(this.pausedUntil, performance.now() + ms);
  }

  /**
   * One request with the scan's retry policy: network errors and timeouts
   * are retried --retries times with backoff; a 429 (or 503 with
   * Retry-After) pauses every worker for as long as the server asked.
   */
  async send(
    req: ScanRequest,
    keepBody: (s: number) => boolean,
    count: 'records' | 'listPages',
    /** The answer to a first attempt already sent. */
    first?: Fetched | FetchFailure,
    /** The worker's connection (see createClient); none for the list. */
    lane?: number,
    /**
     * Sent at most once (an audit's unsafe request, which may have changed
     * data): no retry after a network error, and a 429 is the answer, though
     * its Retry-After still holds every other request.
     */
    once = false,
  ): Promise<Attempted> {
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
        if (!once && attempts <= this.retries && !this.stops.reason) {
          this.requests.retries++;
          await sleep(backoff(attempts), undefined, { signal: this.stops.signal }).catch(() => undefined);
          continue;
        }
        return { error: r.error.message, attempts, ms: r.ms };
      }
      const ra = retryAfterMs(r.headers);
      if (r.status === 429 || (r.status === 503 && ra !== undefined)) {
        waits++;
        this.requests.rateLimitWaits++;
        if (waits > this.maxWaits || once) {
          if (once && ra !== undefined) this.pause(ra, new URL(req.url).host);
          return { result: r, attempts };
        }
        this.pause(ra ?? backoff(waits + 2), new URL(req.url).host);
        continue;
      }
      return { result: r, attempts };
    }
  }
}
