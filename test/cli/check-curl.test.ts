// `why403 check -- curl …` and `check --from FILE|-` as a user runs them: a
// child process against servers on 127.0.0.1. The request check sends is the
// one curl would send, by the route curl would take; an option it cannot
// honour is refused in one line (exit 2) before anything is sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { spawn, spawnSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startSquid } from '../servers/squid.ts';
import type { RunningServer } from '../servers/common.ts';
import { selfSignedCertificate } from '../../src/live/test-certificates.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'src/cli/bin.ts');
const dir = mkdtempSync(join(tmpdir(), 'why403-check-curl-'));

interface Seen {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
}
const seen: Seen[] = [];
const proxied: { target: string; auth?: string }[] = [];
const servers: net.Server[] = [];
let app = 0;
let tlsApp = 0;
let proxy = 0;

function listen(server: net.Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const headers: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    seen.push({ method: req.method!, url: req.url!, headers, body });
    if (req.url === '/moved') return res.writeHead(302, { location: '/report' }).end();
    // The resource is open: a 403 seen for it comes from something in between.
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
}

before(async () => {
  const tls = selfSignedCertificate(dir, 'api', '/CN=api.why403.test', 'DNS:api.why403.test,IP:127.0.0.1');
  app = await listen(http.createServer(handler));
  tlsApp = await listen(https.createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, handler));
  // A forward proxy that refuses everything with its own 403, as a corporate proxy's policy does.
  const p = http.createServer((req, res) => {
    proxied.push({ target: req.url!, auth: req.headers['proxy-authorization'] });
    res
      .writeHead(403, { 'content-type': 'text/plain', 'x-squid-error': 'ERR_ACCESS_DENIED 0' })
      .end('Access denied by the proxy policy');
  });
  proxy = await listen(p);
});

after(() => {
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** No proxy or NO_PROXY of this machine's: the command's own options decide. */
function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of [
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'ALL_PROXY',
    'NO_PROXY',
    'http_proxy',
    'https_proxy',
    'all_proxy',
    'no_proxy',
  ])
    delete e[k];
  return e;
}

/** Runs the CLI without blocking this process, whose servers must answer it. */
function run(args: string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    child.stdin.end(input ?? '');
  });
}

const header = (s: Seen, name: string) =>
  s.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);

test("-x: the request goes through the proxy the command names, and the proxy's 403 is what is diagnosed (not the direct 200)", async () => {
  const direct = await run(['check', '--json', '--', 'curl', `http://127.0.0.1:${app}/report`]);
  assert.equal(direct.code, 0, direct.err);
  assert.equal(JSON.parse(direct.out).status, 200);
  proxied.length = 0;
  const r = await run([
    'check',
    '--json',
    '--no-probes',
    '--',
    'curl',
    '-x',
    `http://alice:proxy-password-123@127.0.0.1:${proxy}`,
    `http://127.0.0.1:${app}/report`,
  ]);
  assert.equal(r.code, 1, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.status, 403);
  assert.equal(report.trace.proxy.used, true);
  assert.equal(report.deniedBy.layer, 'forward-proxy');
  assert.deepEqual(
    proxied.map((p) => p.target),
    [`http://127.0.0.1:${app}/report`],
  );
  assert.equal(proxied[0]!.auth, `Basic ${Buffer.from('alice:proxy-password-123').toString('base64')}`);
  assert.ok(
    !r.out.includes('proxy-password-123') && !r.err.includes('proxy-password-123'),
    'the proxy password is redacted',
  );
  const dry = await run([
    'check',
    '--dry-run',
    '--',
    'curl',
    '-x',
    `http://alice:proxy-password-123@127.0.0.1:${proxy}`,
    '-U',
    'bob:pw-of-bob',
    `http://127.0.0.1:${app}/report`,
  ]);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /route: through the proxy http:\/\/alice:proxy-…\(18 chars\)@127\.0\.0\.1:\d+ \(-x\)/);
  assert.match(dry.out, /route: proxy credentials for bob, password …\(9 chars\) \(-U\)/);
  assert.ok(!dry.out.includes('proxy-password-123') && !dry.out.includes('pw-of-bob'));
  assert.match(
    dry.out,
    /proxy \(up to 1 request\)\n\s+GET http:\/\/127\.0\.0\.1:\d+\/report {2}−proxy:http:\/\/alice:proxy-…\(18 chars\)@127\.0\.0\.1:\d+ {2}\(directly, not through the proxy\)/,
    'the plan names the direct probe',
  );
});

// Squid lives in /usr/sbin, which an ordinary user's PATH may not hold.
if (spawnSync('sh', ['-c', 'command -v squid']).status !== 0 && existsSync('/usr/sbin/squid'))
  process.env.PATH = `${process.env.PATH}:/usr/sbin`;
const hasSquid = spawnSync('sh', ['-c', 'command -v squid']).status === 0;

test(
  '-x with a real Squid that denies the port: 403 from the proxy, and the direct probe says the proxy is in the way',
  { skip: !hasSquid && 'squid is not installed' },
  async () => {
    let squid: RunningServer | undefined;
    try {
      squid = await startSquid({ denyPorts: [app] });
      seen.length = 0;
      const r = await run([
        'check',
        '--json',
        '--timeout',
        '10',
        '--',
        'curl',
        '-x',
        squid.origin,
        `http://127.0.0.1:${app}/report`,
        '-H',
        'Accept: text/plain',
      ]);
      assert.equal(r.code, 1, r.err);
      const report = JSON.parse(r.out);
      assert.equal(report.status, 403);
      assert.equal(report.trace.proxy.used, true);
      assert.equal(report.deniedBy.layer, 'forward-proxy');
      assert.equal(report.causes[0].id, 'proxy-interference');
      const probe = report.probes.find((p: { name: string }) => p.name === 'proxy');
      assert.ok(probe, 'the direct probe ran');
      assert.equal(seen.filter((s) => s.url === '/report').length, 1, 'only the direct probe reached the server');
      assert.ok(
        squid.requests!().some((q) => q.target === `http://127.0.0.1:${app}/report` && q.status === 403),
        'Squid saw and refused the request',
      );
    } finally {
      await squid?.stop();
    }
  },
);

test('-k: a self-signed certificate is not verified, as check --insecure does; without it, a TLS failure (exit 3)', async () => {
  const bad = await run(['check', '--', 'curl', `https://127.0.0.1:${tlsApp}/report`]);
  assert.equal(bad.code, 3, bad.err);
  assert.match(bad.err, /TLS failed/);
  const k = await run(['check', '--json', '--', 'curl', '-k', `https://127.0.0.1:${tlsApp}/report`]);
  assert.equal(k.code, 0, k.err);
  const report = JSON.parse(k.out);
  assert.equal(report.status, 200);
  assert.match(report.notes.join(' '), /TLS certificates not verified \(-k\)/);
});

test('--resolve sends a made-up name to 127.0.0.1; -u sends Basic auth, redacted in the report', async () => {
  seen.length = 0;
  const r = await run([
    'check',
    '--json',
    '--',
    'curl',
    '--resolve',
    `api.why403.test:${tlsApp}:127.0.0.1`,
    '--cacert',
    join(dir, 'api.pem'),
    '-u',
    'alice:alice-password',
    `https://api.why403.test:${tlsApp}/report`,
  ]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(header(seen[0]!, 'host'), [`api.why403.test:${tlsApp}`]);
  assert.deepEqual(header(seen[0]!, 'authorization'), [
    `Basic ${Buffer.from('alice:alice-password').toString('base64')}`,
  ]);
  assert.ok(
    !r.out.includes('alice-password') && !r.out.includes(Buffer.from('alice:alice-password').toString('base64')),
  );
});

test('-L follows the redirect; without -L the 302 is the answer, as with curl', async () => {
  const no = await run(['check', '--json', '--', 'curl', `http://127.0.0.1:${app}/moved`]);
  assert.equal(JSON.parse(no.out).status, 302);
  const l = await run(['check', '--json', '--', 'curl', '-L', `http://127.0.0.1:${app}/moved`]);
  assert.equal(l.code, 0, l.err);
  const report = JSON.parse(l.out);
  assert.equal(report.status, 200);
  assert.deepEqual(
    report.trace.redirects.map((x: { status: number }) => x.status),
    [302, 200],
  );
});

test("-b FILE sends the Netscape cookie file's cookies", async () => {
  const jar = join(dir, 'cookies.txt');
  writeFileSync(jar, `# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tcookie-from-file-1\n`);
  seen.length = 0;
  const r = await run(['check', '--json', '--', 'curl', '-b', jar, `http://127.0.0.1:${app}/report`]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(header(seen[0]!, 'cookie'), ['session=cookie-from-file-1']);
  assert.ok(!r.out.includes('cookie-from-file-1'));
});

test('an option check cannot honour is refused: one line naming it, exit 2, nothing sent', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['--ntlm', '-u', 'a:b'],
      /^why403: curl command: --ntlm is not supported by check \(NTLM authentication\); run without it or use curl -v and why403 explain\n$/,
    ],
    [['--socks5', '127.0.0.1:1080'], /--socks5 is not supported by check \(SOCKS proxies\)/],
    [['--digest', '-u', 'a:b'], /--digest is not supported by check/],
    [['--http3'], /--http3 is not supported by check \(HTTP\/3\)/],
    [['-F', 'a=b'], /-F is not supported by check \(multipart form bodies\)/],
    [['--haproxy-clientip', '10.1.2.3'], /--haproxy-clientip is not supported by check \(it claims a client address/],
    [['--aws-sigv4', 'aws:amz:us-east-1:s3', '-u', 'a:b'], /--aws-sigv4 is not supported by check/],
  ];
  seen.length = 0;
  for (const [args, pattern] of cases) {
    const r = await run(['check', '--', 'curl', ...args, `http://127.0.0.1:${app}/report`]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '');
    assert.equal(r.err.split('\n').length, 2, `one line: ${r.err}`);
    assert.match(r.err, pattern);
  }
  assert.equal(seen.length, 0, 'nothing was sent');
});

test('point 4: a mistyped non-ASCII option and an unknown short letter are named; constructor and __proto__ headers are sent', async () => {
  for (const [args, pattern] of [
    [
      ['--hëader', 'X: y'],
      /^why403: curl command: not a curl command curl would accept: option --hëader: is unknown\n$/,
    ],
    [['-ë'], /option -ë: is unknown/],
    [['--constructor'], /option --constructor: is unknown/],
  ] as [string[], RegExp][]) {
    const r = await run(['check', '--', 'curl', ...args, `http://127.0.0.1:${app}/`]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, pattern);
  }
  seen.length = 0;
  const r = await run([
    'check',
    '--json',
    '--',
    'curl',
    '-H',
    'constructor: x',
    '-H',
    '__proto__: y',
    `http://127.0.0.1:${app}/report`,
  ]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(header(seen[0]!, 'constructor'), ['x']);
  assert.deepEqual(header(seen[0]!, '__proto__'), ['y']);
});

test('point 4: "check curl URL" (no --) says to put -- before it', async () => {
  for (const args of [
    ['check', 'curl', `http://127.0.0.1:${app}/`],
    ['check', 'curl', `http://127.0.0.1:${app}/`, '--compressed'],
    ['check', 'curl'],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /; to check a curl command, put -- before it: why403 check -- curl '/);
    assert.equal(r.err.split('\n').length, 2);
  }
  const r = await run(['check', 'curl', `http://127.0.0.1:${app}/x`]);
  assert.match(r.err, new RegExp(`why403 check -- curl 'http://127\\.0\\.0\\.1:${app}/x'`));
});

const chromium = JSON.parse(
  readFileSync(join(root, 'src/importers/fixtures/curl/chromium-copy-as-curl.json'), 'utf8'),
) as { bash: string; cmd: string; powershell: string };
const origin = /https?:\/\/127\.0\.0\.1:\d+/g;

test('--from FILE and --from -: a bash "Copy as cURL" and a Windows "Copy as cURL (cmd)", sent as copied', async () => {
  const bash = join(dir, 'copy.sh');
  writeFileSync(bash, chromium.bash.replace(origin, `http://127.0.0.1:${app}`));
  const cmd = join(dir, 'copy.cmd');
  writeFileSync(cmd, chromium.cmd.replace(origin, `http://127.0.0.1:${app}`).replace(/\n/g, '\r\n'));
  const received: Seen[] = [];
  for (const args of [
    ['--from', bash],
    ['--from', cmd],
  ]) {
    seen.length = 0;
    const r = await run(['check', '--json', '--allow-unsafe', '--no-probes', ...args]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    assert.equal(seen.length, 1);
    received.push(seen[0]!);
  }
  seen.length = 0;
  const stdin = await run(
    ['check', '--json', '--allow-unsafe', '--no-probes', '--from', '-'],
    readFileSync(cmd, 'utf8'),
  );
  assert.equal(stdin.code, 0, stdin.err);
  received.push(seen[0]!);
  const [fromBash, fromCmd, fromStdin] = received as [Seen, Seen, Seen];
  assert.equal(fromBash.method, 'POST');
  assert.match(fromBash.url, /^\/api\/items\?q=caf%C3%A9&x=1$/);
  // Chromium's cmd quoting writes every non-ASCII character as a space (see curl-cmd.test.ts).
  const withoutNonAscii = fromBash.body.replace(/[^\x00-\x7f]/g, ' ');
  const sameHeaders = (s: Seen) => s.headers.filter(([k]) => !['host', 'content-length'].includes(k.toLowerCase()));
  for (const other of [fromCmd, fromStdin]) {
    assert.equal(other.method, fromBash.method);
    assert.equal(other.url, fromBash.url);
    assert.equal(other.body, withoutNonAscii);
    assert.deepEqual(sameHeaders(other), sameHeaders(fromBash));
  }
  assert.deepEqual(header(fromBash, 'cookie'), ['sid=fake-session-123']);
  // What check cannot read is said in one line.
  const ps = join(dir, 'copy.ps1');
  writeFileSync(ps, chromium.powershell);
  const refused = await run(['check', '--from', ps]);
  assert.equal(refused.code, 2);
  assert.match(
    refused.err,
    /PowerShell \(Invoke-WebRequest\) copies are not supported; use "Copy as cURL \(bash\)" or "Copy as cURL \(cmd\)"/,
  );
  const missing = await run(['check', '--from', join(dir, 'nope.sh')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope\.sh: no such file/);
  const both = await run(['check', '--from', bash, '--', 'curl', 'http://127.0.0.1/']);
  assert.equal(both.code, 2);
  assert.match(both.err, /give either "-- curl …" or --from FILE, not both/);
  const refusedOption = join(dir, 'ntlm.sh');
  writeFileSync(refusedOption, `curl 'http://127.0.0.1:${app}/' --ntlm -u 'a:b'\n`);
  const n = await run(['check', '--from', refusedOption]);
  assert.equal(n.code, 2);
  assert.match(
    n.err,
    new RegExp(`^why403: ${refusedOption.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: --ntlm is not supported by check`),
  );
});

test('check --help fits 80 columns and documents --from', async () => {
  const r = await run(['check', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /--from FILE \| -/);
  for (const line of r.out.split('\n')) assert.ok([...line].length <= 80, `longer than 80 columns: ${line}`);
});

const hasCurl = existsSync('/usr/bin/curl');

/** Sends ARGS with curl, then with check; returns what the server received from each, hop by hop. */
async function curlThenCheck(args: string[]): Promise<[Seen[], Seen[]]> {
  seen.length = 0;
  // Not execFileSync: this process's server must answer curl.
  await promisify(execFile)('/usr/bin/curl', ['-sS', '-o', '/dev/null', '-m', '10', '--noproxy', '*', ...args], {
    env: env(),
  });
  const byCurl = seen.splice(0);
  const r = await run([
    'check',
    '--allow-unsafe',
    '--no-probes',
    '--json',
    '--',
    'curl',
    '-sS',
    '-o',
    '/dev/null',
    '-m',
    '10',
    '--noproxy',
    '*',
    ...args,
  ]);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  return [byCurl, seen.splice(0)];
}

/** The request as the server saw it; Connection is the client's business, and curl's Accept-Encoding depends on its build. */
const wire = (s: Seen) => ({
  method: s.method,
  url: s.url,
  body: s.body,
  headers: s.headers
    .filter(([k]) => !['connection', 'accept-encoding'].includes(k.toLowerCase()))
    .map(([k, v]) => `${k.toLowerCase()}: ${v}`)
    .sort(),
});

test(
  'the same command sent by curl itself and by check: the server receives the same request',
  { skip: !hasCurl && 'curl is not installed' },
  async () => {
    const body = join(dir, 'body.txt');
    writeFileSync(body, 'a=1\nb=2\n');
    const jar = join(dir, 'jar.txt');
    writeFileSync(jar, `127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\ts1\n127.0.0.1\tFALSE\t/other\tFALSE\t0\tno\tx\n`);
    const ua = ['-A', 'agent/1', '-H', 'Accept: */*'];
    const commands: string[][] = [
      [
        ...ua,
        '-e',
        'http://ref.example/',
        '-r',
        '0-9',
        '-u',
        'alice:pw',
        '-b',
        jar,
        '-b',
        'extra=1',
        '-H',
        'constructor: c',
        '-d',
        `@${body}`,
        '--data-urlencode',
        'q=a b&c',
        '--compressed',
        '-X',
        'POST',
        `http://127.0.0.1:${app}/same?x=1`,
      ],
      [...ua, '-L', '-b', jar, '-e', ';auto', '-G', '-d', 'x=1', '-r', '5', `http://127.0.0.1:${app}/moved`],
      [...ua, '-L', '-d', 'a=1', `http://127.0.0.1:${app}/moved`],
      [
        ...ua,
        '--resolve',
        `api.why403.test:${app}:127.0.0.1`,
        '-H',
        'X-Twice: 1',
        '-H',
        'X-Twice: 2',
        `http://user:pass@api.why403.test:${app}/resolved`,
      ],
      [...ua, '--json', '{"a":1}', '--oauth2-bearer', 'tok-123', `http://127.0.0.1:${app}/json`],
      [...ua, '-I', '-H', 'Host: vhost.example', `http://127.0.0.1:${app}/head`],
    ];
    for (const args of commands) {
      const [byCurl, byCheck] = await curlThenCheck(args);
      assert.ok(byCurl.length >= 1, args.join(' '));
      assert.deepEqual(byCheck.map(wire), byCurl.map(wire), args.join(' '));
    }
  },
);
