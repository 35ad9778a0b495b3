// One describe() per real server: start it before, stop it after (also when a
// test fails), and for each scenario diagnose the live denial twice — with the
// library in-process, and through the command line a user would run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../servers/common.ts';
import type { Suite } from '../servers/scenarios.ts';
import { assertDiagnosis, checkArgs, diagnoseInProcess, parseReport, runCli } from './helpers.ts';

export interface SuiteOptions {
  /** Extra tests that need the running server. */
  extra?: (server: () => RunningServer) => void;
}

export function e2eSuite(suite: Suite, opts: SuiteOptions = {}): void {
  // On a developer's machine a missing server package skips its suite; in CI it must be there.
  const missing = suite.missing();
  const skip = missing && process.env.CI !== 'true' ? `${missing}; .ci/run installs it` : false;
  describe(`${suite.id} (real server on 127.0.0.1)`, { timeout: 180_000, skip }, () => {
    let server: RunningServer | undefined;
    before(async () => {
      server = await suite.start();
    });
    after(async () => {
      await server?.stop();
    });
    const running = () => {
      assert.ok(server, `${suite.id} did not start`);
      return server;
    };

    for (const sc of suite.scenarios) {
      const what = `${sc.name} → ${sc.label.cause}${sc.ambiguous?.length ? ` (or look-alikes ${sc.ambiguous.join(', ')})` : ''}`;
      it(`engine: ${what}`, { timeout: 30_000 }, async () => {
        const s = running();
        const report = await diagnoseInProcess(s.origin, await sc.plan(s));
        assertDiagnosis(report, sc);
      });
      it(`cli check: ${what}`, { timeout: 60_000 }, async () => {
        const s = running();
        const r = await runCli(checkArgs(s.origin, await sc.plan(s)));
        const report = parseReport(r);
        assertDiagnosis(report, sc);
        assert.equal(r.code, 1, `exit code 1 (denied); stderr: ${r.stderr}`);
      });
    }
    opts.extra?.(running);
  });
}
