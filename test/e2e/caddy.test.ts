// Caddy end to end: `respond` on a remote_ip matcher and on a path, a file
// the caddy user cannot read, and basicauth (missing, wrong password, wrong
// scheme), each diagnosed from the live server in-process and through
// `why403 check`. The same site lets ordinary files and the right password
// through, and its own log says "permission denied" for the unreadable file.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../servers/http.ts';
import { basicAuth, CADDY_PASSWORD, CADDY_USER, caddySuite } from '../servers/caddy.ts';
import { parseReport, runCli } from './helpers.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(caddySuite, {
  extra: (server) => {
    it('the same site answers 200 for an ordinary file and for the right password', { timeout: 30_000 }, async () => {
      const s = server();
      assert.equal((await send('GET', `${s.origin}/index.html`)).response.status, 200);
      assert.equal(
        (await send('GET', `${s.origin}/reports/q3.txt`, { Authorization: basicAuth(CADDY_USER, CADDY_PASSWORD) }))
          .response.status,
        200,
      );
    });

    it('its log says "permission denied" for the unreadable file', { timeout: 30_000 }, async () => {
      const s = server();
      assert.equal((await send('GET', `${s.origin}/secret.txt`)).response.status, 403);
      const deadline = Date.now() + 3000;
      while (!s.errorLog().some((l) => l.includes('permission denied')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.ok(
        s.errorLog().some((l) => l.includes('permission denied') && l.includes('/secret.txt')),
        s.errorLog().join('\n'),
      );
    });

    it('cli check: an allowed request exits 0 with no causes', { timeout: 60_000 }, async () => {
      const r = await runCli(['check', '--json', `${server().origin}/index.html`]);
      const report = parseReport(r);
      assert.equal(report.status, 200);
      assert.deepEqual(report.causes, []);
      assert.equal(r.code, 0, r.stderr);
    });
  },
});
