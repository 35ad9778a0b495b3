// why403 logs on the access logs Caddy 2.6 and Tomcat 10 wrote on
// 127.0.0.1: each answers its suite's denial scenarios once and one allowed
// request, and `why403 logs` reads the access log it wrote — Caddy's JSON
// lines (caddy-json), Tomcat's AccessLogValve `combined` pattern (combined).
// An access log says which requests were refused, never why: every denial
// is unexplained, and each scenario's path comes out with its status.
// A throwaway nginx here writes a JSON access log (`log_format … escape=json`,
// json-access) beside its error log: the reasons join to the JSON records.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { caddySuite, CADDY_ACCESS_LOG } from '../servers/caddy.ts';
import { tomcatSuite, TOMCAT_ACCESS_LOG, TOMCAT_APP, TOMCAT_STAFF } from '../servers/tomcat.ts';
import {
  freePort,
  htpasswdLine,
  isRoot,
  LOOPBACK,
  makeTempDir,
  readLines,
  removeDir,
  spawnServer,
  stopChild,
  waitForPort,
  writeDocroot,
  type RunningServer,
} from '../servers/common.ts';
import type { Suite } from '../servers/scenarios.ts';
import type { LogReport, Tally } from '../../src/model/logs.ts';
import combined from '../../src/logs/formats/combined.ts';
import { runCli, sendScenarios, type SentScenario } from './helpers.ts';

const CASES: { suite: Suite; log: string; format: string; allowed: string; principals: Tally[] }[] = [
  // Caddy's user_id stays empty when basicauth refuses the credential.
  { suite: caddySuite, log: CADDY_ACCESS_LOG, format: 'caddy-json', allowed: '/index.html', principals: [] },
  // Tomcat's %u is the user who authenticated and then lacked the role.
  {
    suite: tomcatSuite,
    log: TOMCAT_ACCESS_LOG,
    format: 'combined',
    allowed: `/${TOMCAT_APP}/index.html`,
    principals: [{ key: TOMCAT_STAFF.user, count: 2 }],
  },
];

for (const { suite, log, format, allowed, principals } of CASES) {
  const missing = suite.missing();
  const skip = missing && process.env.CI !== 'true' ? `${missing}; .ci/run installs it` : false;
  describe(`why403 logs: ${suite.id}'s own access log (real server on 127.0.0.1)`, { timeout: 120_000, skip }, () => {
    let server: RunningServer | undefined;
    let report: LogReport;
    let sent: SentScenario[] = [];
    before(async () => {
      const s = await suite.start();
      server = s;
      sent = await sendScenarios(suite, s);
      const ok = await fetch(s.origin + allowed);
      await ok.arrayBuffer();
      assert.equal(ok.status, 200, `${allowed} answered ${ok.status}`);
      // Both write as they go (Tomcat's valve unbuffered); give them a moment to flush.
      await new Promise((r) => setTimeout(r, 300));
      const r = await runCli(['logs', '--json', join(s.dir, log)]);
      assert.equal(r.code, 0, r.stderr);
      report = JSON.parse(r.stdout) as LogReport;
    });
    after(async () => {
      await server?.stop();
    });

    it(`detects ${format} and reads every line`, () => {
      assert.deepEqual(
        report.sources.map((s) => [s.format, s.lines, s.notUnderstood, s.tooLong]),
        [[format, sent.length + 1, 0, 0]],
      );
    });

    it('counts every denial, each unexplained: an access log gives no reason', () => {
      assert.equal(report.requests, sent.length + 1);
      assert.equal(report.denials, sent.length);
      assert.equal(report.unexplained, sent.length);
      assert.deepEqual(report.byReason, []);
    });

    it('gives the paths and statuses the scenarios met', () => {
      const count = (key: string | number, list: { key: string; count: number }[]) =>
        list.find((t) => t.key === String(key))?.count ?? 0;
      for (const path of new Set(sent.map((s) => s.path)))
        assert.equal(count(path, report.byPath), sent.filter((s) => s.path === path).length, path);
      for (const status of [401, 403])
        assert.equal(count(status, report.byStatus), sent.filter((s) => s.status === status).length, `${status}`);
      assert.deepEqual(report.byClient, [{ key: '127.0.0.1', count: sent.length }]);
      assert.deepEqual(report.byPrincipal, principals);
    });
  });
}

// https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format (escape=json, since 1.11.8)
const JSON_FORMAT = `'{"time_iso8601":"$time_iso8601","remote_addr":"$remote_addr","remote_user":"$remote_user","request":"$request","status":"$status","body_bytes_sent":"$body_bytes_sent","http_user_agent":"$http_user_agent"}'`;

// A layout of the server's own, as `--log-format` is given it.
const OWN_FORMAT = '$time_iso8601 client=$remote_addr user=$remote_user "$request" -> $status in $request_time s';

const nginxMissing = spawnSync('sh', ['-c', 'command -v nginx']).status === 0 ? undefined : 'nginx is not installed';

describe(
  'why403 logs: a JSON access log of nginx (log_format escape=json) with its error log',
  { timeout: 60_000, skip: nginxMissing && process.env.CI !== 'true' ? nginxMissing : false },
  () => {
    let dir: string | undefined;
    let stop: (() => Promise<void>) | undefined;
    let report: LogReport;
    const denied = [
      { path: '/private/a.txt', query: '?token=FAKE', status: 403, code: 'access-forbidden-by-rule' },
      { path: '/files/', query: '', status: 403, code: 'directory-index-forbidden' },
      { path: '/secret.txt', query: '', status: 403, code: 'permission-denied' },
      { path: '/admin/', query: '', status: 401, code: 'basic-password-mismatch' },
    ];
    before(async () => {
      const d = makeTempDir('nginx-json');
      dir = d;
      const port = await freePort();
      writeDocroot(join(d, 'www'));
      for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(d, 'tmp', t), { recursive: true });
      writeFileSync(join(d, 'htpasswd'), `${await htpasswdLine('alice', 'right-password')}\n`);
      const conf = join(d, 'nginx.conf');
      writeFileSync(
        conf,
        `${isRoot() ? 'user www-data;' : ''}
worker_processes 1;
pid ${d}/nginx.pid;
events { worker_connections 16; }
http {
  log_format json_lines escape=json ${JSON_FORMAT};
  access_log ${d}/access.json json_lines;
  log_format own '${OWN_FORMAT}';
  access_log ${d}/own.log own;
  client_body_temp_path ${d}/tmp/body;
  proxy_temp_path ${d}/tmp/proxy;
  fastcgi_temp_path ${d}/tmp/fastcgi;
  uwsgi_temp_path ${d}/tmp/uwsgi;
  scgi_temp_path ${d}/tmp/scgi;
  server {
    listen ${LOOPBACK}:${port};
    root ${d}/www;
    location /private/ { deny all; }
    location /admin/ { auth_basic "fake"; auth_basic_user_file ${d}/htpasswd; }
  }
}
`,
      );
      const { child, output } = spawnServer('nginx', [
        '-p',
        d,
        '-e',
        join(d, 'error.log'),
        '-c',
        conf,
        '-g',
        'daemon off;',
      ]);
      stop = () => stopChild(child);
      await waitForPort(port, child, 15_000, () => `\n${output()}\n${readLines(join(d, 'error.log')).join('\n')}`);
      const origin = `http://${LOOPBACK}:${port}`;
      for (const x of denied) {
        const headers: Record<string, string> =
          x.status === 401 ? { Authorization: `Basic ${Buffer.from('alice:wrong-password').toString('base64')}` } : {};
        const res = await fetch(origin + x.path + x.query, { headers });
        await res.arrayBuffer();
        assert.equal(res.status, x.status, x.path);
      }
      const ok = await fetch(`${origin}/index.html`);
      await ok.arrayBuffer();
      assert.equal(ok.status, 200);
      await new Promise((r) => setTimeout(r, 300));
      const r = await runCli(['logs', '--json', join(d, 'access.json'), join(d, 'error.log')]);
      assert.equal(r.code, 0, r.stderr);
      report = JSON.parse(r.stdout) as LogReport;
    });
    after(async () => {
      await stop?.();
      if (dir) removeDir(dir);
    });

    it('detects json-access beside nginx-error and counts every request', () => {
      assert.deepEqual(
        report.sources.map((s) => [s.format, s.notUnderstood, s.tooLong]),
        [
          ['json-access', 0, 0],
          ['nginx-error', 0, 0],
        ],
      );
      assert.equal(report.requests, denied.length + 1);
      assert.equal(report.denials, denied.length);
    });

    it('--log-format reads a layout of the server’s own, and joins the same reasons', async () => {
      const own = join(dir!, 'own.log');
      const refused = await runCli(['logs', '--json', own]);
      assert.equal(refused.code, 2, 'without --log-format it is no format why403 knows');
      assert.match(refused.stderr, /own\.log: is not a log format why403 reads/);
      const r = await runCli(['logs', '--json', '--log-format', OWN_FORMAT, own, join(dir!, 'error.log')]);
      assert.equal(r.code, 0, r.stderr);
      const custom = JSON.parse(r.stdout) as LogReport;
      assert.deepEqual(
        custom.sources.map((s) => [s.format, s.notUnderstood]),
        [
          ['custom', 0],
          ['nginx-error', 0],
        ],
      );
      assert.equal(custom.denials, denied.length);
      assert.deepEqual(custom.byReason.map((x) => x.code).sort(), report.byReason.map((x) => x.code).sort());
      assert.equal(custom.unexplained, 0);
      const bad = await runCli(['logs', '--log-format', '$remote_addr $request', own]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--log-format: expected an nginx log_format with \$status/);
    });

    it('joins each JSON record to the reason nginx logged for it', () => {
      for (const x of denied) {
        const reason = report.byReason.find((r) => r.paths.some((p) => p.key === x.path));
        assert.equal(reason?.code, x.code, x.path);
      }
      assert.equal(report.unexplained, 0);
      assert.ok(!JSON.stringify(report).includes('token=FAKE'), 'the query is never shown');
    });
  },
);

// Lines Tomcat 10.1.60 wrote here with AccessLogValve pattern="combined"
// (https://tomcat.apache.org/tomcat-10.1-doc/config/valve.html#Access_Log_Valve):
// %h %l %u %t "%r" %s %b "%{Referer}i" "%{User-Agent}i". `common` is the same
// without the last two fields, Apache's Common Log Format, which combined reads
// (src/logs/formats/formats.test.ts, the Apache documentation's line).
describe('Tomcat’s AccessLogValve lines are read by combined', () => {
  it('reads the user a role constraint refused, and a valve’s 403 without one', () => {
    const role = combined.parse(
      '127.0.0.1 - staff [05/Dec/2026:14:57:03 +0000] "GET /reports/admin/index.html HTTP/1.1" 403 698 "-" "node"',
    );
    assert.deepEqual(role, {
      kind: 'access',
      time: new Date('2026-12-05T14:57:03Z'),
      client: '127.0.0.1',
      principal: 'staff',
      method: 'GET',
      path: '/reports/admin/index.html',
      status: 403,
    });
    const valve = combined.parse(
      '127.0.0.1 - - [05/Dec/2026:14:57:03 +0000] "GET /lan/manager/html HTTP/1.1" 403 3531 "-" "node"',
    );
    assert.ok(valve?.kind === 'access');
    assert.equal(valve.principal, undefined);
    assert.equal(valve.status, 403);
  });
});
