// lighttpd end to end: url.access-deny by suffix, by path prefix and by client
// address, a file its worker cannot read and a directory without index, each
// diagnosed from the live server in-process and through `why403 check`. Its
// own debug log confirms which check refused each request.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../servers/http.ts';
import { lighttpdSuite, type LighttpdServer } from '../servers/lighttpd.ts';
import { parseReport, runCli } from './helpers.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(lighttpdSuite, {
  extra: (server) => {
    it('the same server answers 200 for ordinary files', { timeout: 30_000 }, async () => {
      for (const path of ['/index.html', '/files/a.txt'])
        assert.equal((await send('GET', `${server().origin}${path}`)).response.status, 200, path);
    });

    it(
      'its error log names the check that refused: access_deny for the address rule, Permission denied for the file',
      { timeout: 30_000 },
      async () => {
        const s = server() as LighttpdServer;
        s.takeLog();
        assert.equal((await send('GET', `${s.origin}/office/report.txt`)).response.status, 403);
        await new Promise((r) => setTimeout(r, 200));
        assert.ok(
          s.takeLog().some((l) => l.includes('url denied as we match access_deny')),
          'access_deny line for /office/',
        );
        assert.equal((await send('GET', `${s.origin}/secret.txt`)).response.status, 403);
        await new Promise((r) => setTimeout(r, 200));
        assert.ok(
          s.takeLog().some((l) => /Permission denied/.test(l)),
          'Permission denied line for /secret.txt',
        );
      },
    );

    it('cli check: an allowed request exits 0 with no causes', { timeout: 60_000 }, async () => {
      const r = await runCli(['check', '--json', `${server().origin}/index.html`]);
      const report = parseReport(r);
      assert.equal(report.status, 200);
      assert.deepEqual(report.causes, []);
      assert.equal(r.code, 0, r.stderr);
    });
  },
});
