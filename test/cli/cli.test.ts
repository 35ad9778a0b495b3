// The CLI as a user runs it: a child process, its output and its exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'src/cli/bin.ts');

function run(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...opts.env },
    timeout: 30000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('explain: the README first example names nginx and exits 1', () => {
  const r = run(['explain', 'examples/nginx-forbidden.http']);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /Who said no\n  nginx · web-server/);
  assert.match(r.out, /Why\n  1\. (path-forbidden|ip-restricted|filesystem-permission)/);
  assert.match(r.out, /What now/);
  assert.ok(!/\u001b\[/.test(r.out), 'no colour when not a terminal');
  // Prose fits 80 columns; a shell command is printed whole so it can be pasted.
  for (const line of r.out.split('\n'))
    if (!line.trimStart().startsWith('$ ')) assert.ok(line.length <= 80, `line longer than 80 columns: ${line}`);
});

test('explain --json prints why403/report@1 with the design.md fields', () => {
  const r = run(['explain', '--json', 'examples/s3-expired-presigned-url.http']);
  assert.equal(r.code, 1, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.schema, 'why403/report@1');
  assert.deepEqual(Object.keys(report.request), ['method', 'url']);
  assert.equal(report.status, 403);
  assert.deepEqual([report.deniedBy.layer, report.deniedBy.product], ['storage', 'aws-s3']);
  assert.equal(report.causes[0].id, 'credential-expired');
  for (const c of report.causes) {
    assert.ok(['high', 'medium', 'low'].includes(c.likelihood));
    assert.ok(c.score >= 0 && c.score <= 1);
    for (const e of c.evidence) assert.equal(typeof e.source, 'string');
    for (const f of c.fixes) assert.ok(['easy', 'medium', 'hard'].includes(f.difficulty));
  }
  const scores = report.causes.map((c: { score: number }) => c.score);
  assert.deepEqual(
    scores,
    [...scores].sort((a, b) => b - a),
    'causes sorted by score',
  );
  assert.ok(
    !r.out.includes('aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404'),
    'the URL signature is redacted',
  );
  assert.ok(Array.isArray(report.probes));
  assert.equal(report.credential.scheme, 'aws-presigned-url');
});

test('--show-secrets keeps the signature', () => {
  const r = run(['explain', '--json', '--show-secrets', 'examples/s3-expired-presigned-url.http']);
  assert.ok(r.out.includes('aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404'));
});

test('explain --jsonl and --markdown; several files', () => {
  const jl = run(['explain', '--jsonl', 'examples/nginx-forbidden.http', 'examples/s3-expired-presigned-url.http']);
  const lines = jl.out.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.deepEqual(
    lines.map((l) => JSON.parse(l).deniedBy.product),
    ['nginx', 'aws-s3'],
  );
  const md = run(['explain', '--markdown', 'examples/s3-expired-presigned-url.http']);
  assert.match(md.out, /^## 403 Forbidden on `GET /);
  assert.match(md.out, /### What to try/);
  assert.match(md.out, /- \[ \] \*\*/);
});

test('standard input with -', () => {
  const raw =
    'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="admin"\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n';
  const r = run(['explain', '--json', '-'], { input: raw });
  assert.equal(r.code, 1, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.outcome, 'unauthenticated');
  assert.equal(report.causes[0].id, 'credential-missing');
});

test('a response that is not a denial is reported plainly and exits 0', () => {
  const r = run(['explain', '--json', '-'], {
    input: 'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope',
  });
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.outcome, 'not-found');
  assert.deepEqual(report.causes, []);
  assert.match(report.headline, /404 Not Found: not a denial/);
});

test('bad input: one line on stderr, exit 2, no stack trace', () => {
  const cases: [string[], RegExp, string?][] = [
    [['explain', 'no/such/file.har'], /no\/such\/file\.har/],
    [['explain', '-'], /-: .*(HAR|JSON|raw HTTP|curl)/, 'this is not anything'],
    [['explain', '--bogus', 'x'], /unknown option --bogus/],
    [['explain'], /needs at least one FILE/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['check'], /needs a URL/],
    [['check', 'not a url'], /is not a URL/],
    [['check', '-X', 'DELETE', 'http://127.0.0.1:9/x'], /--allow-unsafe/],
    [['check', '--timeout', 'soon', 'http://127.0.0.1:9/'], /--timeout "soon"/],
    [['explain', '--json', '--jsonl', 'x'], /choose one output format/],
    [['check', '--budget', '-1', 'http://127.0.0.1:9/'], /--budget/],
  ];
  for (const [args, pattern, input] of cases) {
    const r = run(args, { input });
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.err}`);
    assert.match(r.err, pattern);
    assert.ok(!/\n\s+at /.test(r.err), 'no stack trace');
  }
});

test('--debug adds the stack trace', () => {
  const r = run(['explain', '--debug', 'no/such/file.har']);
  assert.equal(r.code, 2);
  assert.match(r.err, /\n\s+at /);
});

test('network failure exits 3 with one line', () => {
  const r = run(['check', '--timeout', '5', 'http://127.0.0.1:9/x']);
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /^why403: 127\.0\.0\.1:9: connection refused/);
});

test('check --dry-run prints the request, redacted, and sends nothing', () => {
  const r = run([
    'check',
    '--dry-run',
    '--',
    'curl',
    'http://127.0.0.1:9/x',
    '-H',
    'Authorization: Bearer abcdefghijklmnopqrstuvwxyz',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /would send: GET http:\/\/127\.0\.0\.1:9\/x/);
  assert.ok(!r.out.includes('abcdefghijklmnopqrstuvwxyz'));
});

test('--help and --version', () => {
  assert.match(run(['--help']).out, /Exit codes: 0 no denial, 1 denied/);
  assert.match(run(['--version']).out, /^why403 \d+\.\d+\.\d+/);
  assert.match(run(['check', '--help']).out, /--allow-unsafe/);
  const audit = run(['audit', '--help']);
  assert.equal(audit.code, 0);
  assert.match(audit.out, /--openapi FILE\|URL[\s\S]*--junit FILE[\s\S]*Exit codes:/);
  assert.match(run(['--help']).out, /why403 audit --openapi SPEC/);
});

test('token decodes a JWT: claims, scopes, expiry; the signature stays hidden', async () => {
  const { SignJWT, generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('RS256');
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ scope: 'read:reports write:reports', tid: 'contoso' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer('https://issuer.example.test/')
    .setAudience('https://api.example.test')
    .setSubject('user-42')
    .setIssuedAt(now - 7200)
    .setExpirationTime(now - 3600)
    .sign(privateKey);
  const signature = jwt.split('.')[2];
  const text = run(['token', `Bearer ${jwt}`]);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /bearer-jwt/);
  assert.match(text.out, /user-42/);
  assert.match(text.out, /read:reports write:reports/);
  assert.match(text.out, /expired/i);
  assert.ok(!text.out.includes(signature), 'signature hidden');
  const json = JSON.parse(run(['token', '--json', '-'], { input: jwt }).out);
  assert.equal(json.scheme, 'bearer-jwt');
  assert.equal(json.items[0].subject, 'user-42');
  assert.ok(json.findings.some((f: { cause: string }) => f.cause === 'credential-expired'));
  assert.ok(!JSON.stringify(json).includes(signature));
  assert.equal(run(['token']).code, 2);
});

test('rules lists producers and causes with their fixtures', () => {
  const r = run(['rules']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Producers \(\d+\):/m);
  assert.match(r.out, /^  nginx\s+web-server\s+\d+$/m);
  for (const line of r.out.split('\n')) assert.ok(line.length <= 80, `line longer than 80 columns: ${line}`);
  const json = JSON.parse(run(['rules', '--json']).out);
  const s3 = json.producers.find((p: { product: string }) => p.product === 'aws-s3');
  assert.deepEqual(s3.layers, ['storage']);
  assert.ok(s3.fixtures >= 2);
  assert.ok(json.causes.every((c: { id: string }) => c.id !== 'unknown'));
  const labelled = json.causes.reduce((n: number, c: { fixtures: number }) => n + c.fixtures, 0);
  assert.ok(labelled > 0 && labelled <= json.fixtures, 'every counted cause fixture is one of the fixtures');
});

test("explain: every response why403's own middleware gave (captured) is read exactly: producer why403, its cause, its gap", async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = join(root, 'src/rules/why403/fixtures');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 5, files.join(', '));
  const r = run(['explain', '--jsonl', ...files.map((f) => join(dir, f))]);
  assert.equal(r.code, 1, r.err);
  const reports = r.out
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          deniedBy: { product: string };
          causes: { id: string; gap?: { required: string[]; held: string[] } }[];
        },
    );
  assert.equal(reports.length, files.length);
  files.forEach((f, i) => {
    const fx = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      label: { cause: string };
      response: { body: string };
    };
    const body = JSON.parse(fx.response.body) as { required?: string[]; held?: string[] };
    assert.equal(reports[i]!.deniedBy.product, 'why403', f);
    assert.equal(reports[i]!.causes[0]!.id, fx.label.cause, f);
    if (body.required) assert.deepEqual(reports[i]!.causes[0]!.gap, { required: body.required, held: body.held }, f);
  });
});
