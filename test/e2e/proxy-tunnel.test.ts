// A real Squid refusing the CONNECT for an https URL: `check` reports the
// proxy's denial (exit 1), not a network failure (exit 3).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN, ROOT } from './helpers.ts';
import { freePort, type RunningServer } from '../servers/common.ts';
import { startSquid } from '../servers/squid.ts';
import type { Report } from '../../src/model/report.ts';

const hasSquid = spawnSync('sh', ['-c', 'command -v squid']).status === 0;

describe(
  'a forward proxy refuses the tunnel (real Squid on 127.0.0.1)',
  { skip: !hasSquid && !process.env.CI && 'squid is not installed' },
  () => {
    let squid: RunningServer;
    let denied = 0;
    before(async () => {
      denied = await freePort();
      squid = await startSquid({ denyPorts: [denied] });
    });
    after(() => squid?.stop());

    it('check names the forward proxy and proxy-interference, with exit 1', () => {
      const env = { ...process.env, HTTPS_PROXY: squid.origin, NO_PROXY: '', no_proxy: '', NO_COLOR: '1' };
      const r = spawnSync(
        process.execPath,
        [
          BIN,
          'check',
          '--json',
          '--timeout',
          '5',
          `https://127.0.0.1:${denied}/v1/reports`,
          '-H',
          'Authorization: Bearer not-a-real-token-0123456789',
        ],
        { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 },
      );
      assert.equal(r.status, 1, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.equal(report.status, 403);
      assert.equal(report.deniedBy?.layer, 'forward-proxy');
      assert.equal(report.deniedBy?.product, 'unknown');
      assert.equal(report.causes[0].id, 'proxy-interference');
      assert.equal(report.trace?.proxy?.refusedTunnel, 403);
      assert.ok(!r.stdout.includes('not-a-real-token-0123456789'));
    });
  },
);
