import { contextFor, serveForTests, sendJson as json, runApplying } from '../test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import type { ExchangeRequest } from '../../model/exchange.ts';
import { diagnose } from '../../diagnose.ts';
import type { Identity } from '../define.ts';
import { createSender, planProbes, runProbes } from '../runner.ts';
import probe from './as-identity.ts';

// An API that judges JWTs it signed itself: scopes on /reports, roles on
// /admin, the audience on /prod, an owner check on /files, an address rule on
// /ip-only, and an API key as a second way in on /multi.
const KEY = 'as-identity-test-key';
const API_KEY = 'key-allowed-0123456789';
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
function jwt(claims: Record<string, unknown>): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', KEY).update(head).digest('base64url')}`;
}
function verify(auth: string | undefined): Record<string, unknown> | 'expired' | undefined {
  const m = /^Bearer (\S+)$/.exec(auth ?? '');
  if (!m) return undefined;
  const [h, p, s] = m[1].split('.');
  if (!s || createHmac('sha256', KEY).update(`${h}.${p}`).digest('base64url') !== s) return undefined;
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  return typeof claims.exp === 'number' && claims.exp * 1000 < Date.now() ? 'expired' : claims;
}
const has = (v: unknown, x: string) =>
  Array.isArray(v)
    ? v.includes(x)
    : String(v ?? '')
        .split(' ')
        .includes(x);

const seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];

const loop = serveForTests((req, res) => {
  seen.push({ method: req.method!, url: req.url!, headers: req.headers });
  const claims = verify(req.headers.authorization);
  if (claims === 'expired')
    return json(
      res,
      401,
      { error: 'invalid_token' },
      { 'www-authenticate': 'Bearer error="invalid_token", error_description="expired"' },
    );
  if (!claims && req.url !== '/ip-only' && req.url !== '/multi')
    return json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
  switch (req.url) {
    case '/reports':
      return has(claims!.scope, 'reports:read')
        ? json(res, 200, { reports: [] })
        : json(res, 403, { error: 'forbidden' });
    case '/admin':
      return has(claims!.roles, 'admin') ? json(res, 200, { ok: true }) : json(res, 403, { error: 'forbidden' });
    case '/prod':
      return claims!.aud === 'api://prod'
        ? json(res, 200, { ok: true })
        : json(
            res,
            401,
            { error: 'invalid_token' },
            { 'www-authenticate': 'Bearer error="invalid_token", error_description="audience"' },
          );
    case '/files':
      return json(res, 403, { message: `${String(claims!.sub)} does not own this file` });
    case '/ip-only':
      return res
        .writeHead(403, { 'content-type': 'text/html' })
        .end('<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1></body></html>');
    case '/multi':
      if (req.headers['x-api-key'] === API_KEY || (claims && has(claims.scope, 'reports:read')))
        return json(res, 200, { ok: true });
      return json(res, 403, { error: 'forbidden' });
    default:
      return json(res, 404, { error: 'not found' });
  }
});

const hour = () => Math.floor(Date.now() / 1000) + 3600;
const bearer = (claims: Record<string, unknown>) => ({ name: 'Authorization', value: `Bearer ${jwt(claims)}` });
const as = (header: { name: string; value: string }, label = '--as'): Identity => ({ label, header });

async function run(req: ExchangeRequest, identities: Identity[], limit?: number) {
  const ctx = await contextFor(req, { identities });
  const { sent, findings } = await runApplying(ctx, probe, seen, { limit });
  return { ctx, sent, findings };
}

test('another identity is allowed and holds a scope yours lacks: insufficient-scope with the gap', async () => {
  const mine = bearer({ sub: 'alice', scope: 'reports:list', exp: hour() });
  const theirs = bearer({ sub: 'bob', scope: 'reports:list reports:read', exp: hour() });
  const { ctx, sent, findings } = await run(
    {
      method: 'GET',
      url: `${loop.base}/reports`,
      headers: [
        mine,
        { name: 'Cookie', value: 'sessionid=0123456789abcdef0123' },
        { name: 'Accept', value: 'application/json' },
      ],
    },
    [as(theirs, '--as-env ALLOWED_TOKEN')],
  );
  assert.equal(sent.length, 1);
  assert.equal(sent[0].request.method, 'GET');
  assert.deepEqual(sent[0].removed, ['cookie:sessionid', 'header:Authorization']);
  assert.deepEqual(sent[0].added, ['header:Authorization (as --as-env ALLOWED_TOKEN)']);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].headers.authorization, theirs.value, 'the named identity, swapped in');
  assert.equal(seen[0].headers.cookie, undefined, 'the first identity’s session does not ride along');
  assert.equal(seen[0].headers.accept, 'application/json');

  const [f] = findings;
  assert.equal(f.result.status, 200);
  assert.match(f.result.meaning, /that identity is allowed/);
  assert.match(f.result.meaning, /scope reports:read that yours lacks/);
  assert.ok(!f.result.meaning.includes(theirs.value.slice(7)), 'no token in the meaning');
  const scope = f.claims.find((c) => c.id === 'insufficient-scope')!;
  assert.equal(scope.weight, 0.85);
  assert.deepEqual(scope.gap, { required: ['reports:read'], held: ['reports:list'] });
  for (const id of [
    'ip-restricted',
    'path-forbidden',
    'waf-block',
    'filesystem-permission',
    'method-not-allowed',
  ] as const)
    assert.ok(f.result.rulesOut?.includes(id), id);

  // The engine takes the gap into the report.
  const after = await diagnose(ctx.first, { probeClaims: f.claims });
  assert.equal(after.causes[0].id, 'insufficient-scope');
  assert.deepEqual(after.causes[0].gap, { required: ['reports:read'], held: ['reports:list'] });
});

test('another identity is allowed and holds a role yours lacks: insufficient-role with the gap', async () => {
  const { findings } = await run(
    { method: 'GET', url: `${loop.base}/admin`, headers: [bearer({ sub: 'alice', roles: ['viewer'] })] },
    [as(bearer({ sub: 'root', roles: ['viewer', 'admin'] }))],
  );
  const [f] = findings;
  assert.equal(f.result.status, 200);
  const role = f.claims.find((c) => c.id === 'insufficient-role')!;
  assert.equal(role.weight, 0.85);
  assert.deepEqual(role.gap, { required: ['admin'], held: ['viewer'] });
  assert.match(f.result.meaning, /role admin that yours lacks/);
});

test('another identity is refused the same way: not specific to your identity', async () => {
  const { sent, findings } = await run(
    { method: 'GET', url: `${loop.base}/ip-only`, headers: [bearer({ sub: 'alice', scope: 'a' })] },
    [as(bearer({ sub: 'bob', scope: 'a b' }))],
  );
  assert.equal(sent.length, 1);
  const [f] = findings;
  assert.equal(f.result.status, 403);
  assert.match(f.result.meaning, /not specific to your identity/);
  for (const id of ['insufficient-scope', 'insufficient-role', 'not-owner'] as const)
    assert.ok(f.result.rulesOut?.includes(id), id);
  assert.ok(f.result.confirms?.includes('ip-restricted'));
});

test('the second credential is itself refused (401): the comparison proves nothing', async () => {
  const { findings } = await run(
    { method: 'GET', url: `${loop.base}/reports`, headers: [bearer({ sub: 'alice', scope: 'reports:list' })] },
    [as(bearer({ sub: 'bob', scope: 'reports:read', exp: Math.floor(Date.now() / 1000) - 60 }))],
  );
  const [f] = findings;
  assert.equal(f.result.status, 401);
  assert.match(f.result.meaning, /does not accept that credential/);
  assert.deepEqual(f.claims, []);
});

test('a denial that names the other identity: the server tells them apart', async () => {
  const { findings } = await run({ method: 'GET', url: `${loop.base}/files`, headers: [bearer({ sub: 'alice' })] }, [
    as(bearer({ sub: 'bob' })),
  ]);
  const [f] = findings;
  assert.equal(f.result.status, 403);
  assert.match(f.result.meaning, /tells the two identities apart/);
  assert.ok(
    f.claims.every(
      (c) =>
        c.weight < 0 &&
        ['ip-restricted', 'path-forbidden', 'waf-block', 'filesystem-permission', 'directory-listing'].includes(c.id),
    ),
  );
});

test('your 401 against their 200 with another audience: wrong-audience', async () => {
  const { findings } = await run(
    { method: 'GET', url: `${loop.base}/prod`, headers: [bearer({ sub: 'alice', aud: 'api://dev', exp: hour() })] },
    [as(bearer({ sub: 'alice', aud: 'api://prod', exp: hour() }))],
  );
  const [f] = findings;
  assert.equal(f.result.status, 200);
  assert.match(f.result.meaning, /the problem is your credential/);
  assert.match(f.result.meaning, /audience api:\/\/prod against yours api:\/\/dev/);
  assert.equal(f.claims.find((c) => c.id === 'wrong-audience')?.weight, 0.7);
});

test('at most two identities, each in its own header, the user’s credentials removed each time', async () => {
  const mine = bearer({ sub: 'alice', scope: 'reports:list' });
  const identities = [
    as({ name: 'X-Api-Key', value: API_KEY }, '--as'),
    as(bearer({ sub: 'bob', scope: 'reports:read' }), '--as-cmd'),
    as(bearer({ sub: 'carol', scope: 'reports:read' }), '--as-env THIRD'),
  ];
  const { sent, findings } = await run({ method: 'GET', url: `${loop.base}/multi`, headers: [mine] }, identities);
  assert.equal(sent.length, 2, 'the third identity is not tried');
  assert.deepEqual(
    sent.map((s) => [s.removed, s.added]),
    [
      [['header:Authorization'], ['header:X-Api-Key (as --as)']],
      [['header:Authorization'], ['header:Authorization (as --as-cmd)']],
    ],
  );
  assert.deepEqual(
    seen.map((s) => [s.headers.authorization, s.headers['x-api-key']]),
    [
      [undefined, API_KEY],
      [identities[1].header.value, undefined],
    ],
  );
  assert.deepEqual(
    findings.map((f) => f.result.status),
    [200, 200],
  );
  assert.match(findings[0].result.meaning, /its credential \(api-key\) carries no claims to compare/);
});

test('stops when the budget is spent after the first identity', async () => {
  const { sent, findings } = await run(
    { method: 'GET', url: `${loop.base}/multi`, headers: [bearer({ sub: 'alice' })] },
    [as({ name: 'X-Api-Key', value: API_KEY }), as({ name: 'X-Api-Key', value: 'another-key-0123456789' })],
    1,
  );
  assert.equal(sent.length, 1);
  assert.equal(findings.length, 1);
});

test('does not apply without a second identity', async () => {
  const ctx = await contextFor({ method: 'GET', url: `${loop.base}/ip-only`, headers: [bearer({ sub: 'alice' })] });
  assert.match(String(probe.applies(ctx)), /no second identity/);
});

test('through the runner: the guard accepts the named identity and nothing else', async () => {
  const theirs = bearer({ sub: 'bob', scope: 'reports:read' });
  const ctx = await contextFor(
    { method: 'GET', url: `${loop.base}/reports`, headers: [bearer({ sub: 'alice', scope: 'reports:list' })] },
    { identities: [as(theirs)] },
  );
  const sender = createSender(ctx, { env: {} });
  seen.length = 0;
  const out = await runProbes(ctx, planProbes(ctx, [probe]), sender);
  assert.equal(sender.probing.sent, 1);
  assert.deepEqual(sender.probing.skipped, []);
  assert.equal(seen[0].headers.authorization, theirs.value);
  assert.equal(out.results[0].status, 200);
  assert.ok(out.claims.some((c) => c.id === 'insufficient-scope' && c.gap));
});
