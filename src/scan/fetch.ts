// The scan's HTTP client: a keep-alive connection per worker (a new
// connection per record would measure the handshake, not the server), the
// user's proxy settings honoured, a timeout per request. Allowed answers are
// drained and forgotten; a denial's body is kept, bounded, for its diagnosis.
// Every request is bounded: --timeout covers the whole of it (headers and
// body), a body stops being read at its limit (the request is aborted, what
// was read is kept), and `abortAll` (Ctrl-C) ends every request in flight.
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Agent, Client, ProxyAgent, type Dispatcher } from 'undici';
import type { NameValue } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import { decodeBody, isText, networkError, toHeaderList } from '../live/send.ts';
import { proxyFor } from '../live/proxy.ts';
import { NetworkError } from '../errors.ts';

/** The most a kept record body may decode to (its compressed bytes are bounded by maxBody). */
const DECODED_RECORD_LIMIT = 8 << 20;

export interface Fetched {
  status: number;
  statusText: string;
  headers: NameValue[];
  /** Only when the caller asked to keep the body for this status; empty otherwise. */
  body?: { text: string; mimeType: string; truncated: boolean; encoding?: string };
  ms: number;
}

export interface FetchFailure {
  error: NetworkError;
  ms: number;
  timedOut: boolean;
  /** Ended by `abortAll` (the scan stops): not an outcome of the record, which stays pending. */
  stopped?: boolean;
}

/** `maxBody`: bytes of a kept body read before the request is ended (default: the client's). */
export type ScanRequest = {
  method: string;
  url: string;
  headers: NameValue[];
  maxBody?: number;
  /** A request body (an audit's unsafe request); a scan's records have none. */
  body?: string;
  /** The record this request fetches (its place in the state file), for `beforeSend`. */
  seq?: number;
};

/**
 * An answer whose body is not kept is drained (so its connection can carry
 * the next request) up to this many bytes; past it the request is ended:
 * the status is all the scan needs.
 */
export const DRAIN_LIMIT = 1024 * 1024;

export interface HttpClient {
  /** `lane`: the worker's own connection (0 to concurrency - 1); without one, a shared agent. */
  send(req: ScanRequest, keepBody: (status: number) => boolean, lane?: number): Promise<Fetched | FetchFailure>;
  /** `send` with a callback: the scan's hot path, where a promise per record is measurable. */
  dispatch(
    req: ScanRequest,
    keepBody: (status: number) => boolean,
    done: (r: Fetched | FetchFailure) => void,
    lane?: number,
  ): void;
  /** Closes the connections; `force`: without waiting for requests still running. */
  close(force?: boolean): Promise<void>;
  /** Ends every request in flight now, and any sent later, as failures with `stopped` set. */
  abortAll(): void;
  /** The proxy in use, if any, for the record URLs. */
  proxy?: string;
}

/**
 * `origin` is the records' origin when every record URL shares it (the
 * usual template): then each worker has a lane, an undici Client (one
 * connection) of its own for that origin, which needs no URL parsed per
 * request. A worker hands its lane the next request from inside the
 * previous response's callback, while undici still counts that response as
 * running: the request waits in the lane's queue, and undici writes it in
 * the same turn's check phase, after the scan's outcome log. Through a
 * shared Pool, or dispatched a moment later, it left a whole turn late
 * (undici waits a turn before it reuses an idle keep-alive connection).
 */
export function createClient(opts: {
  url: string;
  origin?: string;
  concurrency: number;
  timeoutMs: number;
  maxBody: number;
  insecure?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Called just before each request is written to its connection; if it throws, the request is not sent and fails with that error. */
  beforeSend?: (req: ScanRequest) => void;
}): HttpClient {
  const decision = proxyFor(new URL(opts.url), opts.env ?? process.env);
  const connect = { rejectUnauthorized: !opts.insecure };
  // One connection per worker, plus one for the list walker.
  const connections = opts.concurrency + 1;
  const dispatcher: Dispatcher = decision.used
    ? new ProxyAgent({ uri: decision.url!, connections, requestTls: connect, proxyTls: connect })
    : new Agent({ connections, connect, keepAliveTimeout: 10_000 });
  const lanes =
    !decision.used && opts.origin
      ? Array.from({ length: opts.concurrency }, () => new Client(opts.origin!, { connect, keepAliveTimeout: 10_000 }))
      : undefined;
  const laneOrigin = opts.origin ?? '';
  const lanePrefix = laneOrigin + '/';
  const headerObjects = new WeakMap<NameValue[], Record<string, string>>();
  const headerObject = (list: NameValue[]) => {
    let o = headerObjects.get(list);
    if (!o) headerObjects.set(list, (o = Object.fromEntries(list.map((h) => [h.name, h.value]))));
    return o;
  };
  // Requests in flight: a sweep ends those older than --timeout. One timer for the
  // client, not one per request. A lane has one request at a time, kept in its
  // slot (a Set of every request in flight measurably cost CPU and memory at
  // thousands of records a second); the others (list pages, a lane's second
  // request) in a Set.
  const inflight: Inflight = {
    slots: new Array<Call | undefined>(lanes?.length ?? 0).fill(undefined),
    others: new Set<Call>(),
  };
  const each = (f: (c: Call) => void) => {
    for (const c of inflight.slots) if (c) f(c);
    for (const c of [...inflight.others]) f(c);
  };
  const call: CallContext = {
    opts,
    inflight,
    failure(req, t0, err) {
      const e = networkError(err, req.url, opts.timeoutMs, decision.used ? decision.url : undefined);
      return { error: e, ms: performance.now() - t0, timedOut: e.code === 'W403_TIMEOUT' };
    },
  };
  let stopped = false;
  const sweepEvery = Math.max(10, Math.min(250, opts.timeoutMs / 10));
  const sweep = setInterval(() => {
    const now = performance.now();
    each((c) => {
      if (c.sentAt && now - c.sentAt > opts.timeoutMs) c.timeout();
    });
  }, sweepEvery);
  sweep.unref();
  const client: HttpClient = {
    proxy: decision.used ? decision.url : undefined,
    send(req, keepBody, lane) {
      return new Promise((resolve) => client.dispatch(req, keepBody, resolve, lane));
    },
    dispatch(req, keepBody, resolve, lane) {
      if (stopped) return resolve(stoppedFailure(0));
      let target: Dispatcher;
      let origin: string;
      let path: string;
      let slot = -1;
      if (lanes && lane !== undefined && req.url.startsWith(lanePrefix)) {
        slot = lane % lanes.length;
        target = lanes[slot];
        origin = laneOrigin;
        path = req.url.slice(laneOrigin.length);
      } else {
        let u: URL;
        try {
          u = new URL(req.url);
        } catch (e) {
          return resolve(call.failure(req, performance.now(), e));
        }
        target = dispatcher;
        origin = u.origin;
        // The path as written, not as the URL parser normalised it: an id sent as
        // %2E%2E must not become a dot segment that the parser removes.
        path = rawPathOf(req.url, u);
      }
      // dispatch() with a handler, not request(): no stream per response, which
      // is most of a client's cost at thousands of records a second. The
      // handler is one object a request, its methods on the prototype.
      if (slot >= 0 && inflight.slots[slot]) slot = -1;
      const h = new Call(call, req, keepBody, resolve, slot);
      if (slot >= 0) inflight.slots[slot] = h;
      else inflight.others.add(h);
      try {
        // headersTimeout bounds the wait for an answer, bodyTimeout any stall in its body; the sweep, the whole.
        target.dispatch(
          {
            origin,
            path,
            method: req.method as Dispatcher.HttpMethod,
            headers: headerObject(req.headers),
            ...(req.body !== undefined ? { body: req.body } : {}),
            headersTimeout: opts.timeoutMs,
            bodyTimeout: opts.timeoutMs,
          },
          h,
        );
      } catch (e) {
        h.settle(call.failure(req, h.t0, e));
      }
    },
    abortAll() {
      stopped = true;
      each((c) => c.stop());
    },
    close: async (force) => {
      clearInterval(sweep);
      const all = [dispatcher, ...(lanes ?? [])];
      await Promise.all(all.map((d) => (force ? d.destroy() : d.close())));
    },
  };
  return client;
}

interface CallContext {
  opts: { timeoutMs: number; maxBody: number; beforeSend?: (req: ScanRequest) => void };
  inflight: Inflight;
  failure(req: ScanRequest, t0: number, err: unknown): FetchFailure;
}

interface Inflight {
  slots: (Call | undefined)[];
  others: Set<Call>;
}

/** One request: undici's handler for it, and its entry among the requests in flight. */
class Call implements Dispatcher.DispatchHandler {
  readonly t0 = performance.now();
  /** When undici wrote it (0: not yet, still queued for a connection): --timeout counts from there, as undici's headersTimeout does. */
  sentAt = 0;
  private status = 0;
  private keep = false;
  private rawHeaders: Record<string, string | string[] | undefined> = EMPTY;
  private chunks: Buffer[] | undefined;
  private kept = 0;
  private drained = 0;
  private truncated = false;
  private settled = false;
  private ctl: Dispatcher.DispatchController | undefined;
  private readonly cx: CallContext;
  private readonly req: ScanRequest;
  private readonly keepBody: (status: number) => boolean;
  private readonly resolve: (r: Fetched | FetchFailure) => void;
  /** Its lane's slot among the requests in flight; -1: in the Set. */
  private readonly slot: number;

  constructor(
    cx: CallContext,
    req: ScanRequest,
    keepBody: (status: number) => boolean,
    resolve: (r: Fetched | FetchFailure) => void,
    slot: number,
  ) {
    this.cx = cx;
    this.slot = slot;
    this.req = req;
    this.keepBody = keepBody;
    this.resolve = resolve;
  }

  settle(r: Fetched | FetchFailure): void {
    if (this.settled) return;
    this.settled = true;
    if (this.slot >= 0) this.cx.inflight.slots[this.slot] = undefined;
    else this.cx.inflight.others.delete(this);
    this.resolve(r);
  }

  /** Ends the request now: its answer (or failure) is settled first, then undici is told. */
  private end(r: Fetched | FetchFailure): void {
    this.settle(r);
    this.ctl?.abort(ENDED);
  }

  private answer(): Fetched {
    const status = this.status;
    const statusText = STATUS_CODES[status] ?? '';
    if (!this.keep) return { status, statusText, headers: [], ms: performance.now() - this.t0 };
    const headers = toHeaderList(this.rawHeaders);
    const mimeType = headerValue(headers, 'content-type') ?? '';
    // Decoded (gzip, br, …) by src/live/body.ts, at most this many bytes: a list
    // page may decode to --max-page; a record's body to 8 MiB, enough for any
    // error text, and past it the bytes are kept as they came.
    const limit = Math.max(this.req.maxBody ?? this.cx.opts.maxBody, DECODED_RECORD_LIMIT);
    const decoded = decodeBody(
      this.chunks ? Buffer.concat(this.chunks) : Buffer.alloc(0),
      headerValue(headers, 'content-encoding') ?? '',
      limit,
    );
    const textual = isText(mimeType) || !mimeType;
    return {
      status,
      statusText,
      headers,
      body: {
        text: decoded.toString(textual ? 'utf8' : 'base64'),
        mimeType,
        truncated: this.truncated,
        ...(textual ? {} : { encoding: 'base64' }),
      },
      ms: performance.now() - this.t0,
    };
  }

  /** Past --timeout (the client's sweep): a failure, whatever has arrived. */
  timeout(): void {
    // Before the headers, the same words as undici's own headers timeout.
    if (!this.status)
      return this.end(
        this.cx.failure(
          this.req,
          this.t0,
          Object.assign(new Error('request timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' }),
        ),
      );
    const ms = this.cx.opts.timeoutMs;
    this.end({
      error: new NetworkError(
        `${hostOf(this.req.url)}: answered ${this.status} but the body was not complete within ${ms} ms (--timeout bounds the whole request)`,
        'W403_TIMEOUT',
      ),
      ms: performance.now() - this.t0,
      timedOut: true,
    });
  }

  stop(): void {
    this.end(stoppedFailure(performance.now() - this.t0));
  }

  // Called by undici just before it writes the request (its presence also marks a handler of the current API).
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.ctl = controller;
    this.sentAt = performance.now();
    if (this.settled) return controller.abort(ENDED);
    const beforeSend = this.cx.opts.beforeSend;
    if (!beforeSend) return;
    try {
      beforeSend(this.req);
    } catch (e) {
      controller.abort(e as Error);
    }
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.ctl = controller;
    this.status = statusCode;
    this.keep = this.keepBody(statusCode);
    if (this.keep) this.rawHeaders = headers;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (!this.keep) {
      this.drained += chunk.length;
      if (this.drained > DRAIN_LIMIT) this.end(this.answer());
      return;
    }
    const limit = this.req.maxBody ?? this.cx.opts.maxBody;
    const take = chunk.length > limit - this.kept ? chunk.subarray(0, limit - this.kept) : chunk;
    if (take.length) (this.chunks ??= []).push(take);
    this.kept += take.length;
    // At the limit with more to come: keep what was read and stop reading.
    if (take.length < chunk.length) {
      this.truncated = true;
      this.end(this.answer());
    }
  }

  onResponseEnd(): void {
    this.settle(this.answer());
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.settle(this.cx.failure(this.req, this.t0, err));
  }
}

const EMPTY: Record<string, string | string[] | undefined> = {};

/** The reason undici is given when the scan ends a request itself (its answer is already settled). */
const ENDED = Object.assign(new Error('ended by the scan'), { code: 'W403_ENDED' });

function stoppedFailure(ms: number): FetchFailure {
  return {
    error: new NetworkError('the scan stopped before the answer arrived', 'W403_STOPPED'),
    ms,
    timedOut: false,
    stopped: true,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The path and query of `url` as written (the fragment is never sent). */
function rawPathOf(url: string, parsed: URL): string {
  const auth = url.indexOf('//');
  let from = url.slice(auth + 2).search(/[/?#]/);
  if (auth < 0 || from < 0) return parsed.pathname + parsed.search;
  from += auth + 2;
  let path = url.slice(from);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  if (path.startsWith('?')) path = '/' + path;
  return path;
}

export const failed = (r: Fetched | FetchFailure): r is FetchFailure => 'error' in r;
