import {
  contextFor as supportContext,
  recorder as supportRecorder,
  throughRunner,
  runApplying,
} from '../test-support.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ExchangeRequest } from '../../model/exchange.ts';
import type { ProbeOptions } from '../define.ts';
import probe from './proxy.ts';

// The original goes through the test proxy unless a test says otherwise.
const contextFor = (req: ExchangeRequest, options: Partial<ProbeOptions> = {}, env: NodeJS.ProcessEnv = proxyEnv()) =>
  supportContext(req, options, env);
const recorder = () => supportRecorder({ env: proxyEnv() });

// An application server (allowing /ok, denying /deny, and allowing /office
// only to callers other than the proxy's egress address 127.0.0.2), a second
// one the proxy refuses to reach, and a forward proxy that speaks both CONNECT
// and absolute-form requests, leaves from 127.0.0.2, and refuses the second
// server's address with a 403 of its own (Proxy-Status, RFC 9209).
const servers: net.Server[] = [];
const appSeen: { path: string; from: string }[] = [];
const proxySeen: string[] = [];
let app = '';
let blocked = '';
let proxyUrl = '';
const PROXY_DENIAL =
  'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nProxy-Status: proxy.test; error=destination_ip_prohibited\r\nVia: 1.1 proxy.test\r\nContent-Length: 25\r\nConnection: close\r\n\r\nAccess denied by policy.\n';

function listen(server: net.Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

before(async () => {
  app = await listen(
    http.createServer((req, res) => {
      const from = req.socket.remoteAddress ?? '';
      appSeen.push({ path: req.url!, from });
      const head = { server: 'app/1.0', 'content-type': 'text/plain' };
      if (req.url === '/deny') return res.writeHead(403, head).end('Forbidden');
      if (req.url === '/office' && from === '127.0.0.2')
        return res.writeHead(403, head).end('Forbidden: your address is not allowed');
      res.writeHead(200, head).end('hello');
    }),
  );
  blocked = await listen(
    http.createServer((_req, res) => res.writeHead(200, { server: 'other/1.0' }).end('hello from the blocked site')),
  );
  const proxy = http.createServer((req, res) => {
    const target = new URL(req.url!);
    proxySeen.push(`${req.method} ${target.host}`);
    if (target.host === blocked) return res.socket!.end(PROXY_DENIAL);
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: req.method,
        headers: req.headers,
        localAddress: '127.0.0.2',
      },
      (r) => {
        res.writeHead(r.statusCode!, { ...r.headers, via: '1.1 proxy.test' });
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  proxy.on('connect', (req, socket, head) => {
    proxySeen.push(`CONNECT ${req.url}`);
    if (req.url === blocked) {
      // An intercepting proxy: it accepts the tunnel and answers the request inside it itself.
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      let buf = head.toString();
      const answer = () => buf.includes('\r\n\r\n') && socket.end(PROXY_DENIAL);
      if (!answer()) socket.on('data', (d) => ((buf += d.toString()), answer()));
      return;
    }
    const [host, port] = req.url!.split(':');
    const upstream = net.connect({ port: Number(port), host, localAddress: '127.0.0.2' }, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
  });
  proxyUrl = `http://${await listen(proxy)}`;
});
after(() => {
  for (const s of servers) {
    s.close();
    (s as http.Server).closeAllConnections?.();
  }
});

const h = (name: string, value: string) => ({ name, value });
const proxyEnv = () => ({ HTTP_PROXY: proxyUrl });

test('a proxy that refuses the destination: direct the request is allowed, which confirms proxy-interference and names the proxy', async () => {
  const req: ExchangeRequest = {
    method: 'GET',
    url: `http://${blocked}/ok`,
    headers: [h('Accept', 'text/plain'), h('Authorization', 'Bearer t0k')],
  };
  const ctx = await contextFor(req);
  assert.equal(ctx.first.response.status, 403);
  assert.equal(ctx.first.trace?.proxy?.used, true);
  const { sent, findings } = await runApplying(ctx, probe, proxySeen, { env: proxyEnv() });
  const [f, ...rest] = findings;
  assert.equal(rest.length, 0);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].direct, true);
  assert.deepEqual(sent[0].request, req, 'the user’s request unchanged');
  assert.deepEqual(sent[0].removed, [`proxy:${proxyUrl}`]);
  assert.deepEqual(sent[0].added, []);
  assert.deepEqual(proxySeen, [], 'the probe request did not go through the proxy');
  assert.equal(f.result.status, 200);
  assert.deepEqual(f.result.confirms, ['proxy-interference']);
  assert.match(f.result.meaning, /direct, without http:\/\/127\.0\.0\.1:\d+: 200; through it: 403/);
  assert.match(f.result.meaning, /Proxy-Status: proxy\.test; error=destination_ip_prohibited/);
  assert.match(f.result.meaning, /Via: 1\.1 proxy\.test/);
  assert.ok(f.claims.some((c) => c.id === 'proxy-interference' && c.weight >= 0.85));
  for (const id of ['insufficient-role', 'credential-invalid', 'waf-block', 'ip-restricted'] as const)
    assert.ok(
      f.claims.some((c) => c.id === id && c.weight < 0),
      id,
    );
});

test('a server that denies everyone: the same 403 direct rules the proxy out', async () => {
  const ctx = await contextFor({ method: 'GET', url: `http://${app}/deny`, headers: [] });
  const { sent, send } = recorder();
  appSeen.length = 0;
  const [f] = await probe.run(ctx, send);
  assert.equal(sent.length, 1);
  assert.deepEqual(appSeen, [{ path: '/deny', from: '127.0.0.1' }], 'the probe came direct, from 127.0.0.1');
  assert.equal(f.result.status, 403);
  assert.deepEqual(f.result.rulesOut, ['proxy-interference']);
  assert.deepEqual(
    f.claims.map((c) => [c.id, c.weight]),
    [['proxy-interference', -0.8]],
  );
});

test('a server that refuses the proxy’s address: allowed direct, refused through it by the server itself', async () => {
  const ctx = await contextFor({ method: 'GET', url: `http://${app}/office`, headers: [] });
  assert.equal(ctx.first.response.status, 403);
  const [f] = await probe.run(ctx, recorder().send);
  assert.equal(f.result.status, 200);
  assert.match(f.result.meaning, /sees the proxy’s address \(an IP rule\)/);
  assert.doesNotMatch(f.result.meaning, /Server: app/, 'the server’s own header does not name the proxy');
  const weight = (id: string) => f.claims.filter((c) => c.id === id).reduce((n, c) => n + c.weight, 0);
  assert.ok(weight('ip-restricted') > 0);
  assert.ok(
    weight('proxy-interference') > 0 && weight('proxy-interference') < 0.9,
    'the proxy’s role is likelier indirect',
  );
  assert.deepEqual(f.result.confirms, ['proxy-interference', 'ip-restricted']);
});

test('does not apply without a proxy, nor to an unsafe method without --allow-unsafe', async () => {
  const direct = await contextFor({ method: 'GET', url: `http://${app}/deny`, headers: [] }, {}, {});
  assert.match(String(probe.applies(direct)), /did not go through a proxy \(no HTTP_PROXY or ALL_PROXY set\)/);
  const { sent, send } = recorder();
  assert.deepEqual(await probe.run(direct, send), []);
  const post = await contextFor({
    method: 'POST',
    url: `http://${app}/deny`,
    headers: [],
    postData: { mimeType: 'text/plain', text: 'x' },
  });
  assert.equal(probe.applies(post), 'replaying POST needs --allow-unsafe');
  assert.deepEqual(await probe.run(post, send), []);
  assert.equal(sent.length, 0);
});

test('through the runner: `direct` sends without the proxy, and the guard accepts the unchanged request', async () => {
  const ctx = await contextFor({ method: 'GET', url: `http://${blocked}/ok`, headers: [h('Accept', '*/*')] });
  proxySeen.length = 0;
  const { sender, run } = await throughRunner(ctx, probe, proxyEnv());
  assert.deepEqual(sender.probing.skipped, []);
  assert.equal(sender.probing.sent, 1);
  assert.deepEqual(proxySeen, []);
  assert.equal(run.results[0].status, 200);
  assert.ok(run.claims.some((c) => c.id === 'proxy-interference' && c.weight >= 0.85));
});
