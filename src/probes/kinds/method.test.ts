import { contextFor, serveForTests, sendJson as json, runApplying } from '../test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { ExchangeRequest } from '../../model/exchange.ts';
import { createSender, planProbes, runProbes } from '../runner.ts';
import probe from './method.ts';

// Routes that refuse one method and serve the others (/items, /form,
// /preflight), that refuse everything (/secret, /both), and one that does not
// serve HEAD at all (/no-head).
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

const loop = serveForTests((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
    const safe = req.method === 'GET' || req.method === 'HEAD';
    switch (req.url) {
      case '/items':
        return safe ? json(res, 200, { items: [] }) : json(res, 403, { error: 'method forbidden' });
      case '/form':
        return safe
          ? res.writeHead(200, { 'content-type': 'text/html' }).end('<form></form>')
          : res
              .writeHead(403, { 'content-type': 'text/html' })
              .end('<h1>Forbidden (403)</h1><p>CSRF verification failed. Request aborted.</p>');
      case '/preflight':
        return req.method === 'OPTIONS' ? res.writeHead(403).end() : json(res, 200, { ok: true });
      case '/both':
        return json(res, 403, { error: req.method === 'OPTIONS' ? 'preflight refused' : 'read refused' });
      case '/no-head':
        return req.method === 'HEAD'
          ? res.writeHead(405, { allow: 'POST' }).end()
          : json(res, 403, { error: 'forbidden' });
      default:
        return res
          .writeHead(403, { 'content-type': 'text/html' })
          .end('<html><body><h1>403 Forbidden</h1></body></html>');
    }
  });
});

async function run(req: ExchangeRequest) {
  const ctx = await contextFor(req);
  const { sent, findings } = await runApplying(ctx, probe, seen);
  assert.equal(sent.length, 1);
  assert.equal(seen.length, 1);
  assert.equal(findings.length, 1);
  return { ctx, sent: sent[0], received: seen[0], finding: findings[0] };
}

const post = (path: string, extra: { name: string; value: string }[] = []): ExchangeRequest => ({
  method: 'POST',
  url: `${loop.base}${path}`,
  headers: [
    { name: 'Content-Type', value: 'application/json' },
    { name: 'Authorization', value: 'Bearer opaque-0123456789abcdef' },
    ...extra,
  ],
  postData: { mimeType: 'application/json', text: '{"name":"x"}' },
});

test('HEAD is served where POST got 403: method-not-allowed, with the CSRF alternative named', async () => {
  const { sent, received, finding } = await run(post('/items', [{ name: 'Accept', value: 'application/json' }]));
  assert.equal(sent.request.method, 'HEAD');
  assert.equal(sent.request.postData, undefined);
  assert.deepEqual(sent.removed, ['body', 'header:Content-Type']);
  assert.deepEqual(sent.added, ['method:HEAD (instead of POST)']);
  assert.equal(received.method, 'HEAD');
  assert.equal(received.body, '');
  assert.equal(received.headers['content-type'], undefined);
  assert.equal(received.headers.authorization, 'Bearer opaque-0123456789abcdef', 'credentials are kept');
  assert.equal(received.headers.accept, 'application/json');
  assert.equal(received.url, '/items');
  assert.equal(finding.result.status, 200);
  assert.match(finding.result.meaning, /it is POST that is refused/);
  assert.match(finding.result.meaning, /CSRF token/);
  // The passive diagnosis says nothing here, so csrf and a read-only grant are
  // standing: they pass HEAD too, so the claim for method-not-allowed is weak.
  assert.equal(finding.claims.find((c) => c.id === 'method-not-allowed')?.weight, 0.25);
  assert.equal(
    finding.claims.some((c) => c.id === 'csrf'),
    false,
    'CSRF is left to its own probe',
  );
  for (const id of ['path-forbidden', 'ip-restricted', 'filesystem-permission'] as const)
    assert.ok(finding.result.rulesOut?.includes(id), id);
});

test('a form POST refused by a CSRF check reads the same way: the method probe confirms nothing', async () => {
  const { finding } = await run({
    method: 'POST',
    url: `${loop.base}/form`,
    headers: [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }],
    postData: { mimeType: 'application/x-www-form-urlencoded', text: 'a=1' },
  });
  assert.equal(finding.result.status, 200);
  assert.equal(
    finding.result.confirms,
    undefined,
    'a served HEAD does not tell a refused method from a failed CSRF check',
  );
  assert.equal(
    finding.claims.some((c) => c.id === 'csrf'),
    false,
  );
});

test('HEAD refused the same way: the whole resource is denied', async () => {
  const { finding } = await run(post('/secret'));
  assert.equal(finding.result.status, 403);
  assert.match(finding.result.meaning, /the whole resource is denied, not just POST/);
  assert.deepEqual(finding.result.rulesOut, ['method-not-allowed', 'csrf']);
  assert.equal(finding.claims.find((c) => c.id === 'method-not-allowed')?.weight, -0.8);
});

test('an OPTIONS request is compared with GET', async () => {
  const { sent, received, finding } = await run({
    method: 'OPTIONS',
    url: `${loop.base}/preflight`,
    headers: [{ name: 'Origin', value: 'https://app.example' }],
  });
  assert.equal(sent.request.method, 'GET');
  assert.deepEqual(sent.removed, []);
  assert.equal(received.method, 'GET');
  assert.equal(received.headers.origin, 'https://app.example');
  assert.equal(finding.result.status, 200);
  assert.doesNotMatch(finding.result.meaning, /CSRF/);
});

test('GET refused with another body: denied too, a weaker case against the method', async () => {
  const { finding } = await run({ method: 'OPTIONS', url: `${loop.base}/both`, headers: [] });
  assert.equal(finding.result.status, 403);
  assert.match(finding.result.meaning, /refused too/);
  assert.equal(finding.claims.find((c) => c.id === 'method-not-allowed')?.weight, -0.5);
});

test('a server that does not serve HEAD: no conclusion', async () => {
  const { finding } = await run(post('/no-head'));
  assert.equal(finding.result.status, 405);
  assert.deepEqual(finding.claims, []);
  assert.match(finding.result.meaning, /does not separate/);
});

test('does not apply to GET, HEAD, or a 401', async () => {
  assert.match(
    String(probe.applies(await contextFor({ method: 'GET', url: `${loop.base}/secret`, headers: [] }))),
    /already GET/,
  );
  const ctx = await contextFor(post('/secret'));
  ctx.first = { ...ctx.first, response: { ...ctx.first.response, status: 401 } };
  assert.match(String(probe.applies(ctx)), /not 403/);
});

test('through the runner: a HEAD replacing a POST passes the guard without --allow-unsafe', async () => {
  const ctx = await contextFor(post('/items'));
  const sender = createSender(ctx, { env: {} });
  seen.length = 0;
  const out = await runProbes(ctx, planProbes(ctx, [probe]), sender);
  assert.equal(sender.probing.sent, 1);
  assert.deepEqual(sender.probing.skipped, []);
  assert.deepEqual(
    seen.map((s) => s.method),
    ['HEAD'],
  );
  assert.equal(out.results[0].status, 200);
});
