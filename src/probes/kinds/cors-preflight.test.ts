import { contextFor, recorder, serveForTests, throughRunner, runApplying } from '../test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import probe, { unsafeHeaderNames } from './cors-preflight.ts';

// A CORS server with one allowed origin, in three styles: a strict filter
// that answers 403 to a foreign origin (as Spring's CorsFilter does), a fixed
// header that names the one origin whatever asked (a static add_header), and
// a wildcard for everything.
const ALLOWED = 'https://app.example.com';
const EVIL = 'https://evil.example';
const received: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];

// Per path: the CORS headers on every answer (given the request's Origin),
// the preflight's status and what it allows, and the 403 denial's body.
const ROUTES: Record<
  string,
  {
    cors: (origin?: string) => http.OutgoingHttpHeaders;
    preflight: number;
    allows: http.OutgoingHttpHeaders;
    denial: [contentType: string, body: string];
  }
> = {
  '/api/strict': {
    cors: (origin) =>
      origin
        ? { 'access-control-allow-origin': ALLOWED, 'access-control-allow-credentials': 'true', vary: 'Origin' }
        : {},
    preflight: 204,
    allows: {
      'access-control-allow-methods': 'GET, PUT, DELETE',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-max-age': '600',
    },
    denial: ['application/json', '{"error":"forbidden"}'],
  },
  '/api/fixed': {
    cors: () => ({ 'access-control-allow-origin': ALLOWED }),
    preflight: 204,
    allows: { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type' },
    denial: ['text/plain', 'Forbidden'],
  },
  '/api/wild': {
    cors: () => ({ 'access-control-allow-origin': '*' }),
    preflight: 200,
    allows: { 'access-control-allow-methods': '*', 'access-control-allow-headers': '*' },
    denial: ['text/plain', 'Forbidden'],
  },
};

const loop = serveForTests((req, res) => {
  received.push({ method: req.method!, url: req.url!, headers: req.headers });
  const origin = req.headers.origin;
  const path = new URL(req.url!, 'http://x').pathname;
  const route = ROUTES[path];
  if (!route) return res.writeHead(404).end();
  if (path === '/api/strict' && origin && origin !== ALLOWED)
    return res.writeHead(403, { 'content-type': 'text/plain' }).end('Invalid CORS request');
  const cors = route.cors(origin);
  if (req.method === 'OPTIONS') return res.writeHead(route.preflight, { ...cors, ...route.allows }).end();
  const [type, body] = route.denial;
  return res.writeHead(403, { ...cors, 'content-type': type }).end(body);
});

const h = (name: string, value: string) => ({ name, value });

test('preflight headers follow the Fetch standard: lower-case, sorted, safelisted and browser-set names left out', () => {
  assert.deepEqual(
    unsafeHeaderNames([
      h('Content-Type', 'application/json'),
      h('X-Request-Id', '1'),
      h('Authorization', 'Bearer x'),
      h('Accept', 'application/json'),
      h('Accept-Language', 'en-GB,en;q=0.9'),
      h('User-Agent', 'Mozilla/5.0'),
      h('Cookie', 'a=b'),
      h('Sec-Fetch-Mode', 'cors'),
      h('Referer', 'https://app.example.com/'),
    ]),
    ['authorization', 'content-type', 'x-request-id'],
  );
  assert.deepEqual(unsafeHeaderNames([h('Content-Type', 'text/plain;charset=UTF-8'), h('Accept', '*/*')]), []);
  assert.deepEqual(
    unsafeHeaderNames([h('Accept-Language', 'en (GB)')]),
    ['accept-language'],
    'a parenthesis is not a safelisted Accept-Language byte',
  );
  assert.deepEqual(unsafeHeaderNames([h('Accept', 'x'.repeat(129))]), ['accept'], 'longer than 128 bytes');
});

test('a foreign origin: the strict filter refuses the preflight with 403, which confirms cors', async () => {
  received.length = 0;
  const ctx = await contextFor({
    method: 'PUT',
    url: `${loop.base}/api/strict?id=7`,
    headers: [
      h('Origin', EVIL),
      h('Authorization', 'Bearer abc.def.ghi'),
      h('Content-Type', 'application/json'),
      h('X-Request-Id', 'r1'),
      h('Cookie', 'sid=s3cr3t'),
      h('User-Agent', 'Mozilla/5.0 test'),
    ],
    postData: { mimeType: 'application/json', text: '{"name":"x"}' },
  });
  assert.equal(ctx.first.response.status, 403);
  const { sent, findings } = await runApplying(ctx, probe, received);
  assert.equal(sent.length, 1);
  assert.equal(received.length, 1);
  const got = received[0];
  assert.equal(got.method, 'OPTIONS');
  assert.equal(got.url, '/api/strict?id=7', 'same URL, query included');
  assert.equal(got.headers.origin, EVIL);
  assert.equal(got.headers['access-control-request-method'], 'PUT');
  assert.equal(got.headers['access-control-request-headers'], 'authorization,content-type,x-request-id');
  assert.equal(got.headers.authorization, undefined, 'a preflight carries no credentials');
  assert.equal(got.headers.cookie, undefined);
  assert.equal(got.headers['user-agent'], 'Mozilla/5.0 test', 'the browser’s own User-Agent goes on the preflight too');
  assert.equal(got.headers['content-length'] ?? '0', '0', 'no body');
  assert.deepEqual(sent[0].removed.sort(), [
    'body',
    'header:Authorization',
    'header:Content-Type',
    'header:Cookie',
    'header:X-Request-Id',
  ]);
  assert.deepEqual(sent[0].added, ['header:Access-Control-Request-Method', 'header:Access-Control-Request-Headers']);

  assert.equal(findings.length, 1);
  const [f] = findings;
  assert.equal(f.result.status, 403);
  assert.deepEqual(f.result.confirms, ['cors']);
  assert.match(f.result.meaning, /answered 403, not an ok \(2xx\) status/);
  assert.match(f.result.meaning, /no Access-Control-Allow-Origin/);
  const cors = f.claims.filter((c) => c.id === 'cors');
  assert.ok(
    cors.some((c) => c.weight >= 0.8),
    'a refused preflight is decisive',
  );
  assert.ok(cors.every((c) => c.weight > 0));
  assert.ok(f.claims[0].gap!.required.some((r) => r.includes('Access-Control-Allow-Methods including PUT')));
});

test('the allowed origin: the preflight admits method and headers, which rules cors out', async () => {
  const ctx = await contextFor({
    method: 'PUT',
    url: `${loop.base}/api/strict`,
    headers: [
      h('Origin', ALLOWED),
      h('Authorization', 'Bearer abc.def.ghi'),
      h('Content-Type', 'application/json'),
      h('Cookie', 'sid=s3cr3t'),
    ],
    postData: { mimeType: 'application/json', text: '{}' },
  });
  const { sent, send } = recorder();
  const [f] = await probe.run(ctx, send);
  assert.equal(sent.length, 1);
  assert.equal(f.result.status, 204);
  assert.deepEqual(f.result.rulesOut, ['cors']);
  assert.equal(f.result.confirms, undefined);
  assert.match(
    f.result.meaning,
    /allows origin https:\/\/app\.example\.com with credentials, method PUT, headers authorization, content-type/,
  );
  assert.match(f.result.meaning, /Max-Age 600s/);
  assert.match(f.result.meaning, /the 403 itself carries Access-Control-Allow-Origin/);
  assert.ok(f.claims.length >= 2 && f.claims.every((c) => c.id === 'cors' && c.weight <= -0.7));
});

test('--origin on a simple GET: Origin swapped in, no Request-Headers; a fixed Allow-Origin names the one it allows', async () => {
  received.length = 0;
  const ctx = await contextFor(
    { method: 'GET', url: `${loop.base}/api/fixed`, headers: [h('Accept', 'application/json')] },
    { origin: EVIL },
  );
  const { sent, send } = recorder();
  received.length = 0;
  const [f] = await probe.run(ctx, send);
  assert.equal(received.length, 1);
  assert.equal(received[0].method, 'OPTIONS');
  assert.equal(received[0].headers.origin, EVIL);
  assert.equal(received[0].headers['access-control-request-method'], 'GET');
  assert.equal(received[0].headers['access-control-request-headers'], undefined, 'every header is safelisted');
  assert.deepEqual(sent[0].added, ['header:Origin (--origin)', 'header:Access-Control-Request-Method']);
  assert.deepEqual(sent[0].removed, ['header:Accept'], 'only Accept: */* goes on a preflight');
  assert.match(
    f.result.meaning,
    /Access-Control-Allow-Origin is https:\/\/app\.example\.com, not https:\/\/evil\.example; the browser blocks the response/,
  );
  assert.match(f.result.meaning, /simple request without a preflight/);
  const cors = f.claims.find((c) => c.id === 'cors')!;
  assert.ok(cors.weight >= 0.8);
  assert.deepEqual(f.result.confirms, ['cors']);
});

test('a wildcard does not cover a request with cookies, nor Authorization', async () => {
  const ctx = await contextFor(
    {
      method: 'PATCH',
      url: `${loop.base}/api/wild`,
      headers: [h('Origin', ALLOWED), h('Authorization', 'Bearer t'), h('X-Trace', '1'), h('Cookie', 'sid=x')],
    },
    { allowUnsafe: true },
  );
  const { send } = recorder();
  const [f] = await probe.run(ctx, send);
  assert.equal(f.result.status, 200);
  const text = f.claims.flatMap((c) => c.evidence.map((e) => e.text)).join('\n');
  assert.match(
    text,
    /Access-Control-Allow-Origin is \*, which the browser does not accept for a request with credentials/,
  );
  assert.match(
    text,
    /Access-Control-Allow-Methods is \*; it does not include PATCH \(\* does not count for a request with credentials\)/,
  );
  assert.match(text, /does not include authorization, x-trace/);
  assert.deepEqual(f.result.confirms, ['cors']);

  // Without cookies the same wildcards admit everything but Authorization.
  const anon = await contextFor({
    method: 'PATCH',
    url: `${loop.base}/api/wild`,
    headers: [h('Origin', ALLOWED), h('Authorization', 'Bearer t'), h('X-Trace', '1')],
  });
  const [g] = await probe.run(anon, recorder().send);
  const blocks = g.claims.filter((c) => c.weight > 0).flatMap((c) => c.evidence.map((e) => e.text));
  assert.equal(blocks.length, 1);
  assert.match(blocks[0], /does not include authorization \(\* never covers authorization\)/);
  // The 403 itself carried `*`, which admits an anonymous request: that argues the other way.
  assert.ok(
    g.claims.some((c) => c.weight < 0 && /the 403 itself carries Access-Control-Allow-Origin/.test(c.evidence[0].text)),
  );
});

test('does not apply without an Origin or --origin, and sends nothing then', async () => {
  const ctx = await contextFor({ method: 'GET', url: `${loop.base}/api/fixed`, headers: [] });
  assert.match(String(probe.applies(ctx)), /no Origin header and --origin was not given/);
  const { sent, send } = recorder();
  assert.deepEqual(await probe.run(ctx, send), []);
  assert.equal(sent.length, 0);
});

test('through the runner: the safety guard accepts the preflight and the request is recorded', async () => {
  const ctx = await contextFor(
    { method: 'DELETE', url: `${loop.base}/api/strict`, headers: [h('Origin', EVIL), h('Authorization', 'Bearer t')] },
    { allowUnsafe: true },
  );
  const { sender, run } = await throughRunner(ctx, probe);
  assert.equal(sender.probing.sent, 1);
  assert.deepEqual(sender.probing.skipped, [], 'the guard refused nothing');
  assert.equal(sender.log[0].request.request.method, 'OPTIONS');
  assert.equal(run.results.length, 1);
  assert.equal(run.results[0].status, 403);
  assert.ok(run.claims.some((c) => c.id === 'cors' && c.weight > 0));
});
