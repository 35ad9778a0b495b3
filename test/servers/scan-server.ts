// Starts the employee API `why403 scan` is tested against
// (test/servers/scan-app.ts) as its own process, and reads its test-only
// request counters. The dataset builder is re-exported so a test can work out
// the expected refusals from the same data the app serves.
import { fileURLToPath } from 'node:url';
import type { RunningServer } from './common.ts';
import { send } from './http.ts';
import { debianRelease } from './nginx.ts';
import { pkgVersion, startNodeApp } from './node-app.ts';

export {
  employees,
  expectedForbidden,
  expectedGuarded,
  FINANCE_PERMISSION,
  SCAN_USERS,
  type Employee,
  type ScanUser,
} from './scan-app.ts';

const APP = fileURLToPath(new URL('./scan-app.ts', import.meta.url));

export interface ScanAppOptions {
  /** Number of employees (app default 120). */
  records: number;
  /** An id whose GET /employees/<id> waits `slowMs` before answering. */
  slowId: string;
  /** App default 5000. */
  slowMs: number;
  /** Requests per window on /limited/employees/:id (app default 10). */
  rateLimit: number;
  /** App default 1000. */
  rateWindowMs: number;
  /** A fixed port; absent or 0 picks a free one. */
  port: number;
}

export function scanAppVersions(): string {
  const v = (p: string) => `${p} ${pkgVersion(p)}`;
  return `Express ${pkgVersion('express')}, ${v('@casl/ability')}, ${v('express-rate-limit')} on Node ${process.versions.node} (${debianRelease()})`;
}

export async function startScanApp(opts: Partial<ScanAppOptions> = {}): Promise<RunningServer> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Only what this call asks for: settings left in the caller's environment must not leak in.
  for (const k of Object.keys(env)) if (k.startsWith('SCAN_APP_')) delete env[k];
  const set = (name: string, v: string | number | undefined) => {
    if (v !== undefined) env[name] = String(v);
  };
  set('SCAN_APP_PORT', opts.port);
  set('SCAN_APP_RECORDS', opts.records);
  set('SCAN_APP_SLOW_ID', opts.slowId);
  set('SCAN_APP_SLOW_MS', opts.slowMs);
  set('SCAN_APP_RATE_LIMIT', opts.rateLimit);
  set('SCAN_APP_RATE_WINDOW_MS', opts.rateWindowMs);
  return startNodeApp(APP, env, scanAppVersions(), 'scan app');
}

/** Requests per record id on /employees/:id, /limited/employees/:id and /guarded/employees/:id, plus "__lists" for list pages, since the last reset. */
export async function hits(origin: string): Promise<Record<string, number>> {
  const res = await send('GET', `${origin}/__hits`);
  if (res.response.status !== 200) throw new Error(`GET /__hits answered ${res.response.status}`);
  return JSON.parse(res.response.body) as Record<string, number>;
}

export async function resetHits(origin: string): Promise<void> {
  const res = await send('DELETE', `${origin}/__hits`);
  if (res.response.status !== 204) throw new Error(`DELETE /__hits answered ${res.response.status}`);
}
