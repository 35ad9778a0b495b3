// Sends one request with undici and records what a person debugging it
// would want to see: redirect chain, remote address, TLS, timings, headers,
// and the body up to a limit. It sends exactly what the user gave; it never
// adds credentials or source-address headers (design.md section 4).
import net from 'node:net';
import zlib from 'node:zlib';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import type { Exchange, ExchangeRequest, NameValue, Trace } from '../model/exchange.ts';
import { NetworkError, UsageError } from '../errors.ts';
import { proxyFor } from './proxy.ts';

export interface SendOptions {
  /** Whole-request timeout in milliseconds. */
  timeoutMs?: number;
  /** Bytes of body kept; the rest is discarded and the body marked truncated. */
  maxBody?: number;
  /** Follow redirects for GET and HEAD (never for other methods). */
  followRedirects?: boolean;
  maxRedirects?: number;
  /** Accept TLS certificates that do not verify (reported in the trace). */
  insecure?: boolean;
  env?: NodeJS.ProcessEnv;
}

interface ConnInfo {
  remoteAddress?: string;
  remotePort?: number;
  tls?: Trace['tls'];
  connect?: number;
  tls_ms?: number;
}

const round = (n: number) => Math.round(n * 10) / 10;

function describeCert(cert: tls.PeerCertificate | undefined): { subject?: string; issuer?: string; validTo?: string } {
  if (!cert || !Object.keys(cert).length) return {};
  const name = (o: Record<string, unknown> | undefined) => (o ? ['CN', 'O'].map((k) => o[k]).filter(Boolean).join(', ') : undefined);
  return { subject: name(cert.subject as never), issuer: name(cert.issuer as never), validTo: cert.valid_to };
}

/** A connector that records the socket's address, TLS parameters and phase timings. */
function recordingAgent(info: ConnInfo, insecure: boolean, timeoutMs: number): Dispatcher {
  return new Agent({
    connect(opts, cb) {
      const start = performance.now();
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      const host = opts.hostname.replace(/^\[|\]$/g, '');
      let socket: net.Socket;
      let done = false;
      const finish = (err: Error | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          socket.destroy();
          cb(err, null);
          return;
        }
        info.remoteAddress = socket.remoteAddress;
        info.remotePort = socket.remotePort;
        cb(null, socket);
      };
      const timer = setTimeout(() => finish(Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), timeoutMs);
      if (opts.protocol === 'https:') {
        const t = tls.connect({ host, port, servername: opts.servername ?? (net.isIP(host) ? undefined : host), rejectUnauthorized: !insecure, ALPNProtocols: ['http/1.1'] });
        socket = t;
        t.once('connect', () => (info.connect = round(performance.now() - start)));
        t.once('secureConnect', () => {
          info.tls_ms = round(performance.now() - start - (info.connect ?? 0));
          info.tls = { protocol: t.getProtocol() ?? undefined, cipher: t.getCipher()?.name, ...describeCert(t.getPeerCertificate()) };
          finish(null);
        });
      } else {
        socket = net.connect({ host, port });
        socket.once('connect', () => {
          info.connect = round(performance.now() - start);
          finish(null);
        });
      }
      socket.once('error', (e) => finish(e));
    },
  });
}

export function toHeaderList(raw: Record<string, string | string[] | undefined>): NameValue[] {
  const out: NameValue[] = [];
  for (const [name, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    for (const value of Array.isArray(v) ? v : [v]) out.push({ name, value });
  }
  return out;
}

export function networkError(err: unknown, url: string, timeoutMs: number, proxyUrl?: string): NetworkError {
  const e = err as { code?: string; message?: string; address?: string; port?: number; cause?: { code?: string; message?: string; address?: string; port?: number } };
  const code = e.code ?? e.cause?.code ?? '';
  const target = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  // Through a proxy, the socket that failed may be the proxy's: name it.
  const failed = e.address ?? e.cause?.address;
  const failedPort = e.port ?? e.cause?.port;
  const proxyHost = proxyUrl ? new URL(proxyUrl).host : undefined;
  const atProxy = proxyHost !== undefined && failed !== undefined && `${failed}:${failedPort}` === proxyHost;
  const host = atProxy ? `the proxy ${proxyUrl} (for ${target})` : proxyUrl ? `${target} (through the proxy ${proxyUrl})` : target;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new NetworkError(`${host}: the host name does not resolve (${code}); check the URL and your DNS`, 'W403_DNS', { cause: err });
  if (code === 'ECONNREFUSED') return new NetworkError(`${host}: connection refused; nothing is listening there`, 'W403_CONNECT', { cause: err });
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return new NetworkError(`${host}: the connection was closed before a response arrived (${code})`, 'W403_CONNECT', { cause: err });
  if (/TIMEOUT/.test(code) || code === 'ETIMEDOUT' || (e.message ?? '').includes('aborted due to timeout'))
    return new NetworkError(`${host}: no response within ${timeoutMs} ms (raise it with --timeout)`, 'W403_TIMEOUT', { cause: err });
  if (/CERT|SSL|TLS|SELF_SIGNED|ERR_TLS/i.test(code) || /certificate|SSL|TLS/i.test(e.message ?? ''))
    return new NetworkError(`${host}: TLS failed: ${e.message ?? code} (--insecure skips certificate verification for diagnosis)`, 'W403_TLS', { cause: err });
  return new NetworkError(`${host}: request failed: ${e.message ?? String(err)}${code ? ` (${code})` : ''}`, 'W403_NETWORK', { cause: err });
}

export async function readBounded(body: Dispatcher.ResponseData['body'], max: number): Promise<{ buf: Buffer; truncated: boolean; size: number }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let size = 0;
  let truncated = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (kept < max) {
      const take = chunk.subarray(0, max - kept);
      chunks.push(take);
      kept += take.length;
      if (take.length < chunk.length) truncated = true;
    } else {
      truncated = true;
      // Stop reading: the rest of a large body tells us nothing more.
      body.destroy();
      break;
    }
  }
  return { buf: Buffer.concat(chunks), truncated, size };
}

/** Decodes a (possibly truncated) compressed body as far as it goes. */
export function decodeBody(buf: Buffer, encoding: string): Buffer {
  const flush = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  try {
    switch (encoding.trim().toLowerCase()) {
      case 'gzip':
      case 'x-gzip':
        return zlib.gunzipSync(buf, flush);
      case 'deflate':
        return zlib.inflateSync(buf, flush);
      case 'br':
        return zlib.brotliDecompressSync(buf, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
      default:
        return buf;
    }
  } catch {
    return buf;
  }
}

export const isText = (ct: string) => /^(text\/|application\/(.+\+)?(json|xml|problem\+json|javascript|x-www-form-urlencoded))/i.test(ct) || ct === '';

function tunnelRefusal(req: ExchangeRequest, current: ExchangeRequest, target: URL, status: number, proxy: ReturnType<typeof proxyFor>, started: Date, t0: number): Exchange {
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return {
    request: { ...current, url: target.href, httpVersion: 'HTTP/1.1' },
    response: { status, statusText: '', httpVersion: 'HTTP/1.1', headers: [], content: { size: 0, mimeType: '', text: '' } },
    startedDateTime: started.toISOString(),
    trace: {
      redirects: [{ url: target.href, status }],
      timings: { total: round(performance.now() - t0) },
      proxy: { url: proxy.url ?? '', used: true, reason: proxy.reason, refusedTunnel: status },
      receivedAt: new Date().toISOString(),
    },
    notes: [`The proxy ${proxy.url} answered the CONNECT to ${target.hostname}:${port} with ${status}: the request never reached ${target.host}. Its response headers are not available.`],
    source: { kind: 'live', name: req.url },
  };
}

export async function sendRequest(req: ExchangeRequest, opts: SendOptions = {}): Promise<Exchange> {
  const timeoutMs = opts.timeoutMs ?? 15000;
  const maxBody = opts.maxBody ?? 256 * 1024;
  const maxRedirects = opts.followRedirects === false ? 0 : (opts.maxRedirects ?? 5);
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new UsageError(`"${req.url}" is not a URL (expected e.g. https://api.example.com/path)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${req.url}: only http and https URLs can be checked`);

  const started = new Date();
  const t0 = performance.now();
  const redirects: Trace['redirects'] = [];
  let current = { ...req, url: url.href };
  let info: ConnInfo = {};
  let proxy = proxyFor(url, opts.env);
  for (let hop = 0; ; hop++) {
    info = {};
    const target = new URL(current.url);
    proxy = proxyFor(target, opts.env);
    const dispatcher: Dispatcher = proxy.used
      ? // Plain http goes to the proxy in absolute form, as curl does, so a proxy's
        // own refusal comes back as a response to diagnose; https needs a tunnel.
        new ProxyAgent({ uri: proxy.url!, proxyTunnel: target.protocol === 'https:', requestTls: { rejectUnauthorized: !opts.insecure } })
      : recordingAgent(info, Boolean(opts.insecure), timeoutMs);
    const headers: Record<string, string> = {};
    for (const h of current.headers) {
      const k = h.name.toLowerCase();
      if (k === 'host' || k === 'content-length' || k === 'connection' || k.startsWith(':')) continue;
      headers[h.name] = headers[h.name] !== undefined ? `${headers[h.name]}, ${h.value}` : h.value;
    }
    const tSend = performance.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(target, {
        method: current.method.toUpperCase() as Dispatcher.HttpMethod,
        headers,
        body: current.postData?.text,
        dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      await dispatcher.close().catch(() => {});
      // A proxy that refuses the CONNECT tunnel (a corporate proxy's policy) has
      // answered: that answer is the denial to diagnose, not a network failure.
      // undici keeps only its status.
      const refused = proxy.used ? /Proxy response \((\d{3})\) !== 200 when HTTP Tunneling/.exec(String((err as Error)?.message)) : null;
      if (refused) return tunnelRefusal(req, current, target, Number(refused[1]), proxy, started, t0);
      throw networkError(err, target.href, timeoutMs, proxy.used ? proxy.url : undefined);
    }
    const firstByte = round(performance.now() - tSend);
    const location = res.headers.location;
    const loc = Array.isArray(location) ? location[0] : location;
    redirects.push({ url: target.href, status: res.statusCode, ...(loc ? { location: loc } : {}) });
    const method = current.method.toUpperCase();
    if (res.statusCode >= 300 && res.statusCode < 400 && loc && hop < maxRedirects && (method === 'GET' || method === 'HEAD')) {
      await res.body.dump().catch(() => {});
      await dispatcher.close().catch(() => {});
      const next = new URL(loc, target);
      // Like fetch: credentials do not follow a redirect to another origin.
      const sameOrigin = next.origin === target.origin;
      current = {
        ...current,
        url: next.href,
        headers: sameOrigin ? current.headers : current.headers.filter((h) => !['authorization', 'cookie', 'proxy-authorization'].includes(h.name.toLowerCase())),
      };
      continue;
    }
    let body: { buf: Buffer; truncated: boolean; size: number };
    try {
      body = await readBounded(res.body, maxBody);
    } catch (err) {
      await dispatcher.close().catch(() => {});
      throw networkError(err, target.href, timeoutMs, proxy.used ? proxy.url : undefined);
    }
    await dispatcher.close().catch(() => {});
    const resHeaders = toHeaderList(res.headers as Record<string, string | string[]>);
    const ct = String(res.headers['content-type'] ?? '');
    body.buf = decodeBody(body.buf, String(res.headers['content-encoding'] ?? ''));
    const text = isText(ct) ? body.buf.toString('utf8') : body.buf.toString('base64');
    const trace: Trace = {
      redirects,
      ...(info.remoteAddress ? { remoteAddress: info.remoteAddress, remotePort: info.remotePort } : {}),
      ...(info.tls ? { tls: info.tls } : {}),
      timings: { ...(info.connect !== undefined ? { connect: info.connect } : {}), ...(info.tls_ms !== undefined ? { tls: info.tls_ms } : {}), firstByte, total: round(performance.now() - t0) },
      proxy: { url: proxy.url ?? '', used: proxy.used, reason: proxy.reason },
      receivedAt: new Date().toISOString(),
    };
    return {
      request: { ...current, url: target.href, httpVersion: 'HTTP/1.1' },
      response: {
        status: res.statusCode,
        // The reason phrase as the server sent it (Tomcat sends none).
        statusText: res.statusText ?? '',
        httpVersion: 'HTTP/1.1',
        headers: resHeaders,
        content: { size: body.size, mimeType: ct, text, ...(isText(ct) ? {} : { encoding: 'base64' }), ...(body.truncated ? { truncated: true } : {}) },
        ...(loc ? { redirectURL: loc } : {}),
      },
      startedDateTime: started.toISOString(),
      ...(info.remoteAddress ? { serverIPAddress: info.remoteAddress } : {}),
      trace,
      source: { kind: 'live', name: req.url },
    };
  }
}
