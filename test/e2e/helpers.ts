// Runs the why403 command line the way a user does (node src/cli/bin.ts …) and
// checks its report against a scenario's label. Shared by the end-to-end tests.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { Report } from '../../src/model/report.ts';
import type { PlannedRequest, Scenario, Suite } from '../servers/scenarios.ts';
import type { RunningServer } from '../servers/common.ts';
import { send } from '../servers/http.ts';
import { exchangeFromFixtureJson } from '../../src/rules/_lib/fixtures.ts';
import { diagnose } from '../../src/diagnose.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
/** The command from source, as `npm run why403` runs it; test/package/ runs the built one. */
export const BIN = join(ROOT, 'src', 'cli', 'bin.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment for the CLI: loopback must never go through a proxy this machine happens to configure. */
export function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    NO_COLOR: '1',
  };
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) delete env[k];
  return env;
}

export function runCli(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return spawnCli(args, cliEnv(), timeoutMs);
}

/** Runs `node src/cli/bin.ts …` with this very node and the given environment, killed after `timeoutMs`. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`why403 ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `check --json URL -X … -H … -d …` for a planned request; unsafe methods need the user's explicit opt-in. */
export function checkArgs(origin: string, p: PlannedRequest): string[] {
  const args = ['check', '--json', '--timeout', '10'];
  if (!['GET', 'HEAD', 'OPTIONS'].includes(p.method)) args.push('--allow-unsafe');
  args.push(origin + p.path, '-X', p.method);
  for (const [k, v] of Object.entries(p.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (p.body !== undefined) args.push('-d', p.body);
  return args;
}

export function parseReport(r: CliResult): Report {
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new assert.AssertionError({
      message: `why403 printed no JSON report (exit ${r.code})\nstdout: ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr.slice(0, 2000)}`,
    });
  }
  // design.md section 3: one JSON object per diagnosed exchange; arrays are for HARs and scans.
  assert.ok(
    parsed && typeof parsed === 'object' && !Array.isArray(parsed),
    `--json for one exchange prints one report object (design.md section 3), got ${Array.isArray(parsed) ? `an array of ${parsed.length}` : typeof parsed}`,
  );
  return parsed as Report;
}

const ranked = (report: Report) => report.causes.map((c) => `${c.id}:${c.score}`).join(', ');

/**
 * The report names the scenario's producer, and ranks its cause first — or,
 * where the response cannot separate it from look-alikes, among the first
 * 1 + ambiguous.length causes, beside those look-alikes only.
 */
export function assertDiagnosis(report: Report, sc: Scenario): void {
  assert.equal(report.schema, 'why403/report@1');
  assert.equal(report.status, sc.status, 'status');
  assert.equal(report.deniedBy?.product, sc.label.product, `deniedBy.product; causes: ${ranked(report)}`);
  assert.equal(report.deniedBy?.layer, sc.label.layer, 'deniedBy.layer');
  if (sc.ambiguous?.length) {
    const top = report.causes.slice(0, 1 + sc.ambiguous.length).map((c) => c.id);
    assert.ok(
      top.includes(sc.label.cause),
      `${sc.label.cause} among the ${top.length} causes the response cannot separate; got ${ranked(report)}`,
    );
    for (const id of top)
      assert.ok(
        id === sc.label.cause || sc.ambiguous.includes(id),
        `only declared look-alikes beside ${sc.label.cause}; got ${ranked(report)}`,
      );
  } else {
    assert.equal(report.causes[0]?.id, sc.label.cause, `causes[0]; got ${ranked(report)}`);
  }
}

/** Sends the request in-process and diagnoses it with the library: the rule-level half of a scenario, without the CLI. */
export async function diagnoseInProcess(origin: string, p: PlannedRequest): Promise<Report> {
  const cap = await send(p.method, origin + p.path, p.headers ?? {}, p.body);
  const contentType = Object.entries(cap.request.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  const exchange = exchangeFromFixtureJson(
    {
      request: {
        method: cap.request.method,
        url: cap.request.url,
        headers: cap.request.headers,
        ...(p.body !== undefined ? { postData: { mimeType: contentType, text: p.body } } : {}),
      },
      response: { ...cap.response },
    },
    'live',
  );
  exchange.source = { kind: 'live', name: cap.request.url };
  return diagnose(exchange, { now: cap.receivedAt });
}

/** Starts the scan as its own process (so it can be killed for real). */
export function startScan(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_PROXY: '127.0.0.1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  return { child, exited, out: () => ({ stdout, stderr }) };
}

/** A scenario request as it was sent, and what its label says. */
export interface SentScenario {
  name: string;
  path: string;
  cause: string;
  status: number;
}

/** Sends each of a suite's scenarios once, as planned, and checks it got the status its label expects. */
export async function sendScenarios(suite: Suite, server: RunningServer): Promise<SentScenario[]> {
  const sent: SentScenario[] = [];
  for (const sc of suite.scenarios) {
    const plan = await sc.plan(server);
    const res: Response = await fetch(server.origin + plan.path, {
      method: plan.method,
      headers: plan.headers,
      ...(plan.body !== undefined ? { body: plan.body } : {}),
    });
    await res.arrayBuffer();
    assert.equal(res.status, sc.status, `${sc.name} answered ${res.status}`);
    sent.push({ name: sc.name, path: plan.path, cause: sc.label.cause, status: sc.status });
  }
  return sent;
}
