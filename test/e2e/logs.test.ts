// why403 logs on what real servers wrote: nginx and Apache httpd on
// 127.0.0.1 answer each of their denial scenarios once, and `why403 logs`
// reads the access and error logs they wrote. Each denied path must come out
// with the reason the server logged for it, and that reason's causes must
// include the scenario's label — the same 403 page, told apart by the log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { SUITES } from '../servers/scenarios.ts';
import type { RunningServer } from '../servers/common.ts';
import type { LogReport } from '../../src/model/logs.ts';
import { runCli, sendScenarios, type SentScenario } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** What each server writes nothing for at its log level: its denial stays unexplained. */
const SILENT: Record<string, string[]> = {
  // Neither logs a request that sent no credential at the error level; nginx
  // does not log one that sent another scheme either.
  nginx: ['basic-auth-missing', 'basic-auth-wrong-scheme'],
  apache: ['basic-auth-missing'],
};

const LOGS: Record<string, { access: string; error: string; format: string }> = {
  nginx: { access: 'combined.log', error: 'error.log', format: 'nginx-error' },
  apache: { access: 'access.log', error: 'error.log', format: 'apache-error' },
};

for (const id of ['nginx', 'apache']) {
  const suite = SUITES.find((s) => s.id === id)!;
  const missing = suite.missing();
  const skip = missing && process.env.CI !== 'true' ? `${missing}; .ci/run installs it` : false;
  describe(
    `why403 logs: ${id}'s own access and error logs (real server on 127.0.0.1)`,
    { timeout: 120_000, skip },
    () => {
      let server: RunningServer | undefined;
      let report: LogReport;
      let sent: SentScenario[] = [];
      before(async () => {
        const s = await suite.start();
        server = s;
        sent = await sendScenarios(suite, s);
        const allowed = await fetch(`${s.origin}/index.html`);
        await allowed.arrayBuffer();
        // Both servers write their logs as they go; give them a moment to flush.
        await new Promise((r) => setTimeout(r, 300));
        const r = await runCli(['logs', '--json', join(server.dir, LOGS[id].access), join(server.dir, LOGS[id].error)]);
        assert.equal(r.code, 0, r.stderr);
        report = JSON.parse(r.stdout) as LogReport;
      });
      after(async () => {
        await server?.stop();
      });

      it('tells the formats apart and counts every denial', () => {
        assert.deepEqual(
          report.sources.map((s) => [s.format, s.notUnderstood, s.tooLong]),
          [
            ['combined', 0, 0],
            [LOGS[id].format, 0, 0],
          ],
        );
        assert.equal(report.denials, sent.length);
        assert.equal(report.requests, sent.length + 1);
      });

      it('gives each denied path the reason the server logged, and the label is among its causes', () => {
        for (const s of sent) {
          const reasons = report.byReason.filter((r) => r.paths.some((p) => p.key === s.path));
          // Counted below as unexplained (its path may share another scenario's reason).
          if (SILENT[id]?.includes(s.name)) continue;
          // Two scenarios may share a path (a missing and a wrong Basic credential): one of their reasons holds the label.
          assert.ok(
            reasons.some((r) => r.causes.includes(s.cause as never)),
            `${s.name} (${s.path}): labelled ${s.cause}; reasons ${JSON.stringify(reasons.map((r) => [r.code, r.causes]))}`,
          );
        }
        assert.equal(report.unexplained, SILENT[id]?.length ?? 0);
      });

      it('tells apart by its log what one 403 page says for all: a rule, a directory, a file', () => {
        const codes = new Set(
          sent
            .filter((s) => ['deny-all', 'require-all-denied', 'directory-no-index', 'unreadable-file'].includes(s.name))
            .map((s) => report.byReason.find((r) => r.paths.some((p) => p.key === s.path))?.code),
        );
        codes.delete(undefined);
        assert.equal(codes.size, 3, [...codes].join(', '));
      });

      it('check --log: each denial the server logged gets the logged cause on top (issue 15, point 2)', async () => {
        const s = server!;
        for (const sc of suite.scenarios) {
          if (SILENT[id]?.includes(sc.name)) continue;
          const plan = await sc.plan(s);
          const args = ['check', '--json', '--no-probes', '--log', join(s.dir, LOGS[id].error), s.origin + plan.path];
          if (plan.method !== 'GET') args.push('-X', plan.method, '--allow-unsafe');
          for (const [k, v] of Object.entries(plan.headers ?? {})) args.push('-H', `${k}: ${v}`);
          const r = await runCli(args);
          const report = JSON.parse(r.stdout) as {
            causes: { id: string; score: number; evidence: { source: string }[] }[];
          };
          const logged = report.causes.filter((c) => c.evidence.some((e) => e.source.startsWith('log:')));
          assert.ok(logged.length, `${sc.name}: no cause rests on a log line: ${r.stdout.slice(0, 400)}`);
          // The log may name several causes with one message (a deny rule, an address rule, limit_except):
          // then the label is among the level ones on top; otherwise it is first.
          const top = report.causes.filter((c) => c.score >= report.causes[0].score - 0.05).map((c) => c.id);
          assert.ok(
            top.includes(sc.label.cause),
            `${sc.name}: labelled ${sc.label.cause}; got ${report.causes.map((c) => `${c.id}:${c.score}`).join(', ')}`,
          );
          if (['unreadable-file', 'directory-no-index'].includes(sc.name))
            assert.equal(report.causes[0].id, sc.label.cause, `${sc.name}: the log settles it`);
        }
      });

      it('explain --log: a saved exchange and the server’s error log', async () => {
        const s = server!;
        const sc = suite.scenarios.find((x) => x.name === 'unreadable-file')!;
        const plan = await sc.plan(s);
        const res = await fetch(s.origin + plan.path);
        const body = await res.text();
        const saved = join(s.dir, 'saved.json');
        writeFileSync(
          saved,
          JSON.stringify({
            request: { method: 'GET', url: s.origin + plan.path, headers: {} },
            response: { status: res.status, headers: Object.fromEntries(res.headers), body },
          }),
        );
        await new Promise((r) => setTimeout(r, 200));
        const withLog = await runCli(['explain', '--json', '--log', join(s.dir, LOGS[id].error), saved]);
        assert.equal(withLog.code, 1, withLog.stderr);
        assert.equal(
          (JSON.parse(withLog.stdout) as { causes: { id: string }[] }).causes[0].id,
          'filesystem-permission',
        );
        const without = await runCli(['explain', '--json', saved]);
        assert.notEqual(
          (JSON.parse(without.stdout) as { causes: { id: string }[] }).causes[0].id,
          'filesystem-permission',
        );
      });

      it('reads the same logs gzipped and from standard input alike', async () => {
        // Copies, so that the three readings see the same lines.
        const access = join(server!.dir, 'access-copy.log');
        copyFileSync(join(server!.dir, LOGS[id].access), access);
        const error = join(server!.dir, 'error-copy.log');
        copyFileSync(join(server!.dir, LOGS[id].error), error);
        const gz = join(server!.dir, 'access-copy.log.gz');
        writeFileSync(gz, gzipSync(readFileSync(access)));
        const plain = await runCli(['logs', '--json', access, error]);
        const zipped = await runCli(['logs', '--json', gz, error]);
        assert.equal(zipped.code, 0, zipped.stderr);
        const [p, z] = [plain, zipped].map((r) => JSON.parse(r.stdout) as LogReport);
        const shape = (r: LogReport) => r.byReason.map((x) => [x.code, x.count, x.paths]);
        assert.deepEqual(shape(z), shape(p));
        assert.equal(z.denials, p.denials);
        const piped = spawnSync(process.execPath, [join(ROOT, 'src/cli/bin.ts'), 'logs', '--json', '-'], {
          input: readFileSync(access),
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.equal(piped.status, 0, piped.stderr);
        assert.equal((JSON.parse(piped.stdout) as LogReport).denials, p.denials);
      });
    },
  );
}
