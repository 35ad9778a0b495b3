import { contextFor, serveForTests, sendJson as json, runApplying } from '../test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExchangeRequest, NameValue } from '../../model/exchange.ts';
import { diagnose } from '../../diagnose.ts';
import { createSender, planProbes, runProbes } from '../runner.ts';
import probe from './fresh-credential.ts';
import { runCredentialCommand } from '../credential-command.ts';
const runTokenCommand = (cmd: string, env: NodeJS.ProcessEnv, timeoutMs?: number) =>
  runCredentialCommand(cmd, env, '--token-cmd', timeoutMs);

// An API that checks its own HS256 tokens: expiry (401), scope (403), and a
// refusal by client address that no credential changes (/ip-only).
const KEY = 'fresh-credential-test-key';
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
function jwt(claims: Record<string, unknown>): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', KEY).update(head).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];

const loop = serveForTests((req, res) => {
  seen.push({ url: req.url!, headers: req.headers });
  if (req.url === '/ip-only')
    return res.writeHead(403, { 'content-type': 'text/html' }).end('<html><body><h1>Forbidden</h1></body></html>');
  if (req.url === '/keyed')
    return req.headers['x-api-key'] === 'fresh-key-0123456789abcdef'
      ? json(res, 200, { ok: true })
      : json(res, 401, { error: 'invalid api key' });
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  if (!m) return json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
  const [h, p, s] = m[1].split('.');
  if (!s || createHmac('sha256', KEY).update(`${h}.${p}`).digest('base64url') !== s)
    return json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { exp?: number; scope?: string };
  if (claims.exp && claims.exp < now())
    return json(
      res,
      401,
      { error: 'invalid_token' },
      { 'www-authenticate': 'Bearer error="invalid_token", error_description="The token expired"' },
    );
  if (!(claims.scope ?? '').split(' ').includes('reports:read')) return json(res, 403, { error: 'forbidden' });
  return json(res, 200, { reports: [] });
});

// The command reads the fresh token from its environment, as `--token-cmd 'vault read …'` would from its own store.
const PRINT_FRESH = `printf '%s' "$FRESH"`;
const envWith = (fresh: string) => ({ PATH: process.env.PATH, FRESH: fresh });
const bearer = (claims: Record<string, unknown>) => ({ name: 'Authorization', value: `Bearer ${jwt(claims)}` });

async function run(req: ExchangeRequest, tokenCmd: string, env: NodeJS.ProcessEnv) {
  const ctx = await contextFor(req, { tokenCmd, env });
  const { sent, findings } = await runApplying(ctx, probe, seen);
  return { ctx, sent, findings };
}

/** GET `path` with `headers`, and a --token-cmd that prints `printed`. */
const renew = (path: string, headers: NameValue[], printed: string) =>
  run({ method: 'GET', url: `${loop.base}${path}`, headers }, PRINT_FRESH, envWith(printed));

/** alice's reports:list token on /reports, expired a minute ago, and a fresh one holding `scope`. */
const renewList = (scope: string) =>
  renew(
    '/reports',
    [bearer({ sub: 'alice', scope: 'reports:list', exp: now() - 60 })],
    jwt({ sub: 'alice', scope, exp: now() + 3600 }),
  );

test('an expired token, and a fresh one is accepted: credential-expired confirmed, permission ruled out', async () => {
  const fresh = jwt({ sub: 'alice', scope: 'reports:read', exp: now() + 3600 });
  const { ctx, sent, findings } = await renew(
    '/reports',
    [bearer({ sub: 'alice', scope: 'reports:read', exp: now() - 3600 }), { name: 'Accept', value: 'application/json' }],
    fresh,
  );
  assert.equal(sent.length, 1);
  assert.equal(sent[0].request.method, 'GET');
  assert.deepEqual(sent[0].removed, ['header:Authorization']);
  assert.deepEqual(sent[0].added, ['header:Authorization (fresh from --token-cmd)']);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].headers.authorization, `Bearer ${fresh}`, 'the scheme the user wrote, with the fresh token');
  assert.equal(seen[0].headers.accept, 'application/json');
  const [f] = findings;
  assert.equal(f.result.status, 200);
  assert.match(f.result.meaning, /the old credential had expired/);
  assert.match(f.result.meaning, /sub alice, scope reports:read, expires in/);
  assert.ok(
    !JSON.stringify(f).includes(fresh) && !JSON.stringify(f).includes(fresh.split('.')[2]),
    'the fresh token appears nowhere',
  );
  assert.equal(f.claims.find((c) => c.id === 'credential-expired')?.weight, 0.85);
  for (const id of ['insufficient-scope', 'insufficient-role', 'ip-restricted', 'clock-skew'] as const)
    assert.ok(f.result.rulesOut?.includes(id), id);
  const after = await diagnose(ctx.first, { probeClaims: f.claims });
  assert.equal(after.causes[0].id, 'credential-expired');
});

test('a fresh token refused the same way: expiry is not why', async () => {
  const { findings } = await renew(
    '/ip-only',
    [bearer({ sub: 'alice', exp: now() - 3600 })],
    jwt({ sub: 'alice', exp: now() + 3600 }),
  );
  const [f] = findings;
  assert.equal(f.result.status, 403);
  assert.match(f.result.meaning, /age or revocation is not why/);
  assert.ok(f.result.rulesOut?.includes('credential-expired'));
  assert.ok(f.result.rulesOut?.includes('credential-invalid'));
});

test('401 with the old token, 403 with the fresh one: it had expired, and a grant is missing too', async () => {
  const { findings } = await renewList('reports:list');
  const [f] = findings;
  assert.equal(f.result.status, 403);
  assert.match(f.result.meaning, /403 instead of 401/);
  assert.equal(f.claims.find((c) => c.id === 'credential-expired')?.weight, 0.7);
  assert.equal(f.claims.find((c) => c.id === 'insufficient-scope')?.weight, 0.35);
});

test('a fresh token that also carries more scope proves less about age', async () => {
  const { findings } = await renewList('reports:list reports:read');
  const [f] = findings;
  assert.equal(f.result.status, 200);
  assert.match(f.result.meaning, /also holds reports:read/);
  assert.equal(f.claims.find((c) => c.id === 'credential-expired')?.weight, 0.5);
  assert.deepEqual(f.claims.find((c) => c.id === 'insufficient-scope')?.gap, {
    required: ['reports:read'],
    held: ['reports:list'],
  });
});

test('an API-key header is replaced in place, and a printed scheme is not doubled', async () => {
  const keyed = await renew(
    '/keyed',
    [{ name: 'X-Api-Key', value: 'old-key-0123456789abcdef' }],
    'fresh-key-0123456789abcdef',
  );
  assert.deepEqual(keyed.sent[0].removed, ['header:X-Api-Key']);
  assert.equal(seen[0].headers['x-api-key'], 'fresh-key-0123456789abcdef');
  assert.equal(keyed.findings[0].result.status, 200);

  const token = jwt({ sub: 'alice', scope: 'reports:read', exp: now() + 3600 });
  await renew('/reports', [bearer({ sub: 'alice', scope: 'reports:read', exp: now() - 60 })], `Bearer ${token}`);
  assert.equal(seen[0].headers.authorization, `Bearer ${token}`);
});

test('a failing command: no request, one line, no claims', async () => {
  const req = { method: 'GET', url: `${loop.base}/reports`, headers: [bearer({ sub: 'alice', exp: now() - 60 })] };
  for (const [cmd, expected] of [
    ['echo "token service unavailable" >&2; exit 3', /failed \(exit 3\): token service unavailable/],
    ['true', /printed nothing/],
    [`printf 'two words'`, /printed 2 words/],
  ] as const) {
    const { sent, findings } = await run(req, cmd, { PATH: process.env.PATH });
    assert.equal(sent.length, 0, cmd);
    assert.equal(findings.length, 1);
    assert.equal(findings[0].result.status, null);
    assert.match(findings[0].result.meaning, expected);
    assert.ok(!findings[0].result.meaning.includes('\n'));
    assert.deepEqual(findings[0].claims, []);
  }
});

test('the same credential printed again: nothing is sent', async () => {
  const old = jwt({ sub: 'alice', exp: now() - 60 });
  const { sent, findings } = await renew('/reports', [{ name: 'Authorization', value: `Bearer ${old}` }], old);
  assert.equal(sent.length, 0);
  assert.match(findings[0].result.meaning, /same credential/);
});

test('applies only with --token-cmd, an expiry hypothesis and a credential it can replace; plan runs nothing', async () => {
  const expired = { method: 'GET', url: `${loop.base}/reports`, headers: [bearer({ sub: 'alice', exp: now() - 60 })] };
  assert.match(String(probe.applies(await contextFor(expired))), /no --token-cmd/);
  const scoped = await contextFor(
    { method: 'GET', url: `${loop.base}/reports`, headers: [bearer({ sub: 'alice', exp: now() + 60 })] },
    { tokenCmd: 'true' },
  );
  scoped.standing = ['insufficient-scope'];
  assert.match(String(probe.applies(scoped)), /neither expiry nor revocation/);
  const sigv4 = await contextFor(
    {
      method: 'GET',
      url: `${loop.base}/ip-only`,
      headers: [
        {
          name: 'Authorization',
          value: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'ab'.repeat(32)}`,
        },
      ],
    },
    { tokenCmd: 'true' },
  );
  assert.match(String(probe.applies(sigv4)), /signature over the request/);

  const dir = mkdtempSync(join(tmpdir(), 'why403-fresh-'));
  try {
    const marker = join(dir, 'ran');
    const ctx = await contextFor(expired, { tokenCmd: `touch ${marker}; echo x`, env: { PATH: process.env.PATH } });
    const [planned] = probe.plan(ctx);
    assert.equal(
      planned.request.headers.find((h) => h.name === 'Authorization')?.value,
      'Bearer <output of --token-cmd>',
    );
    assert.equal(existsSync(marker), false, 'planning never runs the command');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the command is stopped at its time limit', async () => {
  await assert.rejects(runTokenCommand('sleep 5', { PATH: process.env.PATH }, 200), /did not finish within 0.2 s/);
});

test('through the runner: the guard accepts the fresh value only once check has read it', async () => {
  const fresh = jwt({ sub: 'alice', scope: 'reports:read', exp: now() + 3600 });
  const req = {
    method: 'GET',
    url: `${loop.base}/reports`,
    headers: [bearer({ sub: 'alice', scope: 'reports:read', exp: now() - 3600 })],
  };

  const ctx = await contextFor(req, { tokenCmd: PRINT_FRESH, env: envWith(fresh) });
  const sender = createSender(ctx, { env: {} });
  // As check.ts wires it: the value is read once and handed to the guard.
  ctx.freshCredential = () => runTokenCommand(PRINT_FRESH, envWith(fresh)).then((v) => (sender.setFreshValue(v), v));
  seen.length = 0;
  const out = await runProbes(ctx, planProbes(ctx, [probe]), sender);
  assert.equal(sender.probing.sent, 1);
  assert.equal(seen[0].headers.authorization, `Bearer ${fresh}`);
  assert.equal(out.results[0].status, 200);

  // Without that hand-over the guard refuses a header value the user never gave.
  const unguarded = await contextFor(req, { tokenCmd: PRINT_FRESH, env: envWith(fresh) });
  const refusing = createSender(unguarded, { env: {} });
  seen.length = 0;
  await runProbes(unguarded, planProbes(unguarded, [probe]), refusing);
  assert.equal(seen.length, 0);
  assert.match(
    refusing.probing.skipped.find((s) => s.name === 'fresh-credential')?.reason ?? '',
    /refused by the safety guard/,
  );
});
