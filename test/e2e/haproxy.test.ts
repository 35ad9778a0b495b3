// HAProxy end to end: an unconditional deny, a deny on the client address, a
// deny on the path and `http-request auth`, each diagnosed from the live
// server in-process and through `why403 check`; the same config lets other
// paths and the right password through, so each denial comes from its rule.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../servers/http.ts';
import { basicAuth, HAPROXY_PASSWORD, HAPROXY_USER, haproxySuite } from '../servers/haproxy.ts';
import { parseReport, runCli } from './helpers.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(haproxySuite, {
  extra: (server) => {
    it(
      'the same config answers 200 outside the denied paths and for the right password',
      { timeout: 30_000 },
      async () => {
        const s = server();
        assert.equal((await send('GET', `${s.origin}/reports/q3.pdf`)).response.status, 200);
        assert.equal(
          (
            await send('GET', `${s.origin}/members/report.txt`, {
              Authorization: basicAuth(HAPROXY_USER, HAPROXY_PASSWORD),
            })
          ).response.status,
          200,
        );
      },
    );

    it('cli check: an allowed request exits 0 with no causes', { timeout: 60_000 }, async () => {
      const r = await runCli(['check', '--json', `${server().origin}/reports/q3.pdf`]);
      const report = parseReport(r);
      assert.equal(report.status, 200);
      assert.deepEqual(report.causes, []);
      assert.equal(r.code, 0, r.stderr);
    });
  },
});
