import { contextFor, recorder, serveForTests, throughRunner } from '../test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { ExchangeRequest, NameValue } from '../../model/exchange.ts';
import probe, { ddmin } from './minimise.ts';

// /api answers 401 without a bearer token and 403 to a scanner's User-Agent
// (the shape of an nginx `if ($http_user_agent ~* sqlmap) { return 403; }`);
// /public is open to all but a disabled session; /search refuses a query
// parameter carrying a script tag; /deny refuses everything.
const received: { url: string; headers: http.IncomingHttpHeaders }[] = [];

const loop = serveForTests((req, res) => {
  received.push({ url: req.url!, headers: req.headers });
  const url = new URL(req.url!, 'http://x');
  const ua = req.headers['user-agent'] ?? '';
  if (url.pathname === '/api') {
    if (/sqlmap/i.test(ua))
      return res
        .writeHead(403, { 'content-type': 'text/html' })
        .end(
          '<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center></body></html>',
        );
    if (req.headers.authorization !== 'Bearer good-token')
      return res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    return res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  }
  if (url.pathname === '/public') {
    if (/(^|;\s*)sessionid=stale123/.test(req.headers.cookie ?? ''))
      return res.writeHead(403, { 'content-type': 'application/json' }).end('{"detail":"User inactive or deleted."}');
    return res.writeHead(200).end('welcome');
  }
  if (url.pathname === '/search') {
    if (/<script/i.test(url.searchParams.get('q') ?? '')) return res.writeHead(403).end('Request blocked');
    return res.writeHead(200).end('results');
  }
  res.writeHead(403).end('Forbidden');
});

const h = (name: string, value: string) => ({ name, value });

/** GET `path` with `headers`: what the probe sends and finds. */
async function minimiseGet(path: string, headers: NameValue[]) {
  const ctx = await contextFor({ method: 'GET', url: `${loop.base}${path}`, headers });
  const { sent, send } = recorder();
  return { sent, findings: await probe.run(ctx, send) };
}

const scanner = (): ExchangeRequest => ({
  method: 'GET',
  url: `${loop.base}/api?q=1&utm_source=x`,
  headers: [
    h('User-Agent', 'sqlmap/1.7.2#stable (https://sqlmap.org)'),
    h('Accept', 'application/json'),
    h('X-Request-Id', 'abc'),
    h('Authorization', 'Bearer good-token'),
    h('Cookie', '_ga=GA1.2.3; theme=dark'),
  ],
});

test('ddmin finds a 1-minimal set, complements included', async () => {
  const calls: number[][] = [];
  const { set, complete } = await ddmin([1, 2, 3, 4, 5, 6, 7, 8], async (s) => {
    calls.push(s);
    return s.includes(3) && s.includes(6);
  });
  assert.deepEqual(set, [3, 6]);
  assert.equal(complete, true);
  // ddmin's worst case is quadratic; the probe caches repeated sets, so count distinct ones.
  assert.ok(new Set(calls.map((c) => c.join())).size <= 25, `${calls.length} calls`);
  const stopped = await ddmin([1, 2, 3, 4], async (s) => (s.length > 2 ? true : undefined));
  assert.deepEqual(stopped, { set: [1, 2, 3, 4], complete: false });
});

test('a User-Agent rule: four requests find that removing the User-Agent alone turns 403 into 200; the credential is never removed', async () => {
  const ctx = await contextFor(scanner());
  assert.equal(ctx.first.response.status, 403);
  const { sent, send } = recorder();
  received.length = 0;
  const findings = await probe.run(ctx, send);
  assert.deepEqual(
    sent.map((s) => s.removed),
    [
      [
        'header:User-Agent',
        'header:Accept',
        'header:X-Request-Id',
        'cookie:_ga',
        'cookie:theme',
        'query:q',
        'query:utm_source',
      ],
      ['header:User-Agent', 'header:Accept', 'header:X-Request-Id', 'cookie:_ga'],
      ['header:User-Agent', 'header:Accept'],
      ['header:User-Agent'],
    ],
  );
  assert.ok(sent.every((s) => s.added.length === 0 && s.request.method === 'GET'));
  assert.ok(
    received.every((r) => r.headers.authorization === 'Bearer good-token'),
    'Authorization stays on every request',
  );
  assert.ok(received.every((r) => !/sqlmap/.test(r.headers['user-agent'] ?? '')));
  assert.equal(received[3].headers.cookie, '_ga=GA1.2.3; theme=dark');
  assert.equal(received[3].url, '/api?q=1&utm_source=x');
  assert.deepEqual(
    findings.map((f) => f.result.status),
    [200, 200, 200, 200],
  );
  const final = findings[3];
  assert.match(
    final.result.meaning,
    /^removing the User-Agent header turns 403 into 200 — the smallest change found in 4 request\(s\)$/,
  );
  assert.deepEqual(final.result.confirms, ['waf-block']);
  assert.ok(final.claims.some((c) => c.id === 'waf-block' && c.weight >= 0.8));
  for (const id of [
    'insufficient-role',
    'insufficient-scope',
    'ip-restricted',
    'path-forbidden',
    'credential-invalid',
  ] as const) {
    assert.ok(final.result.rulesOut!.includes(id), id);
    assert.ok(
      final.claims.some((c) => c.id === id && c.weight <= -0.6),
      id,
    );
  }
  assert.ok(
    findings.slice(0, 3).every((f) => f.claims.length === 0),
    'claims ride on the final finding only',
  );
});

test('a disabled session on a public page: the content changes nothing, removing the session cookie lets it through', async () => {
  const { sent, findings } = await minimiseGet('/public', [
    h('Accept', 'text/html'),
    h('Cookie', 'lang=en; sessionid=stale123'),
  ]);
  assert.deepEqual(
    sent.map((s) => s.removed),
    [['header:Accept', 'cookie:lang'], ['cookie:sessionid']],
  );
  assert.equal(sent[1].request.headers.find((x) => x.name === 'Cookie')?.value, 'lang=en');
  assert.match(findings[0].result.meaning, /still 403 — the denial does not follow the request’s content/);
  assert.ok(findings[0].claims.some((c) => c.id === 'waf-block' && c.weight < 0));
  assert.match(findings[1].result.meaning, /^removing the cookie sessionid turns 403 into 200/);
  assert.ok(findings[1].claims.some((c) => c.id === 'credential-invalid' && c.weight >= 0.5));
  assert.ok(findings[1].claims.some((c) => c.id === 'account-state' && c.weight > 0));
  assert.deepEqual(findings[1].result.rulesOut, ['ip-restricted', 'path-forbidden', 'waf-block']);
});

test('a query parameter a rule matches', async () => {
  const { sent, findings } = await minimiseGet('/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E&page=2', [
    h('Accept', '*/*'),
  ]);
  assert.deepEqual(
    sent.map((s) => s.removed),
    [['header:Accept', 'query:q', 'query:page'], ['header:Accept', 'query:q'], ['header:Accept'], ['query:q']],
  );
  assert.equal(new URL(sent[3].request.url).searchParams.get('page'), '2');
  const final = findings.at(-1)!;
  assert.match(final.result.meaning, /^removing the query parameter q turns 403 into 200/);
  assert.ok(final.claims.some((c) => c.id === 'waf-block' && c.weight > 0));
  assert.ok(!final.result.rulesOut!.includes('path-forbidden'), 'a parameter-dependent denial may be a path rule');
});

test('a denial that follows nothing removable: one request, and waf-block argued down', async () => {
  const { sent, findings } = await minimiseGet('/deny', [h('Accept', '*/*'), h('User-Agent', 'curl/8.5.0')]);
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].removed, ['header:Accept', 'header:User-Agent']);
  assert.deepEqual(
    findings[0].claims.map((c) => [c.id, c.weight]),
    [['waf-block', -0.4]],
  );
  assert.equal(findings[0].result.rulesOut, undefined, 'a rule on the path or the address is still possible');
});

test('an unsafe method is not replayed without --allow-unsafe', async () => {
  const ctx = await contextFor({
    method: 'POST',
    url: `${loop.base}/deny`,
    headers: [h('Accept', '*/*')],
    postData: { mimeType: 'text/plain', text: 'x' },
  });
  assert.equal(probe.applies(ctx), 'replaying POST needs --allow-unsafe');
  const { sent, send } = recorder();
  assert.deepEqual(await probe.run(ctx, send), []);
  assert.equal(sent.length, 0);
});

test('through the runner with a budget of 2: the guard accepts every removal, and the best set so far is reported as not minimal', async () => {
  const { sender, run } = await throughRunner(await contextFor(scanner(), { budget: 2 }), probe);
  assert.deepEqual(sender.probing.skipped, []);
  assert.equal(sender.probing.sent, 2);
  assert.match(sender.probing.stopped!, /budget of 2/);
  assert.equal(run.results.length, 2);
  assert.match(
    run.results[1].meaning,
    /removing the User-Agent header, the Accept header, the X-Request-Id header and the cookie _ga together turns 403 into 200 \(the budget ran out before the change was minimal\)/,
  );
  assert.ok(run.claims.some((c) => c.id === 'waf-block' && c.weight > 0));
});
