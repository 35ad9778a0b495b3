import { contextFor, serveForTests, sendJson as json, runApplying } from '../test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import type { ExchangeRequest } from '../../model/exchange.ts';
import { type CauseId } from '../../model/vocabulary.ts';
import { diagnose } from '../../diagnose.ts';
import { createSender, planProbes, runProbes } from '../runner.ts';
import probe from './without-credential.ts';
import { describeRemoved, normaliseBody } from '../compare.ts';

// A small API that behaves like the ones the probe must tell apart: a scoped
// OAuth resource, an IP-style rule that refuses everyone, a public resource
// that refuses a bad token, a cookie session that redirects to a login page,
// a private resource hidden from anonymous callers.
const KEY = 'without-credential-test-key';
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
function jwt(claims: Record<string, unknown>, key = KEY): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}
function verify(
  auth: string | undefined,
): { ok: true; claims: Record<string, unknown> } | { ok: false; why: string } | undefined {
  const m = /^Bearer (\S+)$/.exec(auth ?? '');
  if (!m) return undefined;
  const [h, p, s] = m[1].split('.');
  if (!s || createHmac('sha256', KEY).update(`${h}.${p}`).digest('base64url') !== s)
    return { ok: false, why: 'signature' };
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return { ok: false, why: 'expired' };
  return { ok: true, claims };
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}
const seen: Seen[] = [];

const loop = serveForTests((req, res) => {
  seen.push({ method: req.method!, url: req.url!, headers: req.headers });
  const path = new URL(req.url!, 'http://x').pathname;
  const token = verify(req.headers.authorization);
  switch (path) {
    case '/reports': {
      if (!token) return json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="reports"' });
      if (!token.ok)
        return json(
          res,
          401,
          { error: 'invalid_token' },
          { 'www-authenticate': `Bearer realm="reports", error="invalid_token", error_description="${token.why}"` },
        );
      if (
        !String(token.claims.scope ?? '')
          .split(' ')
          .includes('reports:read')
      )
        return json(
          res,
          403,
          { error: 'insufficient_scope' },
          { 'www-authenticate': 'Bearer realm="reports", error="insufficient_scope", scope="reports:read"' },
        );
      return json(res, 200, { reports: [] });
    }
    case '/ip-only':
      // Refuses by client address before looking at anything else; the body carries a request id and a time.
      return res
        .writeHead(403, { 'content-type': 'text/html' })
        .end(
          `<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>Request ${Math.random().toString(16).slice(2)}${Date.now()} at ${new Date().toISOString()}</p></body></html>`,
        );
    case '/public':
      if (req.headers.authorization && !token?.ok) return json(res, 403, { error: 'invalid_token' });
      return json(res, 200, { open: true });
    case '/dashboard':
      if (!/(^|;\s*)sessionid=/.test(req.headers.cookie ?? ''))
        return res.writeHead(302, { location: '/login?next=/dashboard' }).end();
      return res.writeHead(403, { 'content-type': 'text/plain' }).end('Only administrators may open the dashboard.');
    case '/login':
      return res.writeHead(200, { 'content-type': 'text/html' }).end('<form method="post">log in</form>');
    case '/private-repo':
      if (!req.headers.authorization) return json(res, 404, { message: 'Not Found' });
      return json(res, 403, { message: 'Resource not accessible by personal access token' });
    case '/stripped':
      // What a server behind a proxy that drops Authorization answers, whatever the client sent.
      return json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="api"' });
    case '/flaky':
      if (!req.headers.authorization) return json(res, 500, { error: 'internal' });
      return json(res, 403, { error: 'forbidden' });
    default:
      return json(res, 403, { error: 'forbidden' });
  }
});

// The probe context exactly as `check` builds it: the user's request sent once and diagnosed.

/** Runs the probe and returns its one finding, what it asked to send and what the server received. */
async function probeOnce(req: ExchangeRequest, hits = 1) {
  const ctx = await contextFor(req);
  const { sent, findings } = await runApplying(ctx, probe, seen);
  assert.equal(sent.length, 1, 'one request');
  assert.equal(findings.length, 1);
  assert.equal(seen.length, hits, 'the server received exactly the probe request (and the redirects it followed)');
  return { ctx, sent: sent[0], received: seen[0], finding: findings[0] };
}

const weightOf = (claims: { id: string; weight: number }[], id: CauseId) =>
  claims.filter((c) => c.id === id).map((c) => c.weight);
const bearer = (claims: Record<string, unknown>, key?: string) => ({
  name: 'Authorization',
  value: `Bearer ${jwt(claims, key)}`,
});
const hour = () => Math.floor(Date.now() / 1000) + 3600;

test('401 without the credential: the denial is about the identity, not the network or the path', async () => {
  const { sent, received, finding } = await probeOnce({
    method: 'GET',
    url: `${loop.base}/reports`,
    headers: [
      bearer({ sub: 'alice', scope: 'reports:list', exp: hour() }),
      { name: 'Accept', value: 'application/json' },
    ],
  });
  assert.deepEqual(sent.removed, ['header:Authorization']);
  assert.deepEqual(sent.added, []);
  assert.equal(sent.request.method, 'GET');
  assert.equal(received.headers.authorization, undefined);
  assert.equal(received.headers.accept, 'application/json', 'everything else is kept');
  assert.equal(finding.result.status, 401);
  assert.match(finding.result.meaning, /recognises your credential/);
  for (const id of [
    'ip-restricted',
    'path-forbidden',
    'waf-block',
    'filesystem-permission',
    'directory-listing',
  ] as const) {
    assert.ok(finding.result.rulesOut?.includes(id), id);
    assert.deepEqual(weightOf(finding.claims, id), [-0.85]);
  }
  assert.ok(finding.result.confirms?.includes('insufficient-scope'));
  assert.ok(weightOf(finding.claims, 'insufficient-scope')[0] > 0);
});

test('the same 403 without the credential: not about identity', async () => {
  const { sent, received, finding, ctx } = await probeOnce({
    method: 'GET',
    url: `${loop.base}/ip-only`,
    headers: [
      bearer({ sub: 'alice', exp: hour() }),
      { name: 'Cookie', value: 'sessionid=0123456789abcdef0123; theme=dark' },
      { name: 'User-Agent', value: 'probe-test' },
    ],
  });
  assert.deepEqual(sent.removed, ['cookie:sessionid', 'cookie:theme', 'header:Authorization']);
  assert.equal(received.headers.authorization, undefined);
  assert.equal(received.headers.cookie, undefined);
  assert.equal(received.headers['user-agent'], 'probe-test');
  assert.equal(finding.result.status, 403);
  assert.match(finding.result.meaning, /does not depend on who you are/);
  for (const id of ['insufficient-scope', 'insufficient-role', 'not-owner'] as const)
    assert.ok(finding.result.rulesOut?.includes(id), id);
  assert.ok(finding.result.confirms?.includes('ip-restricted'));
  // Merged with the rules' evidence, an identity cause can no longer lead.
  const after = await diagnose(ctx.first, { probeClaims: finding.claims });
  assert.ok(
    [
      'ip-restricted',
      'path-forbidden',
      'waf-block',
      'filesystem-permission',
      'directory-listing',
      'method-not-allowed',
      'proxy-interference',
      'wrong-endpoint',
      'resource-state',
    ].includes(after.causes[0].id),
    after.causes[0].id,
  );
});

test('allowed without the credential: the credential itself is refused', async () => {
  const { sent, finding } = await probeOnce({
    method: 'GET',
    url: `${loop.base}/public`,
    headers: [bearer({ sub: 'alice' }, 'some-other-key')],
  });
  assert.deepEqual(sent.removed, ['header:Authorization']);
  assert.equal(finding.result.status, 200);
  assert.match(finding.result.meaning, /resource is public/);
  assert.ok(finding.result.confirms?.includes('credential-invalid'));
  assert.ok(finding.result.rulesOut?.includes('credential-missing'));
  assert.ok(finding.result.rulesOut?.includes('ip-restricted'));
  assert.ok(weightOf(finding.claims, 'insufficient-role')[0] < 0);
});

test('a redirect to the login page without the session cookie reads as a challenge', async () => {
  const { sent, received, finding } = await probeOnce(
    {
      method: 'GET',
      url: `${loop.base}/dashboard`,
      headers: [{ name: 'Cookie', value: 'sessionid=0123456789abcdef0123' }],
    },
    2,
  );
  assert.deepEqual(sent.removed, ['cookie:sessionid']);
  assert.equal(received.headers.cookie, undefined);
  assert.deepEqual(
    seen.map((s) => s.url),
    ['/dashboard', '/login?next=/dashboard'],
    'the probe, then the login page it was sent to',
  );
  assert.match(
    finding.result.meaning,
    /^Without your cookie sessionid the server answers a redirect \(302\) to the login page \/login\?next=\/dashboard: it recognises your credential/,
  );
  assert.ok(finding.result.rulesOut?.includes('path-forbidden'));
  assert.ok(finding.result.rulesOut?.includes('credential-missing'));
});

test('404 without the credential: the resource is hidden from anonymous callers', async () => {
  const { finding } = await probeOnce({
    method: 'GET',
    url: `${loop.base}/private-repo`,
    headers: [{ name: 'Authorization', value: 'token ghp_0123456789abcdefghijABCDEFGHIJ012345' }],
  });
  assert.equal(finding.result.status, 404);
  assert.match(finding.result.meaning, /hidden from anonymous callers/);
  assert.deepEqual(weightOf(finding.claims, 'ip-restricted'), [-0.6]);
});

test('the same 401 without the credential: the server may never see it', async () => {
  const { finding } = await probeOnce({
    method: 'GET',
    url: `${loop.base}/stripped`,
    headers: [bearer({ sub: 'alice', exp: hour() })],
  });
  assert.equal(finding.result.status, 401);
  assert.match(finding.result.meaning, /never sees your credential/);
  assert.ok(weightOf(finding.claims, 'credential-missing')[0] > 0);
  assert.equal(finding.result.rulesOut, undefined);
});

test('a different 401 without the credential: it is read and rejected', async () => {
  const { finding } = await probeOnce({
    method: 'GET',
    url: `${loop.base}/reports`,
    headers: [bearer({ sub: 'alice', scope: 'reports:read', exp: Math.floor(Date.now() / 1000) - 600 })],
  });
  assert.equal(finding.result.status, 401);
  assert.match(finding.result.meaning, /reads your credential and rejects it/);
  assert.ok(finding.result.rulesOut?.includes('credential-missing'));
  assert.ok(finding.result.confirms?.includes('credential-expired'));
});

test('an answer that separates nothing claims nothing', async () => {
  const { finding } = await probeOnce({
    method: 'GET',
    url: `${loop.base}/flaky`,
    headers: [bearer({ sub: 'alice' })],
  });
  assert.equal(finding.result.status, 500);
  assert.deepEqual(finding.claims, []);
  assert.match(finding.result.meaning, /does not separate/);
});

test('removes credential headers and query parameters, keeps proxy credentials, anti-forgery tokens and the rest', async () => {
  const { sent, received, finding } = await probeOnce({
    method: 'GET',
    url: `${loop.base}/keyed?page=2&api_key=k_0123456789abcdef01&sort=name`,
    headers: [
      { name: 'X-Api-Key', value: 'AKIA0123456789ABCDEF' },
      { name: 'Proxy-Authorization', value: 'Basic cHJveHk6c2VjcmV0' },
      { name: 'X-CSRF-Token', value: 'csrf-0123456789' },
      { name: 'Cookie', value: 'connect.sid=s%3A0123456789abcdef' },
      { name: 'Accept', value: 'application/json' },
    ],
  });
  assert.deepEqual(sent.removed, ['cookie:connect.sid', 'header:X-Api-Key', 'query:api_key']);
  const url = new URL(received.url, loop.base);
  assert.equal(url.searchParams.get('page'), '2');
  assert.equal(url.searchParams.get('sort'), 'name');
  assert.equal(url.searchParams.has('api_key'), false);
  assert.equal(url.pathname, '/keyed', 'the path is never altered');
  assert.equal(received.headers['x-api-key'], undefined);
  assert.equal(received.headers.cookie, undefined);
  assert.equal(received.headers['proxy-authorization'], 'Basic cHJveHk6c2VjcmV0');
  assert.equal(received.headers['x-csrf-token'], 'csrf-0123456789');
  assert.ok(!finding.result.request!.url.includes('k_0123456789abcdef01'), 'no secret in the report');
});

test('a pre-signed URL loses its whole signature, not half of it', async () => {
  const q =
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=' +
    'ab'.repeat(32);
  const { sent, received } = await probeOnce({
    method: 'GET',
    url: `${loop.base}/bucket/key.txt?versionId=3&${q}`,
    headers: [],
  });
  assert.deepEqual(sent.removed.sort(), [
    'query:X-Amz-Algorithm',
    'query:X-Amz-Credential',
    'query:X-Amz-Date',
    'query:X-Amz-Expires',
    'query:X-Amz-Signature',
    'query:X-Amz-SignedHeaders',
  ]);
  assert.equal(received.url, '/bucket/key.txt?versionId=3');
});

test('does not apply without a credential, or with only a proxy credential', async () => {
  const none = await contextFor({
    method: 'GET',
    url: `${loop.base}/ip-only`,
    headers: [{ name: 'Accept', value: '*/*' }],
  });
  assert.equal(probe.applies(none), 'the request carries no credential to remove');
  const proxyOnly = await contextFor({
    method: 'GET',
    url: `${loop.base}/ip-only`,
    headers: [{ name: 'Proxy-Authorization', value: 'Basic cHJveHk6c2VjcmV0' }],
  });
  assert.match(String(probe.applies(proxyOnly)), /Proxy-Authorization/);
});

test('returns nothing when the budget is spent', async () => {
  const ctx = await contextFor({ method: 'GET', url: `${loop.base}/ip-only`, headers: [bearer({ sub: 'alice' })] });
  let asked = 0;
  const findings = await probe.run(ctx, async () => (asked++, undefined));
  assert.equal(asked, 1);
  assert.deepEqual(findings, []);
});

test('through the runner: the safety guard accepts it and the request is recorded', async () => {
  const ctx = await contextFor({
    method: 'GET',
    url: `${loop.base}/reports`,
    headers: [bearer({ sub: 'alice', scope: 'reports:list', exp: hour() })],
  });
  const sender = createSender(ctx, { env: {} });
  seen.length = 0;
  const run = await runProbes(ctx, planProbes(ctx, [probe]), sender);
  assert.equal(sender.probing.sent, 1);
  assert.deepEqual(sender.probing.skipped, []);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].headers.authorization, undefined);
  assert.equal(run.results.length, 1);
  assert.equal(run.results[0].status, 401);
  assert.deepEqual(run.results[0].request?.removed, ['header:Authorization']);
});

test('removed parts read as words', () => {
  assert.equal(
    describeRemoved(['cookie:sid', 'cookie:theme', 'header:Authorization']),
    'your cookies sid, theme and Authorization header',
  );
  assert.equal(
    describeRemoved(['query:a', 'query:b', 'query:c', 'query:d']),
    'your query parameters a, b, c and 1 more',
  );
});

test('body normalisation levels ids, numbers and whitespace but not words', () => {
  assert.equal(
    normaliseBody('Request 3f2a9c1e-0b1d-4c5e-8f9a-112233445566 at 12:01'),
    normaliseBody('request 9a8b7c6d-5e4f-4a3b-9c2d-aabbccddeeff  at 13:59'),
  );
  assert.notEqual(normaliseBody('{"error":"invalid_token"}'), normaliseBody('{"error":"insufficient_scope"}'));
});
