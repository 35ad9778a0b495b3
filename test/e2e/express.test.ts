// Express end to end: csurf (EBADCSRFTOKEN) and express-oauth2-jwt-bearer
// against the app's own JWKS — missing, expired, not-yet-valid, wrong-audience,
// badly signed and malformed tokens, and a missing scope — through
// `why403 check`; a good token exits 0; `explain` reads a saved exchange.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUITES } from '../servers/scenarios.ts';
import { send } from '../servers/http.ts';
import { EXPRESS_REQUIRED_SCOPE, mintToken } from '../servers/express.ts';
import { assertDiagnosis, parseReport, runCli } from './helpers.ts';
import { e2eSuite } from './suite.ts';

const suite = SUITES.find((s) => s.id === 'express')!;

e2eSuite(suite, {
  extra: (server) => {
    it('cli check: a valid token with the required scope exits 0', { timeout: 60_000 }, async () => {
      const { token } = await mintToken(server().origin, { scope: EXPRESS_REQUIRED_SCOPE });
      const r = await runCli([
        'check',
        '--json',
        `${server().origin}/api/reports`,
        '-H',
        `Authorization: Bearer ${token}`,
      ]);
      assert.equal(parseReport(r).status, 200);
      assert.equal(r.code, 0, r.stderr);
    });

    it('cli explain: a saved JSON exchange of the expired token', { timeout: 60_000 }, async () => {
      const sc = suite.scenarios.find((s) => s.name === 'jwt-expired')!;
      const plan = await sc.plan(server());
      const cap = await send(plan.method, server().origin + plan.path, plan.headers ?? {});
      const dir = mkdtempSync(join(tmpdir(), 'why403-e2e-'));
      try {
        const file = join(dir, 'exchange.json');
        writeFileSync(
          file,
          JSON.stringify({
            request: { method: cap.request.method, url: cap.request.url, headers: cap.request.headers },
            response: cap.response,
          }),
        );
        const r = await runCli(['explain', '--json', file]);
        const report = parseReport(r);
        assertDiagnosis(report, sc);
        assert.equal(r.code, 1, r.stderr);
        assert.ok(
          !r.stdout.includes(plan.headers!.Authorization.slice('Bearer '.length)),
          'the token is redacted in the report',
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
});

e2eSuite(SUITES.find((s) => s.id === 'express-production')!);
