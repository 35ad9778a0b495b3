// The scan's HTTP client: one keep-alive connection pool shared by every
// worker (a new connection per record would measure the handshake, not the
// server), the user's proxy settings honoured, a timeout per request. Allowed
// answers are drained and forgotten; a denial's body is kept, bounded, for
// its diagnosis.
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Agent, Pool, ProxyAgent, type Dispatcher } from 'undici';
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

export interface HttpClient {
  send(req: { method: string; url: string; headers: NameValue[] }, keepBody: (status: number) => boolean): Promise<Fetched | FetchFailure>;
  close(): Promise<void>;
  /** The proxy in use, if any, for the record URLs. */
  proxy?: string;
}

/**
 * `origin` is the records' origin when every record URL shares it (the
 * usual template): then a Pool for that origin serves them without parsing
 * a URL per request, which matters at thousands of records a second.
 */
export function createClient(opts: { url: string; origin?: string; concurrency: number; timeoutMs: number; maxBody: number; insecure?: boolean; env?: NodeJS.ProcessEnv }): HttpClient {
  const decision = proxyFor(new URL(opts.url), opts.env ?? process.env);
  const connect = { rejectUnauthorized: !opts.insecure };
  // One connection per worker, plus one for the list walker.
  const connections = opts.concurrency + 1;
  const dispatcher: Dispatcher = decision.used
    ? new ProxyAgent({ uri: decision.url!, connections, requestTls: connect, proxyTls: connect })
    : new Agent({ connections, connect, keepAliveTimeout: 10_000 });
  const pool = !decision.used && opts.origin ? new Pool(opts.origin, { connections: opts.concurrency, connect, keepAliveTimeout: 10_000 }) : undefined;
  const poolOrigin = opts.origin ?? '';
  const poolPrefix = poolOrigin + '/';
  const headerObjects = new WeakMap<NameValue[], Record<string, string>>();
  const headerObject = (list: NameValue[]) => {
    let o = headerObjects.get(list);
    if (!o) headerObjects.set(list, (o = Object.fromEntries(list.map((h) => [h.name, h.value]))));
    return o;
  };
  return {
    proxy: decision.used ? decision.url : undefined,
    send(req, keepBody) {
      const t0 = performance.now();
      const fail = (err: unknown): FetchFailure => {
        const e = networkError(err, req.url, opts.timeoutMs, decision.used ? decision.url : undefined);
        return { error: e, ms: performance.now() - t0, timedOut: e.code === 'W403_TIMEOUT' };
      };
      let target: Dispatcher;
      let origin: string;
      let path: string;
      if (pool && req.url.startsWith(poolPrefix)) {
        target = pool;
        origin = poolOrigin;
        path = req.url.slice(poolOrigin.length);
      } else {
        let u: URL;
        try {
          u = new URL(req.url);
        } catch (e) {
          return Promise.resolve(fail(e));
        }
        target = dispatcher;
        origin = u.origin;
        path = u.pathname + u.search;
      }
      // dispatch() with a handler, not request(): no stream per response, which
      // is most of a client's cost at thousands of records a second.
      return new Promise((resolve) => {
        let status = 0;
        let keep = false;
        let rawHeaders: Record<string, string | string[] | undefined> = {};
        const chunks: Buffer[] = [];
        let kept = 0;
        let truncated = false;
        const handler: Dispatcher.DispatchHandler = {
          // Its presence tells undici this is a handler of the current API, not the legacy one.
          onRequestStart() {},
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
      });
    },
    close: async () => {
      await Promise.all([dispatcher.close(), pool?.close()]);
    },
  };
}

export const failed = (r: Fetched | FetchFailure): r is FetchFailure => 'error' in r;
