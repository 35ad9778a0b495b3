// Apache httpd end to end: Require all denied, Require ip, Options -Indexes,
// an unreadable file, .ht* files, LimitExcept and AuthType Basic, through
// `why403 check`; plus `explain` of the raw HTTP exchange and the hardened
// server (ServerTokens Prod, no signature) that gives away less.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUITES } from '../servers/scenarios.ts';
import { send } from '../servers/http.ts';
import { assertDiagnosis, parseReport, runCli } from './helpers.ts';
import { e2eSuite } from './suite.ts';

const suite = SUITES.find((s) => s.id === 'apache')!;

e2eSuite(suite, {
  extra: (server) => {
    it('cli explain: the raw HTTP request and response of the Require ip denial', { timeout: 60_000 }, async () => {
      const sc = suite.scenarios.find((s) => s.name === 'require-ip')!;
      const plan = await sc.plan(server());
      const cap = await send(plan.method, server().origin + plan.path, plan.headers ?? {});
      const u = new URL(cap.request.url);
      const raw =
        `${cap.request.method} ${u.pathname} HTTP/1.1\r\n${Object.entries(cap.request.headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n` +
        `HTTP/1.1 ${cap.response.status} ${cap.response.statusText}\r\n${cap.response.headers.map((h) => `${h.name}: ${h.value}\r\n`).join('')}\r\n${cap.response.body}`;
      const dir = mkdtempSync(join(tmpdir(), 'why403-e2e-'));
      try {
        const file = join(dir, 'exchange.http');
        writeFileSync(file, raw);
        const r = await runCli(['explain', '--json', file]);
        assertDiagnosis(parseReport(r), sc);
        assert.equal(r.code, 1, r.stderr);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
});

e2eSuite(SUITES.find((s) => s.id === 'apache-hardened')!);
