// The route a curl command names, honoured against real servers on
// 127.0.0.1: each test reads a curl argv as `check -- curl …` does
// (curlForCheck) and sends it as check does (sendRequest), then looks at
// what the server, or the proxy, received.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { sendRequest, type SendOptions } from './send.ts';
import { curlForCheck } from '../importers/curl-options.ts';
import { NetworkError, UsageError } from '../errors.ts';
import type { Exchange } from '../model/exchange.ts';
import { forwardProxy, type ProxiedRequest } from '../../test/servers/forward-proxy.ts';
import { selfSignedCertificate } from './test-certificates.ts';

interface Seen {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
  remote?: string;
  servername?: string;
  clientCert?: string;
  httpVersion: string;
}

const dir = mkdtempSync(join(tmpdir(), 'why403-route-'));
const seen: Seen[] = [];
const servers: net.Server[] = [];
let plain = 0; // http port
let secure = 0; // https port, certificate for api.why403.test and 127.0.0.1
let h2port = 0;
let mtls = 0; // https asking for a client certificate
/** What the test proxy was asked, since the last reset. */
let proxied: ProxiedRequest[] = [];
let proxyPort = 0;
const socketPath = join(dir, 'app.sock');

function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function app(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
): void {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const sock = req.socket as tls.TLSSocket;
    const cert = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
    seen.push({
      method: req.method!,
      url: req.url!,
      headers: pairs(req.rawHeaders),
      body,
      remote: sock.remoteAddress,
      servername: (sock as { servername?: string }).servername || undefined,
      clientCert: cert && cert.subject ? String(cert.subject.CN) : undefined,
      httpVersion: req.httpVersion,
    });
    const r = res as http.ServerResponse;
    const path = req.url!.split('?')[0];
    if (path === '/login')
      return r.writeHead(302, { location: '/home/inside', 'set-cookie': 'fresh=f1; Path=/home' }).end();
    if (path === '/post-redirect') return r.writeHead(302, { location: '/after' }).end();
    if (path === '/post-307') return r.writeHead(307, { location: '/after' }).end();
    if (path === '/hop') return r.writeHead(301, { location: '/after' }).end();
    if (path === '/zstd')
      return r
        .writeHead(403, { 'content-type': 'text/plain', 'content-encoding': 'zstd' })
        .end(zlib.zstdCompressSync('zstd body'));
    r.writeHead(403, { 'content-type': 'text/plain' }).end('denied');
  });
}

before(async () => {
  selfSignedCertificate(dir, 'server', '/CN=api.why403.test', 'DNS:api.why403.test,IP:127.0.0.1');
  selfSignedCertificate(dir, 'client', '/CN=why403-client');
  const key = readFileSync(join(dir, 'server.key'));
  const cert = readFileSync(join(dir, 'server.pem'));
  plain = await listen(http.createServer(app));
  secure = await listen(https.createServer({ key, cert }, app));
  h2port = await listen(http2.createSecureServer({ key, cert, allowHTTP1: true }, app));
  mtls = await listen(https.createServer({ key, cert, requestCert: true, rejectUnauthorized: false }, app));
  const unix = http.createServer(app);
  servers.push(unix);
  await new Promise<void>((resolve) => unix.listen(socketPath, resolve));
  // A forward proxy: absolute-form http, CONNECT for the rest; it records what it was asked.
  const fp = forwardProxy();
  const proxy = fp.server;
  proxied = fp.proxied;
  proxyPort = await listen(proxy);
});

after(() => {
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** `check -- curl ARGS…` without the diagnosis: what curlForCheck reads, sent as check sends it. */
async function curl(args: string[], extra: SendOptions = {}): Promise<Exchange> {
  const c = await curlForCheck(['curl', ...args]);
  return sendRequest(c.request, {
    env: {},
    route: c.route,
    insecure: c.insecure,
    followRedirects: c.maxRedirects !== undefined,
    ...(c.maxRedirects !== undefined ? { maxRedirects: c.maxRedirects } : {}),
    ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}),
    ...extra,
  });
}

const last = () => seen[seen.length - 1]!;
const header = (s: Seen, name: string) =>
  s.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);

test('-x: the request goes through that proxy (absolute form for http, CONNECT for https), with -U as Proxy-Authorization', async () => {
  proxied.length = 0;
  const ex = await curl([
    '-x',
    `127.0.0.1:${proxyPort}`,
    '-U',
    'bob:proxy-pw',
    '--proxy-header',
    'X-For-Proxy: 1',
    `http://127.0.0.1:${plain}/through`,
  ]);
  assert.equal(ex.response.status, 403);
  assert.equal(ex.trace?.proxy?.used, true);
  assert.match(ex.trace!.proxy!.reason, /given with -x in the curl command/);
  assert.deepEqual(
    proxied.map((p) => [p.kind, p.target]),
    [['absolute', `http://127.0.0.1:${plain}/through`]],
  );
  assert.equal(proxied[0]!.headers['proxy-authorization'], `Basic ${Buffer.from('bob:proxy-pw').toString('base64')}`);
  assert.equal(proxied[0]!.headers['x-for-proxy'], '1');
  proxied.length = 0;
  const tunnel = await curl([
    '-k',
    '-x',
    `http://alice:secret-proxy-password@127.0.0.1:${proxyPort}`,
    `https://127.0.0.1:${secure}/tunnelled`,
  ]);
  assert.equal(tunnel.response.status, 403);
  assert.deepEqual(
    proxied.map((p) => [p.kind, p.target]),
    [['connect', `127.0.0.1:${secure}`]],
  );
  assert.equal(
    proxied[0]!.headers['proxy-authorization'],
    `Basic ${Buffer.from('alice:secret-proxy-password').toString('base64')}`,
  );
  assert.ok(!JSON.stringify(tunnel).includes('secret-proxy-password'), 'the proxy password is not in the exchange');
  assert.match(tunnel.trace!.proxy!.url, /^http:\/\/alice:secret…\(21 chars\)@127\.0\.0\.1:\d+$/);
  assert.match(
    tunnel.notes!.join(' '),
    /Sent as the curl command says: TLS certificates not verified \(-k\); through the proxy http:\/\/alice:secret…/,
  );
});

test('-x replaces the environment proxy; -x "" turns proxies off; --noproxy replaces NO_PROXY; -p tunnels http', async () => {
  proxied.length = 0;
  const envProxy = { HTTP_PROXY: 'http://127.0.0.1:9' }; // nothing listens there
  const over = await curl(['-x', `http://127.0.0.1:${proxyPort}`, `http://127.0.0.1:${plain}/x`], { env: envProxy });
  assert.equal(over.trace?.proxy?.used, true);
  assert.equal(proxied.length, 1);
  const off = await curl(['-x', '', `http://127.0.0.1:${plain}/x`], { env: envProxy });
  assert.equal(off.trace?.proxy?.used, false);
  assert.match(off.trace!.proxy!.reason, /turns proxies off/);
  const bypass = await curl(
    ['-x', `http://127.0.0.1:${proxyPort}`, '--noproxy', '127.0.0.1', `http://127.0.0.1:${plain}/x`],
    { env: { NO_PROXY: 'other' } },
  );
  assert.equal(bypass.trace?.proxy?.used, false);
  assert.match(bypass.trace!.proxy!.reason, /matches --noproxy entry "127\.0\.0\.1"/);
  proxied.length = 0;
  await curl(['-p', '-x', `http://127.0.0.1:${proxyPort}`, `http://127.0.0.1:${plain}/x`]);
  assert.deepEqual(
    proxied.map((p) => p.kind),
    ['connect'],
  );
});

test('-k turns off certificate verification as check --insecure does; --cacert trusts a certificate instead', async () => {
  await assert.rejects(
    curl([`https://127.0.0.1:${secure}/`]),
    (e: unknown) => e instanceof NetworkError && e.code === 'W403_TLS',
  );
  const k = await curl(['-k', `https://127.0.0.1:${secure}/k`]);
  assert.equal(k.response.status, 403);
  assert.equal(k.trace?.tls?.subject, 'api.why403.test');
  const ca = await curl(['--cacert', join(dir, 'server.pem'), `https://127.0.0.1:${secure}/ca`]);
  assert.equal(ca.response.status, 403);
  const capath = mkdtempSync(join(dir, 'capath-'));
  writeFileSync(join(capath, 'a.pem'), readFileSync(join(dir, 'server.pem')));
  assert.equal((await curl(['--capath', capath, `https://127.0.0.1:${secure}/ca`])).response.status, 403);
});

test('--resolve maps a name to 127.0.0.1: Host, SNI and the certificate check keep the name', async () => {
  const ex = await curl([
    '--resolve',
    `api.why403.test:${secure}:127.0.0.1`,
    '--cacert',
    join(dir, 'server.pem'),
    `https://api.why403.test:${secure}/resolved`,
  ]);
  assert.equal(ex.response.status, 403);
  assert.equal(ex.trace?.remoteAddress, '127.0.0.1');
  assert.equal(last().url, '/resolved');
  assert.deepEqual(header(last(), 'host'), [`api.why403.test:${secure}`]);
  assert.equal(last().servername, 'api.why403.test');
  const h = await curl(['--resolve', `*:${plain}:127.0.0.1`, `http://anything.why403.test:${plain}/star`]);
  assert.equal(h.response.status, 403);
  assert.deepEqual(header(last(), 'host'), [`anything.why403.test:${plain}`]);
  // Without --resolve the name does not resolve (.test is reserved): the mapping is what made it work.
  await assert.rejects(curl([`http://api.why403.test:${plain}/`]), (e: unknown) => e instanceof NetworkError);
});

test('--connect-to sends the connection elsewhere and keeps the URL host', async () => {
  const ex = await curl(['--connect-to', `api.why403.test:80:127.0.0.1:${plain}`, 'http://api.why403.test/ct']);
  assert.equal(ex.response.status, 403);
  assert.equal(last().url, '/ct');
  assert.deepEqual(header(last(), 'host'), ['api.why403.test']);
});

test('--unix-socket connects to the socket', async () => {
  const ex = await curl(['--unix-socket', socketPath, 'http://localhost/via-socket']);
  assert.equal(ex.response.status, 403);
  assert.equal(last().url, '/via-socket');
  assert.deepEqual(header(last(), 'host'), ['localhost']);
});

test('--interface binds to a local address this machine has; -4 picks IPv4', async (t) => {
  try {
    await curl(['--interface', '127.0.0.2', `http://127.0.0.1:${plain}/iface`]);
  } catch (e) {
    t.skip(`127.0.0.2 cannot be bound here (${(e as Error).message})`);
    return;
  }
  assert.equal(last().remote, '127.0.0.2');
  await curl(['--interface', 'lo', `http://127.0.0.1:${plain}/iface`]);
  assert.equal(last().remote, '127.0.0.1');
  await assert.rejects(
    curl(['--interface', 'no-such-if0', `http://127.0.0.1:${plain}/`]),
    (e: unknown) => e instanceof UsageError && /--interface no-such-if0: this machine has no interface/.test(e.message),
  );
  const four = await curl(['-4', `http://localhost:${plain}/four`]);
  assert.equal(four.trace?.remoteAddress, '127.0.0.1');
});

test('-u sends Basic auth; -A, -e, -r and custom headers arrive as written; so do constructor and __proto__', async () => {
  await curl([
    '-u',
    'alice:pw',
    '-A',
    'agent/1',
    '-e',
    'http://ref.example/',
    '-r',
    '0-9',
    '-H',
    'constructor: c',
    '-H',
    '__proto__: p',
    '-H',
    'Host: vhost.example',
    `http://127.0.0.1:${plain}/h`,
  ]);
  const s = last();
  assert.deepEqual(header(s, 'authorization'), [`Basic ${Buffer.from('alice:pw').toString('base64')}`]);
  assert.deepEqual(header(s, 'user-agent'), ['agent/1']);
  assert.deepEqual(header(s, 'referer'), ['http://ref.example/']);
  assert.deepEqual(header(s, 'range'), ['bytes=0-9']);
  assert.deepEqual(header(s, 'constructor'), ['c']);
  assert.deepEqual(header(s, '__proto__'), ['p']);
  assert.deepEqual(header(s, 'host'), ['vhost.example'], 'a Host header of your own is sent, as curl sends it');
});

test('-L follows redirects as curl does: POST becomes GET on 302; a 307 is not followed with the body again; without -L nothing is followed', async () => {
  const none = await curl([`http://127.0.0.1:${plain}/hop`]);
  assert.equal(none.response.status, 301, 'curl does not follow without -L');
  const l = await curl(['-L', `http://127.0.0.1:${plain}/hop`]);
  assert.deepEqual(
    l.trace!.redirects.map((r) => r.status),
    [301, 403],
  );
  seen.length = 0;
  const post = await curl(['-L', '-d', 'a=1', `http://127.0.0.1:${plain}/post-redirect`]);
  assert.deepEqual(
    seen.map((s) => [s.method, s.url, s.body]),
    [
      ['POST', '/post-redirect', 'a=1'],
      ['GET', '/after', ''],
    ],
  );
  assert.equal(post.request?.method, 'GET');
  assert.deepEqual(header(seen[1]!, 'content-type'), []);
  seen.length = 0;
  const kept = await curl(['-L', '-d', 'a=1', `http://127.0.0.1:${plain}/post-307`]);
  assert.equal(kept.response.status, 307);
  assert.equal(seen.length, 1);
  assert.match(kept.notes!.join(' '), /curl -L would send POST to http:\/\/127\.0\.0\.1:\d+\/after again/);
  seen.length = 0;
  await curl(['-L', '--max-redirs', '0', `http://127.0.0.1:${plain}/hop`]);
  assert.equal(seen.length, 1);
  seen.length = 0;
  await curl(['-L', '-e', ';auto', `http://127.0.0.1:${plain}/hop`]);
  assert.deepEqual(
    header(seen[1]!, 'referer'),
    [`http://127.0.0.1:${plain}/hop`],
    '-e ";auto" sends the previous URL as Referer',
  );
});

test('-b FILE: the file cookies that match, then those a redirect sets (the cookie engine), as curl sends them', async () => {
  const jar = join(dir, 'jar.txt');
  writeFileSync(
    jar,
    `127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tfrom-file\n127.0.0.1\tFALSE\t/home\tFALSE\t0\thomeonly\th\n127.0.0.1\tFALSE\t/\tFALSE\t0\tgone\tx\n`,
  );
  seen.length = 0;
  await curl(['-L', '-b', jar, '-b', 'extra=1', `http://127.0.0.1:${plain}/login`]);
  assert.deepEqual(
    seen.map((s) => [s.url, header(s, 'cookie')]),
    [
      // As curl 7.88 sends them: longest path first, then longest name.
      ['/login', ['gone=x; sid=from-file; extra=1']],
      ['/home/inside', ['homeonly=h; fresh=f1; gone=x; sid=from-file; extra=1']],
    ],
  );
  seen.length = 0;
  await curl(['-L', '-b', 'a=1', `http://127.0.0.1:${plain}/login`]);
  assert.deepEqual(
    header(seen[1]!, 'cookie'),
    ['a=1'],
    "without a cookie file, no engine: the redirect's cookie is not sent",
  );
});

test('--compressed asks for deflate, gzip, br, zstd and the answer is decoded (zstd too)', async () => {
  const ex = await curl(['--compressed', `http://127.0.0.1:${plain}/zstd`]);
  assert.deepEqual(header(last(), 'accept-encoding'), ['deflate, gzip, br, zstd']);
  assert.equal(ex.response.content.text, 'zstd body');
});

test('--http2 negotiates HTTP/2 over TLS; without it check speaks HTTP/1.1', async () => {
  const h2 = await curl(['--http2', '-k', `https://127.0.0.1:${h2port}/two`]);
  assert.equal(last().httpVersion, '2.0');
  assert.equal(h2.response.httpVersion, 'HTTP/2');
  const h1 = await curl(['-k', `https://127.0.0.1:${h2port}/one`]);
  assert.equal(last().httpVersion, '1.1');
  assert.equal(h1.response.httpVersion, 'HTTP/1.1');
  await assert.rejects(
    curl(['--http2', '-x', `http://127.0.0.1:${proxyPort}`, '-k', `https://127.0.0.1:${h2port}/`]),
    (e: unknown) =>
      e instanceof UsageError && /--http2 together with a proxy .* is not supported by check/.test(e.message),
  );
});

test('--tls-max 1.2 and --ciphers are what the handshake uses', async () => {
  const ex = await curl([
    '-k',
    '--tls-max',
    '1.2',
    '--ciphers',
    'ECDHE-RSA-AES128-GCM-SHA256',
    `https://127.0.0.1:${secure}/tls`,
  ]);
  assert.equal(ex.trace?.tls?.protocol, 'TLSv1.2');
  assert.equal(ex.trace?.tls?.cipher, 'ECDHE-RSA-AES128-GCM-SHA256');
});

test('--cert and --key present a client certificate', async () => {
  await curl([
    '-k',
    '--cert',
    join(dir, 'client.pem'),
    '--key',
    join(dir, 'client.key'),
    `https://127.0.0.1:${mtls}/mtls`,
  ]);
  assert.equal(last().clientCert, 'why403-client');
  await curl(['-k', `https://127.0.0.1:${mtls}/mtls`]);
  assert.equal(last().clientCert, undefined);
});

test('-d @FILE and -G send what curl sends', async () => {
  const f = join(dir, 'form.txt');
  writeFileSync(f, 'a=1\nb=2\n');
  await curl(['-d', `@${f}`, `http://127.0.0.1:${plain}/form`]);
  assert.deepEqual(
    [last().method, last().body, header(last(), 'content-type')],
    ['POST', 'a=1b=2', ['application/x-www-form-urlencoded']],
  );
  await curl(['-G', '--data-urlencode', 'q=a b', `http://127.0.0.1:${plain}/search`]);
  assert.deepEqual([last().method, last().url], ['GET', '/search?q=a+b']);
});

test('a route the sender cannot take through a proxy is refused by name', async () => {
  for (const args of [
    ['--unix-socket', socketPath],
    ['--interface', 'lo'],
    ['--connect-to', `::127.0.0.1:${plain}`],
    ['--resolve', `proxy.why403.test:${proxyPort}:127.0.0.1`],
  ]) {
    const px = args[0] === '--resolve' ? `http://proxy.why403.test:${proxyPort}` : `http://127.0.0.1:${proxyPort}`;
    await assert.rejects(
      curl([...args, '-x', px, `http://127.0.0.1:${plain}/`]),
      (e: unknown) =>
        e instanceof UsageError && e.message.includes(`${args[0]}`) && e.message.includes('together with a proxy'),
      args.join(' '),
    );
  }
});

test('a header given twice goes on two lines, as curl sends it', async () => {
  const jar = join(dir, 'jar2.txt');
  writeFileSync(jar, `127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tfrom-file\n`);
  await curl([
    '-H',
    'X-Twice: 1',
    '-H',
    'X-Twice: 2',
    '-H',
    'Cookie: own=1',
    '-b',
    jar,
    `http://127.0.0.1:${plain}/twice`,
  ]);
  assert.deepEqual(header(last(), 'x-twice'), ['1', '2']);
  assert.deepEqual(header(last(), 'cookie'), ['sid=from-file', 'own=1']);
});
