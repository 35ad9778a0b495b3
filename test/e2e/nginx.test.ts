// nginx end to end: deny rules, an IP rule, a directory without index, an
// unreadable file, a dot-file, limit_except and auth_basic, each diagnosed
// from the live server through `why403 check`, plus the other ways in
// (`-- curl …`, `explain` of a real `curl -v` transcript) and the exit codes.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUITES } from '../servers/scenarios.ts';
import { freePort } from '../servers/common.ts';
import { NGINX_BASIC_PASSWORD, NGINX_BASIC_USER } from '../servers/nginx.ts';
import { assertDiagnosis, parseReport, runCli } from './helpers.ts';
import { e2eSuite } from './suite.ts';

const suite = SUITES.find((s) => s.id === 'nginx')!;
const scenario = (name: string) => suite.scenarios.find((s) => s.name === name)!;

e2eSuite(suite, {
  extra: (server) => {
    it('cli check: an allowed request exits 0 with no causes', { timeout: 60_000 }, async () => {
      const r = await runCli(['check', '--json', `${server().origin}/index.html`]);
      const report = parseReport(r);
      assert.equal(report.status, 200);
      assert.equal(report.outcome, 'allowed');
      assert.deepEqual(report.causes, []);
      assert.equal(r.code, 0, r.stderr);
    });

    it('cli check: the right Basic credentials exit 0', { timeout: 60_000 }, async () => {
      const auth = Buffer.from(`${NGINX_BASIC_USER}:${NGINX_BASIC_PASSWORD}`).toString('base64');
      const r = await runCli([
        'check',
        '--json',
        `${server().origin}/admin/index.html`,
        '-H',
        `Authorization: Basic ${auth}`,
      ]);
      assert.equal(parseReport(r).status, 200);
      assert.equal(r.code, 0, r.stderr);
    });

    it('cli check -- curl …: the IP rule, given as a curl command', { timeout: 60_000 }, async () => {
      const sc = scenario('ip-rule');
      const r = await runCli([
        'check',
        '--json',
        '--',
        'curl',
        `${server().origin}/office/report.txt`,
        '-H',
        'Accept: text/plain',
      ]);
      assertDiagnosis(parseReport(r), sc);
      assert.equal(r.code, 1, r.stderr);
    });

    it(
      'cli explain: a real `curl -v` transcript of the unreadable file',
      { timeout: 60_000, skip: !existsSync('/usr/bin/curl') && 'curl is not installed' },
      async () => {
        const sc = scenario('unreadable-file');
        const dir = mkdtempSync(join(tmpdir(), 'why403-e2e-'));
        try {
          // curl writes the exchange to stderr and the body to stdout; a user pastes both.
          const transcript = execFileSync(
            'sh',
            ['-c', `/usr/bin/curl -sv --noproxy '*' --max-time 10 '${server().origin}/secret.txt' 2>&1`],
            { encoding: 'utf8' },
          );
          const file = join(dir, 'curl-v.txt');
          writeFileSync(file, transcript);
          const r = await runCli(['explain', '--json', file]);
          assertDiagnosis(parseReport(r), sc);
          assert.equal(r.code, 1, r.stderr);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );

    it(
      'cli check: nothing listening exits 3 (network failure) with one line on stderr',
      { timeout: 60_000 },
      async () => {
        const port = await freePort();
        const r = await runCli(['check', '--json', '--timeout', '5', `http://127.0.0.1:${port}/`]);
        assert.equal(r.code, 3, `exit code; stderr: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      },
    );
  },
});
