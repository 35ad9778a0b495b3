// Sends one request with undici and records what a person debugging it
// would want to see: redirect chain, remote address, TLS, timings, headers,
// and the body up to a limit. It sends exactly what the user gave; it never
// adds credentials or source-address headers (design.md section 4). A Route
// (route.ts) carries how a curl command says the request travels: its proxy,
// --resolve, TLS settings, cookie engine; sendRequest honours it or refuses.
import net from 'node:net';
import zlib from 'node:zlib';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import type { Exchange, ExchangeRequest, NameValue, Trace } from '../model/exchange.ts';
import { NetworkError, UsageError } from '../errors.ts';
import { proxyFor } from './proxy.ts';
import { connectTarget, localAddressFor, routeMatches, shownProxy, type Route } from './route.ts';
import { cookiesFor, storeSetCookies } from './cookies.ts';

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
  /** How the request travels (a curl command's proxy, --resolve, TLS, cookie engine…). */
  route?: Route;
}

interface ConnInfo {
  remoteAddress?: string;
  remotePort?: number;
  tls?: Trace['tls'];
  connect?: number;
  tls_ms?: number;
  /** The protocol ALPN settled on ("h2" when HTTP/2 was negotiated). */
  alpn?: string;
}

const round = (n: number) => Math.round(n * 10) / 10;

function describeCert(cert: tls.PeerCertificate | undefined): { subject?: string; issuer?: string; validTo?: string } {
  if (!cert || !Object.keys(cert).length) return {};
  const name = (o: Record<string, unknown> | undefined) => (o ? ['CN', 'O'].map((k) => o[k]).filter(Boolean).join(', ') : undefined);
  return { subject: name(cert.subject as never), issuer: name(cert.issuer as never), validTo: cert.valid_to };
}

/** TLS settings of a route, as node:tls takes them. */
function tlsOptions(route: Route | undefined, insecure: boolean): tls.ConnectionOptions {
  const t = route?.tls ?? {};
  return {
    rejectUnauthorized: !insecure,
    ...(t.ca ? { ca: t.ca } : {}),
    ...(t.cert ? { cert: t.cert } : {}),
    ...(t.key ? { key: t.key } : {}),
    ...(t.passphrase !== undefined ? { passphrase: t.passphrase } : {}),
    ...(t.minVersion ? { minVersion: t.minVersion } : {}),
    ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
    ...(t.ciphers ? { ciphers: t.ciphers } : {}),
    ...(t.ecdhCurve ? { ecdhCurve: t.ecdhCurve } : {}),
  };
}

/**
 * A connector that records the socket's address, TLS parameters and phase
 * timings, and connects where the route says: --connect-to and --resolve
 * choose the address (the Host header, SNI and certificate check keep the
 * URL's name, as curl's do), --unix-socket a socket, --interface and -4/-6
 * the local side.
 */
function recordingAgent(info: ConnInfo, insecure: boolean, timeoutMs: number, route?: Route): Dispatcher {
  return new Agent({
    ...(route?.http2 ? { allowH2: true } : {}),
    connect(opts, cb) {
      const start = performance.now();
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      const name = opts.hostname.replace(/^\[|\]$/g, '');
      let socket: net.Socket;
      let raw: net.Socket;
      let done = false;
      const finish = (err: Error | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          socket?.destroy();
          raw?.destroy();
          cb(err, null);
          return;
        }
        info.remoteAddress = route?.unixSocket ? undefined : raw.remoteAddress;
        info.remotePort = route?.unixSocket ? undefined : raw.remotePort;
        cb(null, socket);
      };
      const timer = setTimeout(() => finish(Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), timeoutMs);
      try {
        if (route?.unixSocket) {
          raw = net.connect({ path: (route.unixSocket.abstract ? '\0' : '') + route.unixSocket.path });
        } else {
          const to = connectTarget(route, name, port);
          const localAddress = route?.interface ? localAddressFor(route.interface, route.family, to.host) : undefined;
          raw = net.connect({ host: to.host, port: to.port, ...(route?.family ? { family: route.family } : {}), ...(localAddress ? { localAddress } : {}) });
        }
      } catch (e) {
        socket = undefined as unknown as net.Socket;
        raw = undefined as unknown as net.Socket;
        clearTimeout(timer);
        done = true;
        cb(Object.assign(e as Error, { code: (e as NodeJS.ErrnoException).code ?? 'W403_ROUTE' }), null);
        return;
      }
      raw.once('connect', () => (info.connect = round(performance.now() - start)));
      raw.once('error', (e) => finish(e));
      if (opts.protocol === 'https:') {
        const alpn = route?.tls?.alpn === false ? undefined : route?.http2 ? ['h2', 'http/1.1'] : ['http/1.1'];
        const t = tls.connect({ socket: raw, servername: opts.servername ?? (net.isIP(name) ? undefined : name), host: name, ...tlsOptions(route, insecure), ...(alpn ? { ALPNProtocols: alpn } : {}) });
        socket = t;
        t.once('secureConnect', () => {
          info.tls_ms = round(performance.now() - start - (info.connect ?? 0));
          info.tls = { protocol: t.getProtocol() ?? undefined, cipher: t.getCipher()?.name, ...describeCert(t.getPeerCertificate()) };
          if (t.alpnProtocol) info.alpn = t.alpnProtocol;
          finish(null);
        });
        t.once('error', (e) => finish(e));
      } else {
        socket = raw;
        raw.once('connect', () => finish(null));
      }
    },
  });
}

/** Refuses a route this sender cannot take through a proxy, naming the option (exit 2). */
function assertProxyRoute(route: Route | undefined, proxyUrl: string): void {
  if (!route) return;
  const p = new URL(proxyUrl);
  const bad = (what: string) => {
    throw new UsageError(`${what} together with a proxy (${shownProxy(proxyUrl)}) is not supported by check; run without one of them`);
  };
  if (p.protocol !== 'http:') bad(`a ${p.protocol.replace(/:$/, '')}:// proxy`);
  if (route.unixSocket) bad(route.unixSocket.abstract ? '--abstract-unix-socket' : '--unix-socket');
  if (route.interface) bad('--interface');
  if (route.http2) bad('--http2');
  if (route.connectTo?.length) bad('--connect-to');
  const viaResolve = routeMatches({ resolve: route.resolve }, p);
  if (viaResolve) bad(viaResolve);
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
  const shown = proxyUrl ? shownProxy(proxyUrl) : undefined;
  const host = atProxy ? `the proxy ${shown} (for ${target})` : proxyUrl ? `${target} (through the proxy ${shown})` : target;
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
      case 'zstd':
        return zlib.zstdDecompressSync(buf);
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
      proxy: { url: shownProxy(proxy.url ?? ''), used: true, reason: proxy.reason, refusedTunnel: status },
      receivedAt: new Date().toISOString(),
    },
    notes: [`The proxy ${shownProxy(proxy.url ?? '')} answered the CONNECT to ${target.hostname}:${port} with ${status}: the request never reached ${target.host}. Its response headers are not available.`],
    source: { kind: 'live', name: req.url },
  };
}

const SECRET_ON_REDIRECT = ['authorization', 'cookie', 'proxy-authorization'];

function cookiePairs(headers: NameValue[]): string[] {
  return headers.filter((h) => h.name.toLowerCase() === 'cookie').flatMap((h) => h.value.split(/;\s*/)).filter(Boolean);
}

export async function sendRequest(req: ExchangeRequest, opts: SendOptions = {}): Promise<Exchange> {
  const timeoutMs = opts.timeoutMs ?? 15000;
  const maxBody = opts.maxBody ?? 256 * 1024;
  const maxRedirects = opts.followRedirects === false ? 0 : (opts.maxRedirects ?? 5);
  const route = opts.route;
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new UsageError(`"${req.url}" is not a URL (expected e.g. https://api.example.com/path)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${req.url}: only http and https URLs can be checked`);
  if (route?.http2 && url.protocol === 'http:') throw new UsageError(`--http2 with an http:// URL (curl would ask the server to upgrade to h2c) is not supported by check; run without --http2`);

  const started = new Date();
  const t0 = performance.now();
  const redirects: Trace['redirects'] = [];
  const notes: string[] = route?.describe?.length ? [`Sent as the curl command says: ${route.describe.join('; ')}.`] : [];
  let current = { ...req, url: url.href };
  let info: ConnInfo = {};
  // The cookie engine (curl -b FILE): a copy, so a probe starts from the file's cookies.
  const jar = route?.cookieJar?.map((c) => ({ ...c }));
  const fromJar = new Set(jar ? cookiesFor(jar, url).map((c) => `${c.name}=${c.value}`) : []);
  let userCookies = jar ? cookiePairs(req.headers).filter((p) => !fromJar.has(p)) : [];
  let proxy = proxyFor(url, opts.env, route);
  for (let hop = 0; ; hop++) {
    info = {};
    const target = new URL(current.url);
    proxy = proxyFor(target, opts.env, route);
    if (proxy.used) assertProxyRoute(route, proxy.url!);
    const proxyHeaders: Record<string, string> = {};
    for (const h of route?.proxyHeaders ?? []) proxyHeaders[h.name] = h.value;
    const dispatcher: Dispatcher = proxy.used
      ? // Plain http goes to the proxy in absolute form, as curl does, so a proxy's
        // own refusal comes back as a response to diagnose; https needs a tunnel.
        new ProxyAgent({
          uri: proxy.url!,
          proxyTunnel: target.protocol === 'https:' || Boolean(route?.proxyTunnel),
          requestTls: tlsOptions(route, Boolean(opts.insecure)),
          ...(route?.family ? { proxyTls: { family: route.family } as ProxyAgent.Options['proxyTls'] } : {}),
          ...(route?.proxyUser ? { token: `Basic ${Buffer.from(`${route.proxyUser.user}:${route.proxyUser.password}`, 'utf8').toString('base64')}` } : {}),
          ...(Object.keys(proxyHeaders).length ? { headers: proxyHeaders } : {}),
        })
      : recordingAgent(info, Boolean(opts.insecure), timeoutMs, route);
    // A null-prototype object: a header named "constructor" or "__proto__" is a
    // header like any other. A repeated header goes on lines of its own, as curl sends it.
    const headers: Record<string, string | string[]> = Object.create(null);
    for (const h of current.headers) {
      const k = h.name.toLowerCase();
      if (k === 'content-length' || k === 'connection' || k.startsWith(':')) continue;
      const had = headers[h.name];
      headers[h.name] = had === undefined ? h.value : [...(Array.isArray(had) ? had : [had]), h.value];
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
      if ((err as NodeJS.ErrnoException)?.code === 'W403_ROUTE') throw new UsageError((err as Error).message);
      throw networkError(err, target.href, timeoutMs, proxy.used ? proxy.url : undefined);
    }
    const firstByte = round(performance.now() - tSend);
    const location = res.headers.location;
    const loc = Array.isArray(location) ? location[0] : location;
    redirects.push({ url: target.href, status: res.statusCode, ...(loc ? { location: loc } : {}) });
    const method = current.method.toUpperCase();
    // curl -L turns a POST into a GET on 301 and 302, and anything but HEAD into a GET on 303.
    const asGet = Boolean(route?.curlRedirects) && ((method === 'POST' && (res.statusCode === 301 || res.statusCode === 302)) || (res.statusCode === 303 && method !== 'HEAD' && method !== 'GET'));
    const nextMethod = asGet ? 'GET' : method;
    const isRedirect = res.statusCode >= 300 && res.statusCode < 400 && Boolean(loc);
    if (isRedirect && hop < maxRedirects && (nextMethod === 'GET' || nextMethod === 'HEAD')) {
      const setCookies = res.headers['set-cookie'];
      await res.body.dump().catch(() => {});
      await dispatcher.close().catch(() => {});
      const next = new URL(loc!, target);
      if (jar && setCookies) storeSetCookies(jar, target, Array.isArray(setCookies) ? setCookies : [setCookies]);
      // Like fetch and curl: credentials do not follow a redirect to another origin.
      const sameOrigin = next.origin === target.origin;
      if (!sameOrigin) userCookies = [];
      let nextHeaders = sameOrigin ? current.headers : current.headers.filter((h) => !SECRET_ON_REDIRECT.includes(h.name.toLowerCase()));
      if (asGet) nextHeaders = nextHeaders.filter((h) => !['content-type', 'content-length'].includes(h.name.toLowerCase()));
      if (jar) {
        const pairs = [...cookiesFor(jar, next).map((c) => `${c.name}=${c.value}`), ...userCookies];
        nextHeaders = [...nextHeaders.filter((h) => h.name.toLowerCase() !== 'cookie'), ...(pairs.length ? [{ name: 'Cookie', value: pairs.join('; ') }] : [])];
      }
      if (route?.autoReferer) {
        const ref = new URL(target.href);
        ref.username = ref.password = ref.hash = '';
        nextHeaders = [...nextHeaders.filter((h) => h.name.toLowerCase() !== 'referer'), { name: 'Referer', value: ref.href }];
      }
      current = { ...current, method: nextMethod, url: next.href, headers: nextHeaders };
      if (asGet) delete current.postData;
      continue;
    }
    if (isRedirect && hop < maxRedirects && route?.curlRedirects)
      notes.push(`curl -L would send ${method} to ${new URL(loc!, target).href} again, with its body; check sends a method that may change data once only, so it stopped at this ${res.statusCode}.`);
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
    const httpVersion = info.alpn === 'h2' ? 'HTTP/2' : 'HTTP/1.1';
    const trace: Trace = {
      redirects,
      ...(info.remoteAddress ? { remoteAddress: info.remoteAddress, remotePort: info.remotePort } : {}),
      ...(info.tls ? { tls: info.tls } : {}),
      timings: { ...(info.connect !== undefined ? { connect: info.connect } : {}), ...(info.tls_ms !== undefined ? { tls: info.tls_ms } : {}), firstByte, total: round(performance.now() - t0) },
      proxy: { url: proxy.url ? shownProxy(proxy.url) : '', used: proxy.used, reason: proxy.reason },
      receivedAt: new Date().toISOString(),
    };
    return {
      request: { ...current, url: target.href, httpVersion },
      response: {
        status: res.statusCode,
        // The reason phrase as the server sent it (Tomcat sends none).
        statusText: res.statusText ?? '',
        httpVersion,
        headers: resHeaders,
        content: { size: body.size, mimeType: ct, text, ...(isText(ct) ? {} : { encoding: 'base64' }), ...(body.truncated ? { truncated: true } : {}) },
        ...(loc ? { redirectURL: loc } : {}),
      },
      startedDateTime: started.toISOString(),
      ...(info.remoteAddress ? { serverIPAddress: info.remoteAddress } : {}),
      trace,
      ...(notes.length ? { notes } : {}),
      source: { kind: 'live', name: req.url },
    };
  }
}
