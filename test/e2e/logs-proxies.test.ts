// why403 logs on what real proxies and lighttpd wrote: HAProxy and lighttpd
// on 127.0.0.1 answer each of their suite's denial scenarios once, Squid
// refuses requests sent through it as a forward proxy, and `why403 logs`
// reads the log files they wrote. Each denial the log explains must come out
// with a reason whose causes include the scenario's label.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { RunningServer } from '../servers/common.ts';
import { HAPROXY_LOG, haproxySuite } from '../servers/haproxy.ts';
import { lighttpdSuite } from '../servers/lighttpd.ts';
import { SQUID_NATIVE_LOG, SQUID_PROXY_PASSWORD, SQUID_PROXY_USER, startSquid } from '../servers/squid.ts';
import type { LogReport } from '../../src/model/logs.ts';
import squidAccess from '../../src/logs/formats/squid-access.ts';
import { runCli, sendScenarios, type SentScenario } from './helpers.ts';

/** The statuses src/logs/analyze.ts counts as denials. */
const DENIED = new Set([401, 403, 407]);

const skipUnless = (missing: string | undefined) =>
  missing && process.env.CI !== 'true' ? `${missing}; .ci/run installs it` : false;

type Sent = SentScenario;

/** Waits until the file holds at least `n` lines (lighttpd buffers its access log for a second or so). */
async function lines(path: string, n: number, maxMs = 5000): Promise<string[]> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      /* not written yet */
    }
    const got = text.split('\n').filter(Boolean);
    if (got.length >= n || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function logs(...files: string[]): Promise<LogReport> {
  const r = await runCli(['logs', '--json', ...files]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as LogReport;
}

const reasonsFor = (report: LogReport, path: string) =>
  report.byReason.filter((r) => r.paths.some((p) => p.key === path || p.key.endsWith(path)));

function assertLabelled(report: LogReport, sent: Sent[], silent: string[]): void {
  for (const s of sent) {
    if (silent.includes(s.name)) continue;
    const reasons = reasonsFor(report, s.path);
    assert.ok(
      reasons.some((r) => r.causes.includes(s.cause as never)),
      `${s.name} (${s.path}): labelled ${s.cause}; reasons ${JSON.stringify(reasons.map((r) => [r.code, r.causes]))}`,
    );
  }
}

describe(
  'why403 logs: HAProxy’s httplog lines (real HAProxy on 127.0.0.1)',
  { timeout: 60_000, skip: skipUnless(haproxySuite.missing()) },
  () => {
    let server: RunningServer | undefined;
    let report: LogReport;
    let sent: Sent[];
    let written: string[];
    before(async () => {
      server = await haproxySuite.start();
      sent = await sendScenarios(haproxySuite, server);
      // The readiness check's bare connection is logged too (a 400 "<BADREQ>").
      written = await lines(join(server.dir, HAPROXY_LOG), sent.length + 1);
      report = await logs(join(server.dir, HAPROXY_LOG));
    });
    after(async () => {
      await server?.stop();
    });

    it('reads every line as haproxy-http and counts every denial', () => {
      assert.deepEqual(
        report.sources.map((s) => [s.format, s.notUnderstood, s.tooLong]),
        [['haproxy-http', 0, 0]],
      );
      assert.equal(report.requests, written.length);
      assert.equal(report.denials, sent.length);
    });

    it('explains each deny rule’s 403 (PR--) with the scenario’s label among its causes', () => {
      // HAProxy's own 401 (http-request auth) is logged LR--, "locally handled": section 8.5 gives it no refusal meaning.
      const silent = sent.filter((s) => s.status === 401).map((s) => s.name);
      assertLabelled(report, sent, silent);
      assert.deepEqual(
        report.byReason.map((r) => [r.code, r.count]),
        [['PR', sent.filter((s) => s.status === 403).length]],
      );
      assert.equal(report.unexplained, silent.length);
    });
  },
);

describe(
  'why403 logs: lighttpd’s access and error logs (real lighttpd on 127.0.0.1)',
  { timeout: 60_000, skip: skipUnless(lighttpdSuite.missing()) },
  () => {
    let server: RunningServer | undefined;
    let sent: Sent[];
    let access: string;
    let error: string;
    before(async () => {
      server = await lighttpdSuite.start();
      sent = await sendScenarios(lighttpdSuite, server);
      const ok = await fetch(`${server.origin}/index.html`);
      await ok.arrayBuffer();
      access = join(server.dir, 'log', 'access.log');
      error = join(server.dir, 'log', 'error.log');
      await lines(access, sent.length + 1);
    });
    after(async () => {
      await server?.stop();
    });

    it('reads its default accesslog.format as combined (the Host in the second field) and counts every denial', async () => {
      const report = await logs(access, error);
      assert.deepEqual(
        report.sources.map((s) => [s.format, s.notUnderstood, s.tooLong]),
        [
          ['combined', 0, 0],
          ['lighttpd-error', 0, 0],
        ],
      );
      assert.equal(report.requests, sent.length + 1);
      assert.equal(report.denials, sent.length);
    });

    it('gives each denial the error log explains its reason, the label among its causes', async () => {
      // lighttpd's error lines name no client: they are joined to the access lines by time and path.
      const report = await logs(access, error);
      // mod_indexfile writes no refusal for a directory without index.
      assertLabelled(report, sent, ['directory-no-index']);
      assert.equal(report.denials, sent.length);
      assert.equal(report.unexplained, 1);
      // Read alone, its refusals are the denials.
      const alone = await logs(error);
      assertLabelled(alone, sent, ['directory-no-index']);
      assert.equal(alone.denials, sent.length - 1);
    });
  },
);

/** A request through the proxy: the absolute URL as the request target. */
function viaProxy(proxy: string, url: string, headers: Record<string, string> = {}): Promise<number> {
  const p = new URL(proxy);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: p.hostname, port: p.port, path: url, headers: { Host: new URL(url).host, ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe(
  'why403 logs: Squid’s native access.log (real Squid on 127.0.0.1 as a forward proxy)',
  {
    timeout: 60_000,
    skip: skipUnless(
      spawnSync('sh', ['-c', 'command -v squid || test -x /usr/sbin/squid']).status === 0
        ? undefined
        : 'squid is not installed (Debian package squid)',
    ),
  },
  () => {
    let squid: RunningServer | undefined;
    let origin: Server | undefined;
    let report: LogReport;
    let written: string[];
    const sent: Sent[] = [];
    before(async () => {
      origin = createServer((_, res) => res.end('origin\n')).listen(0, '127.0.0.1');
      await new Promise((r) => origin!.once('listening', r));
      const port = (origin.address() as { port: number }).port;
      // Port 9 (discard) is refused by policy; the origin's port asks for a proxy credential.
      squid = await startSquid({ denyPorts: [9], authPorts: [port] });
      const basic = (password: string) => `Basic ${Buffer.from(`${SQUID_PROXY_USER}:${password}`).toString('base64')}`;
      const cases: [string, string, string, number, Record<string, string>?][] = [
        ['policy-deny', 'proxy-interference', `http://127.0.0.1:9/blocked/report.txt?token=fake`, 403],
        ['proxy-auth-missing', 'credential-missing', `http://127.0.0.1:${port}/members/a.txt`, 407],
        [
          'proxy-auth-wrong-password',
          'credential-invalid',
          `http://127.0.0.1:${port}/members/b.txt`,
          407,
          { 'Proxy-Authorization': basic('wrong-password') },
        ],
        [
          'allowed',
          '',
          `http://127.0.0.1:${port}/members/c.txt`,
          200,
          { 'Proxy-Authorization': basic(SQUID_PROXY_PASSWORD) },
        ],
      ];
      for (const [name, cause, url, status, headers] of cases) {
        const got = await viaProxy(squid.origin, url, headers);
        assert.equal(got, status, `${name} answered ${got}`);
        if (cause) sent.push({ name, path: new URL(url).pathname, cause, status });
      }
      const file = join(squid.dir, SQUID_NATIVE_LOG);
      // The readiness check's bare connection is logged too (NONE_NONE/000).
      written = await lines(file, cases.length + 1);
      report = await logs(file);
    });
    after(async () => {
      await squid?.stop();
      origin?.close();
    });

    it('reads every line as squid-access and counts the denials', () => {
      assert.deepEqual(
        report.sources.map((s) => [s.format, s.notUnderstood, s.tooLong]),
        [['squid-access', 0, 0]],
      );
      assert.equal(report.requests, written.length);
      // 407 (a proxy's 401) counts once src/logs/analyze.ts counts it as a denial.
      assert.equal(report.denials, sent.filter((s) => DENIED.has(s.status)).length);
    });

    it('gives each counted denial TCP_DENIED’s reason, the label among its causes', () => {
      assertLabelled(
        report,
        sent.filter((s) => DENIED.has(s.status)),
        [],
      );
      assert.equal(report.unexplained, 0);
      assert.ok(!written.some((l) => l.includes('token=fake')), 'Squid strips the query (strip_query_terms)');
    });

    it('reads the 407s’ lines with the reason their label names (missing, or refused for the user shown)', () => {
      for (const s of sent.filter((x) => x.status === 407)) {
        const records = written
          .map((l) => squidAccess.parse(l))
          .filter((r) => r?.kind === 'access' && r.path === s.path && r.status === 407);
        assert.equal(records.length, 1, s.name);
        assert.deepEqual(records[0]?.reason?.causes, [s.cause], s.name);
      }
    });
  },
);
