// The scan's HTTP client: a keep-alive connection per worker (a new
// connection per record would measure the handshake, not the server), the
// user's proxy settings honoured, a timeout per request. Allowed answers are
// drained and forgotten; a denial's body is kept, bounded, for its diagnosis.
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Agent, Client, ProxyAgent, type Dispatcher } from 'undici';
import type { NameValue } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import { decodeBody, isText, networkError, toHeaderList } from '../live/send.ts';
import { proxyFor } from '../live/proxy.ts';
import type { NetworkError } from '../errors.ts';

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
}

export type ScanRequest = { method: string; url: string; headers: NameValue[] };

export interface HttpClient {
  /** `lane`: the worker's own connection (0 to concurrency - 1); without one, a shared agent. */
  send(req: ScanRequest, keepBody: (status: number) => boolean, lane?: number): Promise<Fetched | FetchFailure>;
  /** `send` with a callback: the scan's hot path, where a promise per record is measurable. */
  dispatch(req: ScanRequest, keepBody: (status: number) => boolean, done: (r: Fetched | FetchFailure) => void, lane?: number): void;
  close(): Promise<void>;
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
  beforeSend?: () => void;
}): HttpClient {
  const decision = proxyFor(new URL(opts.url), opts.env ?? process.env);
  const connect = { rejectUnauthorized: !opts.insecure };
  // One connection per worker, plus one for the list walker.
  const connections = opts.concurrency + 1;
  const dispatcher: Dispatcher = decision.used
    ? new ProxyAgent({ uri: decision.url!, connections, requestTls: connect, proxyTls: connect })
    : new Agent({ connections, connect, keepAliveTimeout: 10_000 });
  const lanes = !decision.used && opts.origin ? Array.from({ length: opts.concurrency }, () => new Client(opts.origin!, { connect, keepAliveTimeout: 10_000 })) : undefined;
  const laneOrigin = opts.origin ?? '';
  const lanePrefix = laneOrigin + '/';
  const headerObjects = new WeakMap<NameValue[], Record<string, string>>();
  const headerObject = (list: NameValue[]) => {
    let o = headerObjects.get(list);
    if (!o) headerObjects.set(list, (o = Object.fromEntries(list.map((h) => [h.name, h.value]))));
    return o;
  };
  const client: HttpClient = {
    proxy: decision.used ? decision.url : undefined,
    send(req, keepBody, lane) {
      return new Promise((resolve) => client.dispatch(req, keepBody, resolve, lane));
    },
    dispatch(req, keepBody, resolve, lane) {
      const t0 = performance.now();
      const fail = (err: unknown): FetchFailure => {
        const e = networkError(err, req.url, opts.timeoutMs, decision.used ? decision.url : undefined);
        return { error: e, ms: performance.now() - t0, timedOut: e.code === 'W403_TIMEOUT' };
      };
      let target: Dispatcher;
      let origin: string;
      let path: string;
      if (lanes && lane !== undefined && req.url.startsWith(lanePrefix)) {
        target = lanes[lane % lanes.length];
        origin = laneOrigin;
        path = req.url.slice(laneOrigin.length);
      } else {
        let u: URL;
        try {
          u = new URL(req.url);
        } catch (e) {
          return resolve(fail(e));
        }
        target = dispatcher;
        origin = u.origin;
        path = u.pathname + u.search;
      }
      // dispatch() with a handler, not request(): no stream per response, which
      // is most of a client's cost at thousands of records a second.
      {
        let status = 0;
        let keep = false;
        let rawHeaders: Record<string, string | string[] | undefined> = {};
        const chunks: Buffer[] = [];
        let kept = 0;
        let truncated = false;
        const handler: Dispatcher.DispatchHandler = {
          // Called by undici just before it writes the request (its presence also marks a handler of the current API).
          onRequestStart(controller) {
            if (!opts.beforeSend) return;
            try {
              opts.beforeSend();
            } catch (e) {
              controller.abort(e as Error);
            }
          },
          onResponseStart(_c, statusCode, headers) {
            status = statusCode;
            keep = keepBody(statusCode);
            if (keep) rawHeaders = headers as typeof rawHeaders;
          },
          onResponseData(_c, chunk) {
            if (!keep) return;
            if (kept >= opts.maxBody) {
              truncated = true;
              return;
            }
            const take = chunk.length > opts.maxBody - kept ? chunk.subarray(0, opts.maxBody - kept) : chunk;
            if (take.length < chunk.length) truncated = true;
            chunks.push(take);
            kept += take.length;
          },
          onResponseEnd() {
            const statusText = STATUS_CODES[status] ?? '';
            if (!keep) return resolve({ status, statusText, headers: [], ms: performance.now() - t0 });
            const headers = toHeaderList(rawHeaders);
            const mimeType = headerValue(headers, 'content-type') ?? '';
            const decoded = decodeBody(Buffer.concat(chunks), headerValue(headers, 'content-encoding') ?? '');
            const textual = isText(mimeType) || !mimeType;
            resolve({
              status,
              statusText,
              headers,
              body: { text: decoded.toString(textual ? 'utf8' : 'base64'), mimeType, truncated, ...(textual ? {} : { encoding: 'base64' }) },
              ms: performance.now() - t0,
            });
          },
          onResponseError(_c, err) {
            resolve(fail(err));
          },
        };
        try {
          // headersTimeout bounds the wait for an answer, bodyTimeout any stall in its body.
          target.dispatch({ origin, path, method: req.method as Dispatcher.HttpMethod, headers: headerObject(req.headers), headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs }, handler);
        } catch (e) {
          resolve(fail(e));
        }
      }
    },
    close: async () => {
      await Promise.all([dispatcher.close(), ...(lanes ?? []).map((c) => c.close())]);
    },
  };
  return client;
}

export const failed = (r: Fetched | FetchFailure): r is FetchFailure => 'error' in r;
