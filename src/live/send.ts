// Sends one request with undici and records what a person debugging it
// would want to see: redirect chain, remote address, TLS, timings, headers,
// and the body up to a limit. It sends exactly what the user gave; it never
// adds credentials or source-address headers (design.md section 4). A Route
// (route.ts) carries how a curl command says the request travels: its proxy,
// --resolve, TLS settings, cookie engine; sendRequest honours it or refuses.
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { headerValue, type Exchange, type ExchangeRequest, type NameValue, type Trace } from '../model/exchange.ts';
import { NetworkError, UsageError } from '../errors.ts';
import { proxyFor } from './proxy.ts';
import { connectTarget, localAddressFor, routeMatches, shownProxy, type Route } from './route.ts';
import { cookiesFor, storeSetCookies } from './cookies.ts';
import { bodyNote, readBody, type BodyRead } from './body.ts';
import { isSecretHeader, redactUrl } from '../credentials/redact.ts';

export { decodeBody } from './body.ts';

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
  /** The first bytes the server sent (up to the header limit), to tell what arrived when the headers overflow it. */
  head?: Buffer[];
}

/**
 * The most response-header bytes check reads. undici's default (Node's, 16 KB)
 * turned a server's oversized headers into a network failure; check reads up
 * to this much, diagnoses it, and says what arrived when a server sends more.
 */
export const MAX_HEADER_SIZE = 256 * 1024;

/**
 * Keeps a copy of the response head a socket receives — status line and
 * header lines, up to `cap` bytes, none of the body — without changing how
 * the stream is read: every received chunk passes through push(), whoever
 * reads it.
 */
function recordHead(socket: net.Socket, info: ConnInfo, cap: number): void {
  let head = Buffer.alloc(0);
  let done = false;
  info.head = [];
  const push = socket.push;
  socket.push = function (this: net.Socket, chunk: unknown, encoding?: BufferEncoding) {
    if (!done && chunk != null) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), encoding);
      head = Buffer.concat([head, b.subarray(0, cap - head.length)]);
      for (let end = head.indexOf('\r\n\r\n'); end >= 0; end = head.indexOf('\r\n\r\n')) {
        // An interim 1xx response is not the answer: skip it.
        if (!/^HTTP\/\d(\.\d)? 1\d\d/.test(head.subarray(0, 16).toString('latin1'))) {
          head = head.subarray(0, end + 4);
          done = true;
          break;
        }
        head = head.subarray(end + 4);
      }
      if (head.length >= cap) done = true;
      info.head = [head];
    }
    return push.call(this, chunk, encoding);
  } as net.Socket['push'];
}

const round = (n: number) => Math.round(n * 10) / 10;

function describeCert(cert: tls.PeerCertificate | undefined): { subject?: string; issuer?: string; validTo?: string } {
  if (!cert || !Object.keys(cert).length) return {};
  const name = (o: Record<string, unknown> | undefined) =>
    o
      ? ['CN', 'O']
          .map((k) => o[k])
          .filter(Boolean)
          .join(', ')
      : undefined;
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
    maxHeaderSize: MAX_HEADER_SIZE,
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
        if (info.alpn !== 'h2') recordHead(socket, info, MAX_HEADER_SIZE + 8 * 1024);
        cb(null, socket);
      };
      const timer = setTimeout(
        () =>
          finish(
            Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
          ),
        timeoutMs,
      );
      try {
        if (route?.unixSocket) {
          raw = net.connect({ path: (route.unixSocket.abstract ? '\0' : '') + route.unixSocket.path });
        } else {
          const to = connectTarget(route, name, port);
          const localAddress = route?.interface ? localAddressFor(route.interface, route.family, to.host) : undefined;
          raw = net.connect({
            host: to.host,
            port: to.port,
            ...(route?.family ? { family: route.family } : {}),
            ...(localAddress ? { localAddress } : {}),
          });
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
        const t = tls.connect({
          socket: raw,
          servername: opts.servername ?? (net.isIP(name) ? undefined : name),
          host: name,
          ...tlsOptions(route, insecure),
          ...(alpn ? { ALPNProtocols: alpn } : {}),
        });
        socket = t;
        t.once('secureConnect', () => {
          info.tls_ms = round(performance.now() - start - (info.connect ?? 0));
          info.tls = {
            protocol: t.getProtocol() ?? undefined,
            cipher: t.getCipher()?.name,
            ...describeCert(t.getPeerCertificate()),
          };
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
    throw new UsageError(
      `${what} together with a proxy (${shownProxy(proxyUrl)}) is not supported by check; run without one of them`,
    );
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
  const e = err as {
    code?: string;
    message?: string;
    address?: string;
    port?: number;
    cause?: { code?: string; message?: string; address?: string; port?: number };
  };
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
  const host = atProxy
    ? `the proxy ${shown} (for ${target})`
    : proxyUrl
      ? `${target} (through the proxy ${shown})`
      : target;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new NetworkError(
      `${host}: the host name does not resolve (${code}); check the URL and your DNS`,
      'W403_DNS',
      { cause: err },
    );
  if (code === 'ECONNREFUSED')
    return new NetworkError(`${host}: connection refused; nothing is listening there`, 'W403_CONNECT', { cause: err });
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')
    return new NetworkError(`${host}: the connection was closed before a response arrived (${code})`, 'W403_CONNECT', {
      cause: err,
    });
  if (code === 'UND_ERR_HEADERS_OVERFLOW')
    return new NetworkError(
      `${host}: the server sent more response headers than the client reads (its header size limit), so neither status nor body could be kept; a proxy or server limit often answers 431, 400 or 403 for header blocks this large`,
      'W403_HEADERS_OVERFLOW',
      { cause: err },
    );
  if (/TIMEOUT/.test(code) || code === 'ETIMEDOUT' || (e.message ?? '').includes('aborted due to timeout'))
    return new NetworkError(`${host}: no response within ${timeoutMs} ms (raise it with --timeout)`, 'W403_TIMEOUT', {
      cause: err,
    });
  if (/CERT|SSL|TLS|SELF_SIGNED|ERR_TLS/i.test(code) || /certificate|SSL|TLS/i.test(e.message ?? ''))
    return new NetworkError(
      `${host}: TLS failed: ${e.message ?? code} (--insecure skips certificate verification for diagnosis)`,
      'W403_TLS',
      { cause: err },
    );
  return new NetworkError(
    `${host}: request failed: ${e.message ?? String(err)}${code ? ` (${code})` : ''}`,
    'W403_NETWORK',
    { cause: err },
  );
}

export const isText = (ct: string) =>
  /^(text\/|application\/(.+\+)?(json|xml|problem\+json|javascript|x-www-form-urlencoded))/i.test(ct) || ct === '';

function tunnelRefusal(
  req: ExchangeRequest,
  current: ExchangeRequest,
  target: URL,
  status: number,
  proxy: ReturnType<typeof proxyFor>,
  started: Date,
  t0: number,
): Exchange {
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return {
    request: { ...current, url: target.href, httpVersion: 'HTTP/1.1' },
    response: {
      status,
      statusText: '',
      httpVersion: 'HTTP/1.1',
      headers: [],
      content: { size: 0, mimeType: '', text: '' },
    },
    startedDateTime: started.toISOString(),
    trace: {
      redirects: [{ url: target.href, status }],
      timings: { total: round(performance.now() - t0) },
      proxy: { url: shownProxy(proxy.url ?? ''), used: true, reason: proxy.reason, refusedTunnel: status },
      receivedAt: new Date().toISOString(),
    },
    notes: [
      `The proxy ${shownProxy(proxy.url ?? '')} answered the CONNECT to ${target.hostname}:${port} with ${status}: the request never reached ${target.host}. Its response headers are not available.`,
    ],
    source: { kind: 'live', name: req.url },
  };
}

/** A 16 KB header block is where Node.js (and so most Node clients) stops by default. */
const COMMON_HEADER_LIMIT = 16 * 1024;

const kb = (n: number) => `${Math.round((n / 1024) * 10) / 10} KB`;

/** Header bytes as they were on the wire, near enough: "name: value" and CRLF per line. */
const headerBytes = (headers: NameValue[]) => headers.reduce((n, h) => n + h.name.length + h.value.length + 4, 0);

function bigHeadersConsequence(headers: NameValue[]): string {
  const cookies = headers.filter((h) => h.name.toLowerCase() === 'set-cookie').length;
  return `${cookies > 1 ? `${cookies} of them are Set-Cookie: cookies piling up, which the browser then sends back, and a request header that large is what a proxy or server limit answers 431, 400 or 403 for` : 'a proxy, load balancer or server limit often answers 431, 400 or 403 for header blocks this large (and a reverse proxy in front answers 502 for a response like this)'}.`;
}

/** The status line and header lines of what a server sent, as far as it arrived (headers whole lines only). */
export function parseHead(
  head: Buffer[] | undefined,
): { status: number; statusText: string; httpVersion: string; headers: NameValue[] } | undefined {
  if (!head?.length) return undefined;
  const text = Buffer.concat(head).toString('latin1');
  const status = /^HTTP\/(\d(?:\.\d)?) (\d{3})(?: ([^\r\n]*))?\r?\n/.exec(text);
  if (!status) return undefined;
  const lines = text.slice(status[0].length).split('\n');
  // The last line may have been cut by the limit.
  lines.pop();
  const headers: NameValue[] = [];
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (!line) break;
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return { status: Number(status[2]), statusText: status[3] ?? '', httpVersion: `HTTP/${status[1]}`, headers };
}

/** Two requests are the same when they put the same bytes on the wire. */
const requestSignature = (r: ExchangeRequest) =>
  JSON.stringify([
    r.method.toUpperCase(),
    r.url,
    r.headers.map((h) => `${h.name.toLowerCase()}:${h.value}`).sort(),
    r.postData?.text ?? null,
  ]);

function cookiePairs(headers: NameValue[]): string[] {
  return headers
    .filter((h) => h.name.toLowerCase() === 'cookie')
    .flatMap((h) => h.value.split(/;\s*/))
    .filter(Boolean);
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
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${req.url}: only http and https URLs can be checked`);
  if (route?.http2 && url.protocol === 'http:')
    throw new UsageError(
      `--http2 with an http:// URL (curl would ask the server to upgrade to h2c) is not supported by check; run without --http2`,
    );

  const started = new Date();
  const t0 = performance.now();
  const redirects: Trace['redirects'] = [];
  const notes: string[] = route?.describe?.length
    ? [`Sent as the curl command says: ${route.describe.join('; ')}.`]
    : [];
  let current = { ...req, url: url.href };
  let info: ConnInfo = {};
  // The cookie engine (curl -b FILE): a copy, so a probe starts from the file's cookies.
  const jar = route?.cookieJar?.map((c) => ({ ...c }));
  const fromJar = new Set(jar ? cookiesFor(jar, url).map((c) => `${c.name}=${c.value}`) : []);
  let userCookies = jar ? cookiePairs(req.headers).filter((p) => !fromJar.has(p)) : [];
  let proxy = proxyFor(url, opts.env, route);
  // Every request sent on the way, by what it put on the wire: the hop it was.
  const sent = new Map<string, number>();
  const traceOf = (firstByte?: number): Trace => ({
    redirects,
    ...(info.remoteAddress ? { remoteAddress: info.remoteAddress, remotePort: info.remotePort } : {}),
    ...(info.tls ? { tls: info.tls } : {}),
    timings: {
      ...(info.connect !== undefined ? { connect: info.connect } : {}),
      ...(info.tls_ms !== undefined ? { tls: info.tls_ms } : {}),
      ...(firstByte !== undefined ? { firstByte } : {}),
      total: round(performance.now() - t0),
    },
    proxy: { url: proxy.url ? shownProxy(proxy.url) : '', used: proxy.used, reason: proxy.reason },
    receivedAt: new Date().toISOString(),
  });
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
          maxHeaderSize: MAX_HEADER_SIZE,
          ...(route?.family ? { proxyTls: { family: route.family } as ProxyAgent.Options['proxyTls'] } : {}),
          ...(route?.proxyUser
            ? {
                token: `Basic ${Buffer.from(`${route.proxyUser.user}:${route.proxyUser.password}`, 'utf8').toString('base64')}`,
              }
            : {}),
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
      const refused = proxy.used
        ? /Proxy response \((\d{3})\) !== 200 when HTTP Tunneling/.exec(String((err as Error)?.message))
        : null;
      if (refused) return tunnelRefusal(req, current, target, Number(refused[1]), proxy, started, t0);
      if ((err as NodeJS.ErrnoException)?.code === 'W403_ROUTE') throw new UsageError((err as Error).message);
      if ((err as NodeJS.ErrnoException)?.code === 'UND_ERR_HEADERS_OVERFLOW') {
        // The server sent more header bytes than check reads. When the status
        // line and some headers arrived, they are the answer to diagnose.
        const head = parseHead(info.head);
        const limit = `more than ${kb(MAX_HEADER_SIZE)} of response headers`;
        if (!head)
          throw new NetworkError(
            `${target.host}${proxy.used ? ` (through the proxy ${shownProxy(proxy.url!)})` : ''}: the server sent ${limit} (check's limit), so neither status nor body could be kept; a proxy or server limit often answers 431, 400 or 403 for header blocks this large`,
            'W403_HEADERS_OVERFLOW',
            { cause: err },
          );
        redirects.push({ url: target.href, status: head.status });
        notes.push(
          `The server sent ${limit} (check's limit; Node.js stops at ${kb(COMMON_HEADER_LIMIT)}): check read the status line and the first ${head.headers.length} header lines, and no body. ${bigHeadersConsequence(head.headers).replace(/^./, (c) => c.toUpperCase())}`,
        );
        return {
          request: { ...current, url: target.href, httpVersion: head.httpVersion },
          response: {
            status: head.status,
            statusText: head.statusText,
            httpVersion: head.httpVersion,
            headers: head.headers,
            content: { size: 0, mimeType: headerValue(head.headers, 'content-type') ?? '', text: '', truncated: true },
          },
          startedDateTime: started.toISOString(),
          ...(info.remoteAddress ? { serverIPAddress: info.remoteAddress } : {}),
          trace: traceOf(),
          notes,
          source: { kind: 'live', name: req.url },
        };
      }
      throw networkError(err, target.href, timeoutMs, proxy.used ? proxy.url : undefined);
    }
    const firstByte = round(performance.now() - tSend);
    const location = res.headers.location;
    const loc = Array.isArray(location) ? location[0] : location;
    redirects.push({ url: target.href, status: res.statusCode, ...(loc ? { location: loc } : {}) });
    sent.set(requestSignature(current), redirects.length - 1);
    const method = current.method.toUpperCase();
    // curl -L turns a POST into a GET on 301 and 302, and anything but HEAD into a GET on 303.
    const asGet =
      Boolean(route?.curlRedirects) &&
      ((method === 'POST' && (res.statusCode === 301 || res.statusCode === 302)) ||
        (res.statusCode === 303 && method !== 'HEAD' && method !== 'GET'));
    const nextMethod = asGet ? 'GET' : method;
    const isRedirect = res.statusCode >= 300 && res.statusCode < 400 && Boolean(loc);
    if (isRedirect && opts.followRedirects !== false && (nextMethod === 'GET' || nextMethod === 'HEAD')) {
      const next = new URL(loc!, target);
      // The chain from where it first reached `next` back to it, when it did.
      const cycle = () => {
        const first = redirects.findIndex((r) => r.url === next.href);
        return first < 0
          ? undefined
          : `Redirect loop: ${[...redirects.slice(first).map((r) => r.url), next.href].map(redactUrl).join(' → ')}`;
      };
      const n = redirects.length - 1;
      const times = (k: number) => `${k} redirect${k === 1 ? '' : 's'}`;
      if (hop >= maxRedirects) {
        const loop = cycle();
        notes.push(
          `${loop ? `${loop}. ` : ''}Following stopped after ${times(n)} (limit ${maxRedirects}): the answer shown is the ${res.statusCode} to ${redactUrl(next.href)}, not followed.`,
        );
      } else {
        const setCookies = res.headers['set-cookie'];
        // A copy: when following stops here, the jar is what it was.
        const nextJar = jar?.map((c) => ({ ...c }));
        if (nextJar && setCookies)
          storeSetCookies(nextJar, target, Array.isArray(setCookies) ? setCookies : [setCookies]);
        // Like fetch and curl: credentials do not follow a redirect to another
        // origin — every header the redactor treats as a secret (Authorization,
        // Cookie, Proxy-Authorization, X-Api-Key and the like).
        const sameOrigin = next.origin === target.origin;
        const stripped = sameOrigin
          ? []
          : [...new Set(current.headers.filter((h) => isSecretHeader(h.name)).map((h) => h.name))];
        let nextHeaders = sameOrigin ? current.headers : current.headers.filter((h) => !isSecretHeader(h.name));
        if (asGet)
          nextHeaders = nextHeaders.filter((h) => !['content-type', 'content-length'].includes(h.name.toLowerCase()));
        const nextUserCookies = sameOrigin ? userCookies : [];
        if (nextJar) {
          const pairs = [...cookiesFor(nextJar, next).map((c) => `${c.name}=${c.value}`), ...nextUserCookies];
          nextHeaders = [
            ...nextHeaders.filter((h) => h.name.toLowerCase() !== 'cookie'),
            ...(pairs.length ? [{ name: 'Cookie', value: pairs.join('; ') }] : []),
          ];
        }
        if (route?.autoReferer) {
          const ref = new URL(target.href);
          ref.username = ref.password = ref.hash = '';
          nextHeaders = [
            ...nextHeaders.filter((h) => h.name.toLowerCase() !== 'referer'),
            { name: 'Referer', value: ref.href },
          ];
        }
        const nextReq: ExchangeRequest = { ...current, method: nextMethod, url: next.href, headers: nextHeaders };
        if (asGet) delete nextReq.postData;
        if (sent.has(requestSignature(nextReq))) {
          // The very request already sent, answered with this redirect: sending it again would go round.
          notes.push(
            `${cycle() ?? `Redirect loop: ${redactUrl(next.href)} again`}. Following stopped after ${times(n)} (limit ${maxRedirects}): the next request would repeat one already sent; the answer shown is the ${res.statusCode} to it.`,
          );
        } else {
          await res.body.dump().catch(() => {});
          await dispatcher.close().catch(() => {});
          if (jar && nextJar) jar.splice(0, jar.length, ...nextJar);
          userCookies = nextUserCookies;
          if (stripped.length)
            notes.push(
              `The redirect from ${target.origin} to ${next.origin} crosses origins: ${stripped.join(', ')} ${stripped.length === 1 ? 'was' : 'were'} not sent on (credentials do not follow a redirect to another origin, as with curl and browsers).`,
            );
          current = nextReq;
          continue;
        }
      }
    }
    if (isRedirect && hop < maxRedirects && route?.curlRedirects && nextMethod !== 'GET' && nextMethod !== 'HEAD')
      notes.push(
        `curl -L would send ${method} to ${new URL(loc!, target).href} again, with its body; check sends a method that may change data once only, so it stopped at this ${res.statusCode}.`,
      );
    const encoding = [res.headers['content-encoding'] ?? []].flat().join(', ');
    let body: BodyRead;
    try {
      body = await readBody(res.body, encoding, maxBody);
    } catch (err) {
      await dispatcher.close().catch(() => {});
      throw networkError(err, target.href, timeoutMs, proxy.used ? proxy.url : undefined);
    }
    await dispatcher.close().catch(() => {});
    const resHeaders = toHeaderList(res.headers as Record<string, string | string[]>);
    const bodySaid = bodyNote(body, maxBody, encoding);
    if (bodySaid) notes.push(bodySaid);
    const headerSize = headerBytes(resHeaders);
    if (headerSize > COMMON_HEADER_LIMIT)
      notes.push(
        `The response's headers are ${kb(headerSize)}, more than the ${kb(COMMON_HEADER_LIMIT)} Node.js and many clients and proxies accept (check reads up to ${kb(MAX_HEADER_SIZE)}): ${bigHeadersConsequence(resHeaders)}`,
      );
    const ct = String(res.headers['content-type'] ?? '');
    const text = isText(ct) ? body.buf.toString('utf8') : body.buf.toString('base64');
    const httpVersion = info.alpn === 'h2' ? 'HTTP/2' : 'HTTP/1.1';
    return {
      request: { ...current, url: target.href, httpVersion },
      response: {
        status: res.statusCode,
        // The reason phrase as the server sent it (Tomcat sends none).
        statusText: res.statusText ?? '',
        httpVersion,
        headers: resHeaders,
        content: {
          size: body.size,
          mimeType: ct,
          text,
          ...(isText(ct) ? {} : { encoding: 'base64' }),
          ...(body.truncated ? { truncated: true } : {}),
        },
        ...(loc ? { redirectURL: loc } : {}),
      },
      startedDateTime: started.toISOString(),
      ...(info.remoteAddress ? { serverIPAddress: info.remoteAddress } : {}),
      trace: traceOf(firstByte),
      ...(notes.length ? { notes } : {}),
      source: { kind: 'live', name: req.url },
    };
  }
}
