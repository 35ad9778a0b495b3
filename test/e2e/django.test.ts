// Django end to end: CsrfViewMiddleware's failure page (cookie not set, token
// missing, no Referer on HTTPS; with DEBUG off and on), permission_required
// for a signed-in user and for an anonymous one, an ownership check raising
// PermissionDenied — and login_required, which redirects instead of denying.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { SUITES } from '../servers/scenarios.ts';
import { parseReport, runCli } from './helpers.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(
  SUITES.find((s) => s.id === 'django')!,
  {
    extra: (server) => {
      it(
        'cli check --no-follow: login_required answers a redirect to the login page, not a denial (exit 0)',
        { timeout: 60_000 },
        async () => {
          const r = await runCli(['check', '--json', '--no-follow', `${server().origin}/account/`]);
          const report = parseReport(r);
          assert.equal(report.status, 302);
          assert.equal(report.outcome, 'redirect');
          assert.deepEqual(report.causes, []);
          assert.equal(r.code, 0, r.stderr);
        },
      );
    },
  },
);

e2eSuite(SUITES.find((s) => s.id === 'django-debug')!);
