import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import zlib from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { sendRequest } from './send.ts';
import { proxyFor } from './proxy.ts';
import { NetworkError } from '../errors.ts';
import { forwardProxy } from '../../test/servers/forward-proxy.ts';
import { selfSignedCertificate } from './test-certificates.ts';

const seen: { url: string; auth?: string; cookie?: string }[] = [];
let base = '';
let other = '';
const servers: net.Server[] = [];

function listen(server: net.Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

before(async () => {
  const app = http.createServer((req, res) => {
    seen.push({ url: req.url!, auth: req.headers.authorization, cookie: req.headers.cookie });
    if (req.url === '/redirect-same') return res.writeHead(302, { location: '/denied' }).end();
    if (req.url === '/redirect-other') return res.writeHead(302, { location: `http://${other}/denied` }).end();
    if (req.url === '/big') return res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(100_000));
    if (req.url === '/gzip')
      return res
        .writeHead(403, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
        .end(zlib.gzipSync('{"error":"forbidden"}'));
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 3000);
    res.writeHead(403, { 'content-type': 'text/plain', server: 'test' }).end('forbidden');
  });
  base = await listen(app);
  other = await listen(
    http.createServer((req, res) => {
      seen.push({ url: `other:${req.url}`, auth: req.headers.authorization, cookie: req.headers.cookie });
      res.writeHead(403).end('no');
    }),
  );
});
after(() => {
  for (const s of servers) s.close();
  (servers as unknown as { closeAllConnections?: () => void }[]).forEach((s) => s.closeAllConnections?.());
});

test('records status, headers, remote address and timings', async () => {
  const ex = await sendRequest(
    { method: 'GET', url: `http://${base}/denied`, headers: [{ name: 'Accept', value: 'text/plain' }] },
    { env: {} },
  );
  assert.equal(ex.response.status, 403);
  assert.equal(ex.response.statusText, 'Forbidden');
  assert.equal(ex.response.content.text, 'forbidden');
  assert.ok(ex.response.headers.some((h) => h.name === 'server' && h.value === 'test'));
  assert.equal(ex.trace?.remoteAddress, '127.0.0.1');
  assert.equal(ex.trace?.proxy?.used, false);
  assert.ok(ex.trace!.timings.total >= ex.trace!.timings.firstByte!);
  assert.equal(ex.trace?.redirects.length, 1);
});

test('follows redirects for GET, dropping credentials across origins', async () => {
  seen.length = 0;
  const headers = [
    { name: 'Authorization', value: 'Bearer abc' },
    { name: 'Cookie', value: 'a=b' },
  ];
  const same = await sendRequest({ method: 'GET', url: `http://${base}/redirect-same`, headers }, { env: {} });
  assert.deepEqual(
    same.trace!.redirects.map((r) => r.status),
    [302, 403],
  );
  assert.equal(seen[1].auth, 'Bearer abc', 'same origin keeps the credential');
  seen.length = 0;
  const cross = await sendRequest({ method: 'GET', url: `http://${base}/redirect-other`, headers }, { env: {} });
  assert.equal(cross.request!.url, `http://${other}/denied`);
  assert.equal(seen[1].url, 'other:/denied');
  assert.equal(seen[1].auth, undefined, 'another origin does not get the credential');
  assert.equal(seen[1].cookie, undefined);
  const noFollow = await sendRequest(
    { method: 'GET', url: `http://${base}/redirect-same`, headers: [] },
    { env: {}, followRedirects: false },
  );
  assert.equal(noFollow.response.status, 302);
});

test('never follows a redirect for a method that is not GET or HEAD', async () => {
  const ex = await sendRequest(
    {
      method: 'POST',
      url: `http://${base}/redirect-same`,
      headers: [],
      postData: { mimeType: 'text/plain', text: 'x' },
    },
    { env: {} },
  );
  assert.equal(ex.response.status, 302);
});

test('keeps the body up to the limit and decodes gzip', async () => {
  const big = await sendRequest({ method: 'GET', url: `http://${base}/big`, headers: [] }, { env: {}, maxBody: 1000 });
  assert.equal(big.response.content.text!.length, 1000);
  assert.equal(big.response.content.truncated, true);
  const gz = await sendRequest(
    { method: 'GET', url: `http://${base}/gzip`, headers: [{ name: 'Accept-Encoding', value: 'gzip' }] },
    { env: {} },
  );
  assert.equal(gz.response.content.text, '{"error":"forbidden"}');
});

test('network failures become one-line NetworkErrors with exit code 3', async () => {
  const closed = net.createServer();
  const addr = await listen(closed);
  closed.close();
  await assert.rejects(
    sendRequest({ method: 'GET', url: `http://${addr}/`, headers: [] }, { env: {} }),
    (e: unknown) =>
      e instanceof NetworkError && e.code === 'W403_CONNECT' && e.exitCode === 3 && !e.message.includes('\n'),
  );
  await assert.rejects(
    sendRequest({ method: 'GET', url: `http://${base}/slow`, headers: [] }, { env: {}, timeoutMs: 300 }),
    (e: unknown) => e instanceof NetworkError && e.code === 'W403_TIMEOUT',
  );
});

test('goes through HTTP_PROXY (absolute form for http, as curl does), and says so; NO_PROXY bypasses it', async () => {
  const { server: proxy, proxied } = forwardProxy();
  const proxyAddr = await listen(proxy);
  const env = { HTTP_PROXY: `http://${proxyAddr}` };
  const viaProxy = await sendRequest({ method: 'GET', url: `http://${base}/denied`, headers: [] }, { env });
  assert.equal(viaProxy.response.status, 403);
  assert.equal(viaProxy.trace?.proxy?.used, true);
  assert.deepEqual(
    proxied.map((r) => r.target),
    [`http://${base}/denied`],
  );
  const bypass = await sendRequest(
    { method: 'GET', url: `http://${base}/denied`, headers: [] },
    { env: { ...env, NO_PROXY: '127.0.0.1' } },
  );
  assert.equal(bypass.trace?.proxy?.used, false);
  assert.match(bypass.trace!.proxy!.reason, /NO_PROXY/);
  assert.equal(proxied.length, 1);
});

test('proxy decision follows curl: lower case wins, NO_PROXY suffixes and ports', () => {
  const u = new URL('https://api.example.com/x');
  assert.equal(proxyFor(u, {}).used, false);
  assert.equal(proxyFor(u, { https_proxy: 'http://p:3128', HTTPS_PROXY: 'http://q:3128' }).url, 'http://p:3128');
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'http://p:3128', NO_PROXY: '.example.com' }).used, false);
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'example.com' }).used, false);
  assert.equal(proxyFor(u, { HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'example.com:8443' }).used, true);
  assert.equal(proxyFor(new URL('http://api.example.com/'), { HTTPS_PROXY: 'http://p:3128' }).used, false);
});

test('TLS: records protocol and certificate subject; an unverifiable certificate is a TLS error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'why403-tls-'));
  try {
    const { key, cert } = selfSignedCertificate(dir, 'server', '/CN=why403-test');
    const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_q, r) =>
      r.writeHead(403).end('nope'),
    );
    const addr = await listen(server);
    await assert.rejects(
      sendRequest({ method: 'GET', url: `https://${addr}/`, headers: [] }, { env: {} }),
      (e: unknown) => e instanceof NetworkError && e.code === 'W403_TLS',
    );
    const ex = await sendRequest({ method: 'GET', url: `https://${addr}/`, headers: [] }, { env: {}, insecure: true });
    assert.equal(ex.response.status, 403);
    assert.match(ex.trace!.tls!.protocol!, /^TLSv1\.[23]$/);
    assert.equal(ex.trace!.tls!.subject, 'why403-test');
    assert.ok(ex.trace!.timings.tls !== undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
