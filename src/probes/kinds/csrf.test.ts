import { contextFor as baseContextFor, recorder, serveForTests, throughRunner, runApplying } from '../test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { ExchangeRequest } from '../../model/exchange.ts';
import type { ProbeOptions } from '../define.ts';
import probe from './csrf.ts';

// The csrf probe replays the user's POST: these contexts allow it, as --allow-unsafe does.
const contextFor = (req: ExchangeRequest, options: Partial<ProbeOptions> = {}) =>
  baseContextFor(req, { allowUnsafe: true, ...options });

// A CSRF-protected form endpoint in the manner of Django's CsrfViewMiddleware:
// Origin, then Referer, then the csrftoken cookie, then the token (header
// X-CSRFToken or form field csrfmiddlewaretoken) must equal the cookie; each
// failure is a 403 naming its reason. Past the CSRF check, only the session
// "admin" may transfer.
interface Seen {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Seen[] = [];

function csrfFailure(res: http.ServerResponse, reason: string) {
  res
    .writeHead(403, { 'content-type': 'text/html; charset=utf-8' })
    .end(
      `<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>Forbidden <span>(403)</span></h1><p>CSRF verification failed. Request aborted.</p><p>Reason given for failure:</p><pre>\n    ${reason}\n    </pre></body></html>`,
    );
}

const loop = serveForTests((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    received.push({ method: req.method!, headers: req.headers, body });
    const own = `http://${req.headers.host}`;
    const cookies = Object.fromEntries(
      (req.headers.cookie ?? '')
        .split(/;\s*/)
        .filter(Boolean)
        .map((p) => p.split('=') as [string, string]),
    );
    const origin = req.headers.origin;
    if (origin && origin !== own)
      return csrfFailure(res, `Origin checking failed - ${origin} does not match any trusted origins.`);
    const referer = req.headers.referer;
    if (referer && !referer.startsWith(`${own}/`))
      return csrfFailure(res, `Referer checking failed - ${referer} does not match any trusted origins.`);
    if (!cookies.csrftoken) return csrfFailure(res, 'CSRF cookie not set.');
    const token =
      (req.headers['x-csrftoken'] as string | undefined) ?? new URLSearchParams(body).get('csrfmiddlewaretoken');
    if (!token) return csrfFailure(res, 'CSRF token missing.');
    if (token !== cookies.csrftoken) return csrfFailure(res, 'CSRF token incorrect.');
    if (cookies.sessionid !== 'admin')
      return res
        .writeHead(403, { 'content-type': 'application/json' })
        .end('{"detail":"You do not have permission to perform this action."}');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});

const h = (name: string, value: string) => ({ name, value });
/** Bob's form POST to /transfer with a matching csrftoken cookie, and `text` as its body. */
const bobsForm = (text: string): ExchangeRequest => ({
  method: 'POST',
  url: `${loop.base}/transfer`,
  headers: [h('Cookie', 'csrftoken=T0k3n; sessionid=bob'), h('Content-Type', 'application/x-www-form-urlencoded')],
  postData: { mimeType: 'application/x-www-form-urlencoded', text },
});

const csrfWeight = (f: { claims: { id: string; weight: number }[] }) =>
  f.claims.filter((c) => c.id === 'csrf').reduce((n, c) => n + c.weight, 0);

test('a stale token: removing token or cookie changes the CSRF failure’s reason, so the denial follows them', async () => {
  const ctx = await contextFor({
    method: 'POST',
    url: `${loop.base}/transfer`,
    headers: [
      h('Origin', loop.base),
      h('Referer', `${loop.base}/form`),
      h('X-CSRFToken', 'old-token'),
      h('Cookie', 'csrftoken=new-token; sessionid=admin'),
      h('Content-Type', 'application/x-www-form-urlencoded'),
    ],
    postData: { mimeType: 'application/x-www-form-urlencoded', text: 'amount=5&to=bob' },
  });
  assert.match(ctx.first.response.content.text!, /CSRF token incorrect/);
  const { sent, findings } = await runApplying(ctx, probe, received);
  assert.equal(sent.length, 4);
  assert.deepEqual(
    sent.map((s) => s.removed),
    [['header:X-CSRFToken'], ['cookie:csrftoken'], ['header:Origin'], ['header:Referer']],
  );
  assert.ok(
    sent.every((s) => s.added.length === 0),
    'only removals',
  );
  assert.deepEqual(
    received.map((r) => r.method),
    ['POST', 'POST', 'POST', 'POST'],
  );
  assert.ok(
    received.every((r) => r.body === 'amount=5&to=bob'),
    'the body is the user’s',
  );
  assert.equal(received[0].headers['x-csrftoken'], undefined);
  assert.equal(received[1].headers.cookie, 'sessionid=admin');
  assert.equal(received[2].headers.origin, undefined);
  assert.equal(received[2].headers['x-csrftoken'], 'old-token', 'one input removed at a time');

  assert.equal(findings.length, 4);
  assert.match(
    findings[0].result.meaning,
    /different CSRF failure \("CSRF token missing\." instead of "CSRF token incorrect\."\)/,
  );
  assert.deepEqual(findings[0].result.confirms, ['csrf']);
  assert.ok(csrfWeight(findings[0]) >= 0.8);
  assert.match(findings[1].result.meaning, /CSRF cookie not set/);
  assert.ok(csrfWeight(findings[1]) >= 0.8);
  assert.equal(findings[2].claims.length, 0, 'the same failure without Origin says nothing about csrf');
  assert.match(findings[2].result.meaning, /not about the Origin header/);
  assert.match(
    findings[3].result.meaning,
    /over all: the denial follows the CSRF token \(header:X-CSRFToken\) and the CSRF cookie \(cookie:csrftoken\)/,
  );
});

test('a valid pair and a permission denial: without the token the CSRF check fails, so it had passed — csrf ruled out', async () => {
  const ctx = await contextFor(bobsForm('amount=5&csrfmiddlewaretoken=T0k3n&to=eve'));
  assert.match(ctx.first.response.content.text!, /do not have permission/);
  const { sent, send } = recorder();
  received.length = 0;
  const findings = await probe.run(ctx, send);
  assert.deepEqual(
    sent.map((s) => s.removed),
    [['body:csrfmiddlewaretoken'], ['cookie:csrftoken']],
  );
  assert.equal(received[0].body, 'amount=5&to=eve', 'the form field removed, the rest verbatim');
  assert.equal(received[1].body, 'amount=5&csrfmiddlewaretoken=T0k3n&to=eve');
  assert.equal(received[1].headers.cookie, 'sessionid=bob');
  for (const f of findings) {
    assert.deepEqual(f.result.rulesOut, ['csrf']);
    assert.ok(csrfWeight(f) <= -0.8);
    assert.match(f.result.meaning, /the CSRF check passed, so the 403 comes from a later check/);
  }
  assert.match(findings[0].result.meaning, /a CSRF failure \("CSRF token missing\."\)/);
  assert.match(findings[1].result.meaning, /a CSRF failure \("CSRF cookie not set\."\)/);
  assert.match(findings[1].result.meaning, /follows none of the CSRF inputs/);
});

test('a distrusted Origin: only removing Origin lets the request through', async () => {
  const ctx = await contextFor({
    method: 'POST',
    url: `${loop.base}/transfer`,
    headers: [h('Origin', 'https://evil.example'), h('X-CSRFToken', 'T'), h('Cookie', 'csrftoken=T; sessionid=admin')],
    postData: { mimeType: 'application/x-www-form-urlencoded', text: 'amount=1' },
  });
  assert.match(ctx.first.response.content.text!, /Origin checking failed/);
  const { sent, send } = recorder();
  const findings = await probe.run(ctx, send);
  assert.deepEqual(
    sent.map((s) => s.removed),
    [['header:X-CSRFToken'], ['cookie:csrftoken'], ['header:Origin']],
  );
  assert.deepEqual(
    findings.map((f) => f.result.status),
    [403, 403, 200],
  );
  assert.match(findings[0].result.meaning, /same CSRF failure/);
  assert.ok(csrfWeight(findings[0]) < 0.5, 'a failure that persists says less than one that moves');
  assert.match(findings[2].result.meaning, /allowed — the denial follows the Origin header/);
  assert.ok(csrfWeight(findings[2]) >= 0.85);
  assert.match(findings[2].result.meaning, /over all: the denial follows the Origin header\)$/);
});

test('without --allow-unsafe, or for a GET, nothing is sent', async () => {
  const post = await contextFor(
    {
      method: 'POST',
      url: `${loop.base}/transfer`,
      headers: [h('X-CSRFToken', 'T'), h('Cookie', 'csrftoken=T')],
      postData: { mimeType: 'text/plain', text: 'x' },
    },
    { allowUnsafe: false },
  );
  assert.equal(probe.applies(post), 'replaying POST needs --allow-unsafe');
  const { sent, send } = recorder();
  assert.deepEqual(await probe.run(post, send), []);
  const get = await contextFor({ method: 'GET', url: `${loop.base}/transfer`, headers: [h('X-CSRFToken', 'T')] });
  assert.match(String(probe.applies(get)), /GET is not one/);
  assert.deepEqual(await probe.run(get, send), []);
  const bare = await contextFor({
    method: 'DELETE',
    url: `${loop.base}/transfer`,
    headers: [h('Cookie', 'sessionid=admin')],
  });
  assert.match(String(probe.applies(bare)), /no CSRF token, CSRF cookie, Origin or Referer/);
  assert.equal(sent.length, 0);
});

test('through the runner: the guard accepts the user’s POST with a form field removed', async () => {
  const { sender, run } = await throughRunner(await contextFor(bobsForm('amount=5&csrfmiddlewaretoken=T0k3n')), probe);
  assert.deepEqual(sender.probing.skipped, []);
  assert.equal(sender.probing.sent, 2);
  assert.deepEqual(
    run.results.map((r) => r.request?.removed),
    [['body:csrfmiddlewaretoken'], ['cookie:csrftoken']],
  );
  assert.ok(run.claims.every((c) => c.id === 'csrf' && c.weight < 0));
});
