// Differential probes end to end (issue 3, point 5): real nginx, Express and
// Squid on 127.0.0.1, denials whose response alone is ambiguous or
// misleading, and `why403 check` whose probes must make the top cause right.
// Each scenario runs the CLI twice — passive (--no-probes: exactly one request)
// and probing — and checks the probes three ways: what the report says it
// sent, what the server logged receiving (assertTraffic: design.md section 4
// seen from the server), and how the ranking moved.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../../src/model/report.ts';
import type { CauseId } from '../../src/model/vocabulary.ts';
import type { LoggedRequest, RunningServer } from '../servers/common.ts';
import { NGINX_PROBE_LOCATIONS, startNginx } from '../servers/nginx.ts';
import {
  EXPRESS_ALLOWED_ORIGIN,
  EXPRESS_EXPORTS_SCOPE,
  EXPRESS_REQUIRED_SCOPE,
  expressCsrf,
  mintToken,
  startExpress,
} from '../servers/express.ts';
import { startSquid } from '../servers/squid.ts';
import { ROOT } from './helpers.ts';
import {
  assertTraffic,
  cliEnv,
  IDENTITY_CAUSES,
  parseJsonReport,
  probeRequests,
  probesSaid,
  ranked,
  received,
  why403,
} from './probe-helpers.ts';

const onPath = (cmd: string) =>
  ['/usr/sbin', ...(process.env.PATH ?? '').split(':')].some((d) => d && existsSync(join(d, cmd)));
const missing = [
  !onPath('nginx') && 'nginx (Debian package nginx)',
  !onPath('squid') && 'squid (Debian package squid)',
].filter(Boolean);
// On a developer's machine a missing server skips the suite; in CI it must be there.
const skip =
  missing.length && process.env.CI !== 'true' ? `${missing.join(', ')} not installed; .ci/run installs them` : false;

/** A fake session the denying servers never look at. */
const SESSION_COOKIE = 'sessionid=why403testsession0123456789abcdef';

interface Run {
  report: Report;
  code: number | null;
  stderr: string;
  requests: LoggedRequest[];
}

const byId = (r: Report, id: CauseId) => r.causes.find((c) => c.id === id);
const scoreOf = (r: Report, id: CauseId) => byId(r, id)?.score ?? 0;

describe('probes make the top cause right (real servers on 127.0.0.1)', { timeout: 120_000, skip }, () => {
  let nginx: RunningServer;
  let app: RunningServer;
  let squid: RunningServer;
  before(async () => {
    [nginx, app] = await Promise.all([startNginx(), startExpress({ nodeEnv: 'production', requestLog: true })]);
    squid = await startSquid({ denyPorts: [nginx.port] });
  });
  after(async () => {
    await Promise.all([nginx?.stop(), app?.stop(), squid?.stop()]);
  });

  /** `check --json [flags] URL [request args]` against `server`, and what the server received for `path`. */
  async function check(server: RunningServer, path: string, args: string[], env = cliEnv()): Promise<Run> {
    const { result, requests } = await received(server, path, () =>
      why403(['check', '--json', '--timeout', '5', ...args], env),
    );
    const report = parseJsonReport(result);
    return { report, code: result.code, stderr: result.stderr, requests };
  }

  /** The passive run: --no-probes sends exactly one request and reports no probe. */
  async function passive(server: RunningServer, path: string, args: string[], env = cliEnv()): Promise<Report> {
    const run = await check(server, path, ['--no-probes', ...args], env);
    assert.equal(
      run.requests.length,
      1,
      `--no-probes sends exactly one request; the server received ${run.requests.length}`,
    );
    assert.deepEqual(run.report.probes, [], '--no-probes reports no probe');
    assert.equal(run.code, 1, `a denial exits 1; stderr: ${run.stderr}`);
    return run.report;
  }

  /** The probing run: exit 1 (still denied), and the server saw exactly what the report lists. */
  async function probing(
    server: RunningServer,
    path: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; allowUnsafe?: boolean; budget?: number } = {},
  ): Promise<Run> {
    const run = await check(server, path, args, opts.env);
    assert.equal(run.code, 1, `the user's request is still denied: exit 1; stderr: ${run.stderr}`);
    assertTraffic(run.report, run.requests, { allowUnsafe: opts.allowUnsafe, budget: opts.budget });
    return run;
  }

  /** The probes added evidence for the cause: it scores higher than in the passive run. */
  const expectRaised = (passiveReport: Report, probed: Report, id: CauseId) =>
    assert.ok(
      scoreOf(probed, id) > scoreOf(passiveReport, id),
      `probes raise ${id} above its passive ${scoreOf(passiveReport, id)}; passive ranked ${ranked(passiveReport)}; probed ranked ${ranked(probed)}`,
    );
  const expectTop = (r: Report, id: CauseId) =>
    assert.equal(r.causes[0]?.id, id, `top cause ${id}; ranked ${ranked(r)}\nprobes:\n${probesSaid(r)}`);
  const expectProbes = (r: Report, expected: ReturnType<typeof probeRequests>) =>
    assert.deepEqual(probeRequests(r), expected, `the probe requests sent\nprobes:\n${probesSaid(r)}`);

  /** The answer did not change without the credential: every identity cause sits below the top, at low likelihood. */
  function expectIdentityRuledOut(r: Report): void {
    const wc = r.probes.find((p) => p.name === 'without-credential');
    assert.ok(wc, `a without-credential probe ran\nprobes:\n${probesSaid(r)}`);
    assert.ok(
      (wc.rulesOut ?? []).some((c) => IDENTITY_CAUSES.includes(c)),
      `without-credential rules out identity causes; it ruled out [${wc.rulesOut?.join(', ') ?? ''}]`,
    );
    const top = r.causes[0];
    for (const c of r.causes.filter((c) => IDENTITY_CAUSES.includes(c.id))) {
      assert.ok(
        c.score < top.score,
        `${c.id} (${c.score}) is below the top cause ${top.id} (${top.score}); ranked ${ranked(r)}`,
      );
      assert.equal(
        c.likelihood,
        'low',
        `${c.id} is low once the credential is shown not to matter; ranked ${ranked(r)}`,
      );
    }
  }

  // nginx answers its stock 403 page to a deny rule, an IP rule, an unreadable
  // file and an `if … return 403`: the response cannot tell these apart.
  const NGINX_LOOKALIKES: CauseId[] = ['path-forbidden', 'ip-restricted', 'filesystem-permission'];

  it(
    '1. nginx User-Agent rule: minimise finds that removing User-Agent turns 403 into 200 → waf-block',
    { timeout: 30_000 },
    async () => {
      const { path } = NGINX_PROBE_LOCATIONS['user-agent-rule'];
      const args = [
        nginx.origin + path,
        '-H',
        'User-Agent: curl/8.5.0',
        '-H',
        'Accept: text/plain',
        '-H',
        'Accept-Language: en',
      ];
      // Passive: nginx's stock 403 page says nothing of the User-Agent.
      const before = await passive(nginx, path, args);
      const { report, requests } = await probing(nginx, path, args);
      // Delta debugging only removes: all of the user's headers, then halves, down to the one that matters.
      expectProbes(report, [
        {
          name: 'minimise',
          method: 'GET',
          removed: ['header:User-Agent', 'header:Accept', 'header:Accept-Language'],
          added: [],
          status: 200,
        },
        { name: 'minimise', method: 'GET', removed: ['header:User-Agent', 'header:Accept'], added: [], status: 200 },
        { name: 'minimise', method: 'GET', removed: ['header:User-Agent'], added: [], status: 200 },
      ]);
      expectTop(report, 'waf-block');
      expectRaised(before, report, 'waf-block');
      assert.match(
        report.probes.at(-1)!.meaning,
        /User-Agent/,
        'the last minimise result names the header whose removal flips the answer',
      );
      // The server's side: the requests without User-Agent were the ones allowed.
      requests
        .slice(1)
        .forEach((r) =>
          assert.equal(
            r.status,
            r.headers['user-agent'] === undefined ? 200 : 403,
            `nginx allows exactly the requests without the curl User-Agent: ${JSON.stringify(r)}`,
          ),
        );
    },
  );

  it(
    '2. nginx `deny 127.0.0.1` with an expired Bearer JWT: without-credential gets the same 403 → the expiry is beside the point, an IP/path rule on top',
    { timeout: 30_000 },
    async () => {
      const { path } = NGINX_PROBE_LOCATIONS['deny-loopback'];
      // The token really is expired, so the passive diagnosis blames it; nginx never reads it.
      const { token } = await mintToken(app.origin, { scope: EXPRESS_REQUIRED_SCOPE, expiresIn: -3600 });
      const args = [nginx.origin + path, '-H', `Authorization: Bearer ${token}`];
      const before = await passive(nginx, path, args);
      const { report } = await probing(nginx, path, args);
      expectProbes(report, [
        { name: 'without-credential', method: 'GET', removed: ['header:Authorization'], added: [], status: 403 },
      ]);
      assert.ok(
        ['ip-restricted', 'path-forbidden'].includes(report.causes[0]?.id),
        `top is ip-restricted or its look-alike path-forbidden; ranked ${ranked(report)}`,
      );
      expectRaised(before, report, 'ip-restricted');
      expectIdentityRuledOut(report);
    },
  );

  it(
    '3. nginx unreadable file (root:root 0600) with a session cookie: identity ruled out, a server-side cause on top',
    { timeout: 30_000 },
    async () => {
      const path = '/secret.txt';
      const args = [nginx.origin + path, '-H', `Cookie: ${SESSION_COOKIE}`];
      const before = await passive(nginx, path, args);
      const { report } = await probing(nginx, path, args);
      // One request answers it; a second identical one (the same cookie removed again) would only spend budget.
      expectProbes(report, [
        { name: 'without-credential', method: 'GET', removed: ['cookie:sessionid'], added: [], status: 403 },
      ]);
      assert.ok(
        NGINX_LOOKALIKES.includes(report.causes[0]?.id),
        `top among ${NGINX_LOOKALIKES.join(', ')}; ranked ${ranked(report)}`,
      );
      expectRaised(before, report, 'filesystem-permission');
      expectIdentityRuledOut(report);
    },
  );

  // /api/exports answers a bare {"error":"forbidden"}: no challenge, no scope named.
  async function scopeScenario(identityArgs: string[], env: NodeJS.ProcessEnv, label: string) {
    // label: how the report names the identity in `added`, e.g. "as --as".
    const path = '/api/exports';
    const { token } = await mintToken(app.origin, { scope: EXPRESS_REQUIRED_SCOPE });
    const args = [app.origin + path, '-H', `Authorization: Bearer ${token}`];
    // Passive: the bare JSON 403 names no scope.
    const before = await passive(app, path, args, env);
    const { report } = await probing(app, path, [...identityArgs, ...args], { env });
    expectProbes(report, [
      { name: 'without-credential', method: 'GET', removed: ['header:Authorization'], added: [], status: 401 },
      {
        name: 'as-identity',
        method: 'GET',
        removed: ['header:Authorization'],
        added: [`header:Authorization (as ${label})`],
        status: 200,
      },
    ]);
    expectTop(report, 'insufficient-scope');
    expectRaised(before, report, 'insufficient-scope');
    const gap = report.causes[0].gap;
    assert.ok(
      gap?.required.includes(EXPRESS_EXPORTS_SCOPE),
      `the gap names the scope the allowed identity holds and the user's lacks; gap ${JSON.stringify(gap)}`,
    );
    assert.ok(
      !gap?.required.includes(EXPRESS_REQUIRED_SCOPE),
      `a scope both hold is not part of the gap; gap ${JSON.stringify(gap)}`,
    );
    return report;
  }

  it(
    '4a. Express missing scope, second identity with --as: as-identity 200 → insufficient-scope with the scope in the gap',
    { timeout: 30_000 },
    async () => {
      const { token } = await mintToken(app.origin, { scope: `${EXPRESS_REQUIRED_SCOPE} ${EXPRESS_EXPORTS_SCOPE}` });
      const report = await scopeScenario(['--as', `Authorization: Bearer ${token}`], cliEnv(), '--as');
      assert.ok(!JSON.stringify(report).includes(token), 'the second identity’s token is redacted in the report');
    },
  );

  it('4b. the same with --as-env: the token read from an environment variable', { timeout: 30_000 }, async () => {
    const { token } = await mintToken(app.origin, { scope: `${EXPRESS_REQUIRED_SCOPE} ${EXPRESS_EXPORTS_SCOPE}` });
    const report = await scopeScenario(
      ['--as-env', 'WHY403_ALLOWED_TOKEN'],
      cliEnv({ WHY403_ALLOWED_TOKEN: token }),
      '--as-env WHY403_ALLOWED_TOKEN',
    );
    assert.ok(!JSON.stringify(report).includes(token), 'the second identity’s token is redacted in the report');
  });

  it(
    '5. Express expired token with --token-cmd: a fresh token gets 200 → credential-expired confirmed',
    { timeout: 30_000 },
    async () => {
      const path = '/api/exports';
      const { token } = await mintToken(app.origin, { scope: EXPRESS_EXPORTS_SCOPE, expiresIn: -120 });
      const args = [app.origin + path, '-H', `Authorization: Bearer ${token}`];
      const before = await passive(app, path, args);
      const tokenCmd = `${process.execPath} ${join(ROOT, 'test', 'e2e', 'mint-token.ts')} ${app.origin} ${EXPRESS_EXPORTS_SCOPE}`;
      const { report } = await probing(app, path, ['--token-cmd', tokenCmd, ...args]);
      const fresh = probeRequests(report).filter((p) => p.name === 'fresh-credential');
      assert.deepEqual(
        fresh,
        [
          {
            name: 'fresh-credential',
            method: 'GET',
            removed: ['header:Authorization'],
            added: ['header:Authorization (fresh from --token-cmd)'],
            status: 200,
          },
        ],
        `one fresh-credential request, answered 200\nprobes:\n${probesSaid(report)}`,
      );
      expectProbes(report, [
        { name: 'without-credential', method: 'GET', removed: ['header:Authorization'], added: [], status: 401 },
        ...fresh,
      ]);
      expectTop(report, 'credential-expired');
      expectRaised(before, report, 'credential-expired');
      assert.ok(
        report.probes.find((p) => p.name === 'fresh-credential')?.confirms?.includes('credential-expired'),
        'fresh-credential says it confirmed credential-expired',
      );
    },
  );

  it(
    '6. Express + cors allowlist without the request’s Origin, refused by the app: the preflight shows what the browser would block → cors',
    { timeout: 30_000 },
    async () => {
      const path = '/api/widgets';
      const { token } = await mintToken(app.origin, { scope: EXPRESS_REQUIRED_SCOPE });
      const origin = 'https://staging.example.test';
      assert.notEqual(origin, EXPRESS_ALLOWED_ORIGIN);
      const args = [app.origin + path, '-H', `Origin: ${origin}`, '-H', `Authorization: Bearer ${token}`];
      // Passive: a bare {"error":"forbidden"} says nothing of origins.
      const before = await passive(app, path, args);
      const { report, requests } = await probing(app, path, args);
      expectProbes(report, [
        { name: 'without-credential', method: 'GET', removed: ['header:Authorization'], added: [], status: 403 },
        {
          name: 'cors-preflight',
          method: 'OPTIONS',
          removed: ['header:Authorization'],
          added: ['header:Access-Control-Request-Method', 'header:Access-Control-Request-Headers'],
          status: 204,
        },
        // The app's origin check refuses only requests that carry a foreign Origin.
        { name: 'minimise', method: 'GET', removed: ['header:Origin'], added: [], status: 200 },
      ]);
      expectTop(report, 'cors');
      expectRaised(before, report, 'cors');
      const preflight = requests.find((r) => r.method === 'OPTIONS');
      assert.equal(preflight?.headers.origin, origin, 'the preflight carries the user’s own Origin');
      assert.equal(preflight?.headers['access-control-request-method'], 'GET');
      assert.match(
        preflight?.headers['access-control-request-headers'] ?? '',
        /^authorization$/i,
        'the preflight asks for the header the request sends',
      );
      const meaning = report.probes.find((p) => p.name === 'cors-preflight')?.meaning ?? '';
      assert.match(
        meaning,
        /Access-Control-Allow-Origin/i,
        `the preflight's meaning names what the browser would block: ${meaning}`,
      );
    },
  );

  it(
    '7b. Express CSRF defence by origin (OWASP), a cross-site form POST with --allow-unsafe: the denial follows Origin → csrf',
    { timeout: 30_000 },
    async () => {
      const path = '/account/email';
      const args = [
        '--allow-unsafe',
        app.origin + path,
        '-H',
        'Origin: https://evil.example',
        '-H',
        `Cookie: ${SESSION_COOKIE}`,
        '-d',
        'email=mallory%40evil.example',
      ];
      // Passive: Express's bare "Forbidden" says nothing of CSRF; at most the
      // base rates of 403s to cookie-only requests put it first, thinly.
      const before = await passive(app, path, args);
      assert.ok(
        (before.causes.find((c) => c.id === 'csrf')?.score ?? 0) < 0.3,
        'the passive diagnosis alone has no evidence of csrf',
      );
      const { report, requests } = await probing(app, path, args, { allowUnsafe: true });
      expectTop(report, 'csrf');
      expectRaised(before, report, 'csrf');
      const csrf = report.probes.filter((p) => p.name === 'csrf');
      assert.ok(
        csrf.some((p) => (p.request?.removed ?? []).includes('header:Origin') && p.status === 200),
        `the csrf probe finds the POST admitted without Origin\nprobes:\n${probesSaid(report)}`,
      );
      assert.ok(
        csrf.some((p) => (p.confirms ?? []).includes('csrf')),
        `the csrf probe confirms csrf\nprobes:\n${probesSaid(report)}`,
      );
      for (const r of requests) assert.ok(['POST', 'OPTIONS', 'HEAD', 'GET'].includes(r.method));
      assert.ok(
        requests
          .filter((r) => r.method === 'POST')
          .every((r) => r.headers.origin === undefined || r.headers.origin === 'https://evil.example'),
        'no Origin was forged',
      );
    },
  );

  it(
    '7. Express + csurf, POST with --allow-unsafe: csrf stays on top through the probes',
    { timeout: 30_000 },
    async () => {
      const path = '/form';
      // The form was loaded twice (two tabs): the cookie holds the second secret, the form the first token.
      const first = await expressCsrf(app.origin);
      const second = await expressCsrf(app.origin);
      const args = [
        '--allow-unsafe',
        app.origin + path,
        '-H',
        `Cookie: ${second.cookie}; ${SESSION_COOKIE}`,
        '-H',
        `Origin: ${app.origin}`,
        '-d',
        `_csrf=${encodeURIComponent(first.token)}&title=hello`,
      ];
      const before = await passive(app, path, args);
      assert.equal(before.causes[0]?.id, 'csrf', 'the passive diagnosis already names csrf');
      const { report } = await probing(app, path, args, { allowUnsafe: true });
      expectProbes(report, [
        // HEAD, never GET-with-a-body: the safe comparison for the user's POST.
        {
          name: 'method',
          method: 'HEAD',
          removed: ['body', 'header:Content-Type'],
          added: ['method:HEAD (instead of POST)'],
          status: 200,
        },
        // The user's own POST (allowed by --allow-unsafe), one CSRF input removed at a time.
        { name: 'csrf', method: 'POST', removed: ['body:_csrf'], added: [], status: 403 },
        { name: 'csrf', method: 'POST', removed: ['cookie:_csrf'], added: [], status: 403 },
        { name: 'csrf', method: 'POST', removed: ['header:Origin'], added: [], status: 403 },
      ]);
      // csurf answers a wrong, a missing and a cookieless token with the same
      // bare 403, so removing them one at a time cannot confirm CSRF; what the
      // probes must do here is keep the right passive answer: a served HEAD
      // does not turn it into method-not-allowed. (Issue 3 is not done until a
      // CSRF scenario exists where the probes themselves decide.)
      expectTop(report, 'csrf');
      const csrf = report.probes.filter((p) => p.name === 'csrf');
      assert.ok(csrf.length > 0, `a csrf probe ran\nprobes:\n${probesSaid(report)}`);
      for (const p of csrf)
        assert.equal(
          p.request?.method,
          'POST',
          'the csrf probe replays the user’s own POST (allowed by --allow-unsafe)',
        );
      assert.ok(
        !report.causes.some((c) => c.id === 'method-not-allowed' && c.score >= report.causes[0].score),
        'method-not-allowed does not overtake csrf',
      );
    },
  );

  it(
    '8. Squid denies the destination: HTTP_PROXY set, the proxy probe goes direct and gets 200 → proxy-interference',
    { timeout: 30_000 },
    async () => {
      const path = '/index.html';
      const env = cliEnv({}, squid.origin);
      const url = nginx.origin + path;
      const before = await received(squid, path, () =>
        why403(['check', '--json', '--timeout', '5', '--no-probes', url], env),
      );
      const passiveReport = parseJsonReport(before.result);
      assert.equal(passiveReport.status, 403, `Squid answers 403; stderr: ${before.result.stderr}`);
      assert.equal(
        before.requests.length,
        1,
        `--no-probes: the proxy received exactly one request; got ${JSON.stringify(before.requests)}`,
      );
      assert.equal(
        before.requests[0].method,
        'GET',
        'an http:// URL goes to the proxy as an absolute-form GET, as curl sends it',
      );

      // Both logs: the original goes through Squid, the proxy probe straight to nginx.
      let direct: LoggedRequest[] = [];
      const viaProxy = await received(squid, path, async () => {
        const r = await received(nginx, path, () => why403(['check', '--json', '--timeout', '5', url], env));
        direct = r.requests;
        return r.result;
      });
      const report = parseJsonReport(viaProxy.result);
      assert.equal(viaProxy.result.code, 1, `exit 1; stderr: ${viaProxy.result.stderr}`);
      assertTraffic(report, viaProxy.requests, { elsewhere: (p) => p.name === 'proxy' });
      // The only change is the route: the proxy is what the probe removes.
      expectProbes(report, [
        { name: 'proxy', method: 'GET', removed: [`proxy:${squid.origin}`], added: [], status: 200 },
      ]);
      assert.equal(direct.length, 1, `nginx received the one direct probe request; got ${JSON.stringify(direct)}`);
      assert.equal(direct[0].method, 'GET');
      assert.equal(direct[0].status, 200);
      assert.equal(direct[0].headers.via, undefined, 'the direct request did not pass through the proxy');
      assert.equal(direct[0].headers['x-forwarded-for'], undefined);
      expectTop(report, 'proxy-interference');
      expectRaised(passiveReport, report, 'proxy-interference');
    },
  );

  /** `check --dry-run` for the missing-scope scenario with a second identity; the server must receive nothing. */
  async function dryRun(): Promise<{ stdout: string; tokens: string[] }> {
    const path = '/api/exports';
    const { token } = await mintToken(app.origin, { scope: EXPRESS_REQUIRED_SCOPE });
    const { token: allowed } = await mintToken(app.origin, { scope: EXPRESS_EXPORTS_SCOPE });
    const { result, requests } = await received(app, path, () =>
      why403(
        [
          'check',
          '--dry-run',
          '--as',
          `Authorization: Bearer ${allowed}`,
          app.origin + path,
          '-H',
          `Authorization: Bearer ${token}`,
        ],
        cliEnv(),
      ),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(requests.length, 0, `--dry-run sends nothing; the server received ${JSON.stringify(requests)}`);
    return { stdout: result.stdout, tokens: [token, allowed] };
  }

  it('check --dry-run prints the probe plan and the server receives nothing', { timeout: 30_000 }, async () => {
    const { stdout, tokens } = await dryRun();
    const url = `${app.origin}/api/exports`;
    assert.match(stdout, new RegExp(`^would send: GET ${url}$`, 'm'));
    // The plan names each probe and the exact change it would make.
    assert.match(stdout, /^\s+without-credential\b/m);
    assert.ok(
      stdout.includes(`GET ${url}  −header:Authorization\n`),
      `without-credential would send the GET without Authorization:\n${stdout}`,
    );
    assert.match(stdout, /^\s+as-identity\b/m);
    assert.ok(
      stdout.includes(`GET ${url}  −header:Authorization +header:Authorization (as --as)`),
      `as-identity would swap in the --as header:\n${stdout}`,
    );
    assert.doesNotMatch(stdout, /X-Forwarded-For|X-Real-IP/i, 'no source-address header in any planned request');
    for (const t of tokens) assert.ok(!stdout.includes(t), 'no credential is printed whole in the plan');
  });

  it(
    'the --dry-run plan lists each request once: no probe plans a request another already sends',
    { timeout: 30_000 },
    async () => {
      const { stdout } = await dryRun();
      const planned = stdout
        .split('\n')
        .filter((l) => /^\s{4}(GET|HEAD|OPTIONS|POST|PUT|PATCH|DELETE) /.test(l))
        .map((l) => l.trim());
      const repeated = planned.filter((l, i) => planned.indexOf(l) !== i);
      assert.deepEqual(repeated, [], `planned more than once (a wasted probe request):\n${stdout}`);
    },
  );

  it('--budget 2 sends at most 2 probe requests', { timeout: 30_000 }, async () => {
    const { path } = NGINX_PROBE_LOCATIONS['user-agent-rule'];
    const args = [
      '--budget',
      '2',
      nginx.origin + path,
      '-H',
      'User-Agent: curl/8.5.0',
      '-H',
      'Accept: text/plain',
      '-H',
      'Accept-Language: en',
    ];
    const { report, requests } = await probing(nginx, path, args, { budget: 2 });
    assert.ok(requests.length <= 3, `the user's request and at most 2 probes; the server received ${requests.length}`);
    assert.equal(report.probing?.budget, 2);
    assert.ok((report.probing?.sent ?? 0) <= 2, `probing.sent ${report.probing?.sent}`);
  });
});
