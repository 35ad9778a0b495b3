// What the probe tests check on every run, whatever the scenario: the report's
// account of the probes against what the real server logged receiving.
// design.md section 4 is checked on the server side, so a probe that adds a
// source-address header, replays an unsafe method without --allow-unsafe,
// changes what it says it did not change, or sends more than the budget
// fails here even if the report says otherwise.
import assert from 'node:assert/strict';
import type { ProbeResult, Report } from '../../src/model/report.ts';
import type { CauseId } from '../../src/model/vocabulary.ts';
import {
  settledRequests,
  SOURCE_ADDRESS_HEADERS,
  WATCHED_HEADERS,
  type LoggedRequest,
  type RunningServer,
} from '../servers/common.ts';
import { spawnCli, type CliResult } from './helpers.ts';

const PROXY_VARS = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'all_proxy',
  'no_proxy',
];

/**
 * The CLI's environment: no proxy from this machine (loopback goes direct)
 * unless `proxy` is given — then HTTP_PROXY is that proxy and NO_PROXY is
 * unset, as on a workstation behind a corporate proxy.
 */
export function cliEnv(extra: Record<string, string> = {}, proxy?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of PROXY_VARS) delete env[k];
  if (proxy) env.HTTP_PROXY = proxy;
  else env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
  return { ...env, ...extra };
}

/** Runs `node src/cli/bin.ts …` with this very node, killed after `timeoutMs`. */
export function why403(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<CliResult> {
  return spawnCli(args, env, timeoutMs);
}

/** Runs `fn` and returns the requests for `path` that `server` logged meanwhile (other paths — token minting, the app's own JWKS fetch — are not the scenario's). */
export async function received<T>(
  server: RunningServer,
  path: string,
  fn: () => Promise<T>,
): Promise<{ result: T; requests: LoggedRequest[] }> {
  assert.ok(server.requests, `${server.version} keeps no request log`);
  const read = () => server.requests!();
  const before = (await settledRequests(read, 50, 500)).length;
  const result = await fn();
  const matches = (r: LoggedRequest) => {
    try {
      return new URL(r.target, 'http://x').pathname === path;
    } catch {
      return false;
    }
  };
  return { result, requests: (await settledRequests(read)).slice(before).filter(matches) };
}

/** What a report entry changed: "header:Authorization (as --as)" → ["header", "authorization"]; "body" → ["body", ""]. */
function changed(entry: string): [kind: string, name: string] {
  const m = /^(\w+)(?::([^\s(]+))?/.exec(entry);
  assert.ok(m, `a probe change reads "kind:name" or "kind", got "${entry}"`);
  return [m[1], (m[2] ?? '').toLowerCase()];
}

/** Cookie header → name (lower case) → value. */
const cookieMap = (v: string | undefined) =>
  new Map(
    (v ?? '')
      .split(/;\s*/)
      .filter((c) => c.includes('='))
      .map((c) => [c.slice(0, c.indexOf('=')).trim().toLowerCase(), c.slice(c.indexOf('=') + 1)]),
  );

export interface TrafficRules {
  /** The user passed --allow-unsafe: their own method may be replayed. */
  allowUnsafe?: boolean;
  budget?: number;
  /** Probes the report lists that the server did not receive (the proxy probe's direct request lands elsewhere). */
  elsewhere?: (p: ProbeResult) => boolean;
}

const describeLog = (rs: LoggedRequest[]) =>
  rs.map((r, i) => `  #${i} ${r.method} ${r.target} → ${r.status ?? '?'} ${JSON.stringify(r.headers)}`).join('\n');
const describeProbes = (ps: ProbeResult[]) =>
  ps
    .map(
      (p, i) =>
        `  ${i}. ${p.name} ${p.request?.method ?? '?'} −[${p.request?.removed?.join(', ') ?? ''}] +[${p.request?.added?.join(', ') ?? ''}] → ${p.status}: ${p.meaning}`,
    )
    .join('\n');

/**
 * The server received the user's request and then exactly the probes the
 * report lists, in order, each differing from the original only by what the
 * probe says it removed or added; none carries a source-address header; no
 * unsafe method without --allow-unsafe; no more than the budget.
 */
export function assertTraffic(report: Report, logged: LoggedRequest[], rules: TrafficRules = {}): void {
  // A probe answered from an identical earlier request was not sent again.
  const probes = (report.probes ?? []).filter((p) => !p.reused);
  const here = probes.filter((p) => !rules.elsewhere?.(p));
  const context = `\nserver log:\n${describeLog(logged)}\nreport probes:\n${describeProbes(probes)}`;
  assert.equal(
    logged.length,
    1 + here.length,
    `the server received the user's request and the ${here.length} probe request(s) the report lists${context}`,
  );
  assert.equal(
    report.probing?.sent ?? 0,
    probes.length,
    `every request sent is in the report (probing.sent = probes.length)${context}`,
  );
  assert.ok(
    probes.length <= (rules.budget ?? 12),
    `at most the budget (${rules.budget ?? 12}) of probe requests${context}`,
  );

  const original = logged[0];
  const userMethod = report.request.method.toUpperCase();
  assert.equal(original.method, userMethod, `the first request is the user's${context}`);
  for (const h of SOURCE_ADDRESS_HEADERS)
    assert.equal(original.headers[h], undefined, `the user's request carries no ${h}`);

  here.forEach((p, i) => {
    try {
      assertProbeRequest(p, i, logged[0], logged[i + 1], userMethod, rules);
    } catch (e) {
      if (e instanceof assert.AssertionError) e.message += context;
      throw e;
    }
  });
}

/** One probe request as the server logged it, against the user's request and what the report says the probe changed. */
function assertProbeRequest(
  p: ProbeResult,
  i: number,
  original: LoggedRequest,
  got: LoggedRequest,
  userMethod: string,
  rules: TrafficRules,
): void {
  const where = `probe ${i} (${p.name})`;
  assert.ok(p.request, `probe ${p.name} lists the request it sent`);
  assert.equal(got.method, p.request.method.toUpperCase(), `method of ${where}`);
  assert.ok(
    ['GET', 'HEAD', 'OPTIONS'].includes(got.method) || (rules.allowUnsafe && got.method === userMethod),
    `${got.method} is replayed only with --allow-unsafe, and only as the user's own method: ${where}`,
  );
  if (p.status !== null && got.status !== undefined)
    assert.equal(got.status, p.status, `status the server logged for ${where}`);
  for (const h of SOURCE_ADDRESS_HEADERS)
    assert.equal(got.headers[h], undefined, `${h} is never added (design.md section 4): ${where}`);

  const removed = (p.request.removed ?? []).map(changed);
  const added = (p.request.added ?? []).map(changed);
  const removedHeaders = new Set(removed.filter(([k]) => k === 'header').map(([, n]) => n));
  const addedHeaders = new Set(added.filter(([k]) => k === 'header').map(([, n]) => n));
  const removedCookies = new Set(removed.filter(([k]) => k === 'cookie').map(([, n]) => n));
  for (const h of WATCHED_HEADERS) {
    const before = original.headers[h];
    const after = got.headers[h];
    if (addedHeaders.has(h)) {
      assert.notEqual(after, undefined, `${where}: says it added ${h}, which the server did not receive`);
      continue;
    }
    if (removedHeaders.has(h)) {
      assert.equal(after, undefined, `${where}: says it removed ${h}, yet the server received "${after}"`);
      continue;
    }
    if (h === 'cookie' && removedCookies.size) {
      const b = cookieMap(before);
      const a = cookieMap(after);
      for (const name of removedCookies)
        assert.ok(!a.has(name), `${where}: says it removed cookie ${name}, yet the server received it`);
      for (const [name, value] of a)
        assert.equal(b.get(name), value, `${where}: cookie ${name} was neither the user's nor named as added`);
      for (const [name] of b)
        if (!removedCookies.has(name))
          assert.ok(a.has(name), `${where}: cookie ${name} went missing without being listed as removed`);
      continue;
    }
    assert.equal(
      after,
      before,
      `${where}: ${h} changed ("${before}" → "${after}") without being listed as removed or added`,
    );
  }
}

/** The probe requests as the report lists them, in the form the scenarios state them. */
export const probeRequests = (report: Report) =>
  (report.probes ?? [])
    .filter((p) => !p.reused)
    .map((p) => ({
      name: p.name,
      method: p.request?.method ?? '',
      removed: p.request?.removed ?? [],
      added: p.request?.added ?? [],
      status: p.status,
    }));

export const ranked = (report: Report) => report.causes.map((c) => `${c.id}:${c.score}`).join(', ');
export const probesSaid = (report: Report) => describeProbes(report.probes ?? []);

/** Causes that are about who the caller is or what their credential holds: the without-credential probe argues against these when the answer does not change. */
export const IDENTITY_CAUSES: CauseId[] = [
  'credential-missing',
  'credential-malformed',
  'credential-expired',
  'credential-not-yet-valid',
  'credential-invalid',
  'clock-skew',
  'wrong-audience',
  'insufficient-scope',
  'insufficient-role',
  'not-owner',
  'account-state',
  'conditional-access',
];

export function parseJsonReport(r: CliResult): Report {
  try {
    const parsed = JSON.parse(r.stdout) as Report;
    assert.ok(parsed && typeof parsed === 'object' && !Array.isArray(parsed), 'one report object');
    return parsed;
  } catch (e) {
    throw new assert.AssertionError({
      message: `why403 printed no JSON report (exit ${r.code}): ${(e as Error).message}\nstdout: ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr.slice(0, 2000)}`,
    });
  }
}
