// Varnish end to end: synth(403) for a path, for a client.ip ACL, and for a
// PURGE from outside the purgers ACL, each diagnosed from the live server
// in-process and through `why403 check`. The backend behind it answers the
// other paths, and its own 403 — which Varnish only relays — is not pinned on
// Varnish. varnishlog confirms which VCL line answered.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../servers/http.ts';
import { varnishSuite, type VarnishServer } from '../servers/varnish.ts';
import { diagnoseInProcess, parseReport, runCli } from './helpers.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(varnishSuite, {
  extra: (server) => {
    it('the backend answers 200 through Varnish outside the denied paths', { timeout: 30_000 }, async () => {
      assert.equal((await send('GET', `${server().origin}/reports/q3.pdf`)).response.status, 200);
    });

    it('varnishlog: the ACL matched and VCL returned synth for /office/', { timeout: 30_000 }, async () => {
      const s = server() as VarnishServer;
      assert.equal((await send('GET', `${s.origin}/office/report.txt`)).response.status, 403);
      let log: string[] = [];
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && !(log = s.vsl(403)).some((l) => l.includes('/office/report.txt')))
        await new Promise((r) => setTimeout(r, 200));
      assert.ok(
        log.some((l) => /^VCL_acl MATCH blocked/.test(l)),
        log.join('\n'),
      );
      assert.ok(
        log.some((l) => l === 'VCL_return synth'),
        log.join('\n'),
      );
    });

    it('a 403 from the backend, relayed by Varnish, is not diagnosed as Varnish’s', { timeout: 30_000 }, async () => {
      const report = await diagnoseInProcess(server().origin, { method: 'GET', path: '/private' });
      assert.equal(report.status, 403);
      assert.notEqual(report.deniedBy?.product, 'varnish', `causes: ${report.causes.map((c) => c.id).join(', ')}`);
    });

    it('cli check: an allowed request exits 0 with no causes', { timeout: 60_000 }, async () => {
      const r = await runCli(['check', '--json', `${server().origin}/reports/q3.pdf`]);
      const report = parseReport(r);
      assert.equal(report.status, 200);
      assert.deepEqual(report.causes, []);
      assert.equal(r.code, 0, r.stderr);
    });
  },
});
