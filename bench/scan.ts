// `npm run bench` (second part): `why403 scan` against a plain HTTP client
// (autocannon) on the same fast local server, and the scan's peak RSS at
// 100,000 and 1,000,000 ids.
//
//   node bench/scan.ts            # full: 5 rounds at concurrency 4, one at 16, 100k and 1M ids (~7 min)
//   node bench/scan.ts --quick    # without the 1M run (~2 min)
//
// Throughput: autocannon runs for --seconds at --concurrency connections,
// one new path per request (/items/1, /items/2, …); then the scan fetches
// --ids records at the same concurrency. The two alternate for --rounds
// rounds; each round's ratio is the scan's records per second over
// autocannon's requests per second, and the median ratio is the result.
// The scan's rate is records.done / run.fetchMs from its --json summary: the
// time from its first record request to its last outcome. Its start-up and
// closing summary are outside that window (as autocannon's start-up is
// outside its duration); reading the ids into the state file runs alongside
// the requests and is inside it.
//
// When taskset exists and there are two CPUs or more, the server runs on
// CPU 1 and each client on CPU 0: each client then has one core of its own,
// and what is compared is how much one core of client gets out of the same
// server. Two figures say how far a ratio can be trusted on a shared machine:
// the server's CPU use during each run (from /proc; near 100 % means the
// server, not the client, set the pace) and each client's CPU time per
// request. The second does not depend on waiting, so it barely moves with
// other load; autocannon's is its CPU time during the run, the scan's is its
// whole process's CPU time less that of a 10-id scan (start-up), so it also
// holds reading the ids in and the closing summary.
//
// Nothing is written to the repository: the ids files and state files go to
// a temporary folder, removed at the end. Exit 1 when a run fails or its
// counts are wrong; the 90 % target is reported, not enforced.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
// The built command, as users run it (npm run bench builds it first).
const CLI = join(ROOT, 'dist', 'cli.js');
const TARGET = 0.9;
// Generous: the 1M scan takes a few minutes; a child stuck beyond this is killed and the bench fails.
const CHILD_TIMEOUT_MS = 20 * 60_000;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '8' },
    ids: { type: 'string', default: '60000' },
    concurrency: { type: 'string', default: '4' },
    'no-c16': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node bench/scan.ts [--quick] [--rounds 5] [--seconds 8] [--ids 60000] [--concurrency 4] [--no-c16] [--no-pin]\n',
  );
  process.exit(0);
}
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const throughputIds = Number(values.ids);
const concurrency = Number(values.concurrency);
if (![rounds, throughputIds, concurrency].every((n) => Number.isInteger(n) && n >= 1) || !(seconds > 0)) {
  process.stderr.write(
    '--rounds, --ids and --concurrency take whole numbers of at least 1, --seconds a number above 0\n',
  );
  process.exit(2);
}

// A proxy from the environment would put a third process between client and server.
const childEnv = { ...process.env };
for (const k of Object.keys(childEnv)) if (/^(https?|all|no)_proxy$/i.test(k)) delete childEnv[k];

function canPin(): boolean {
  if (values['no-pin'] || availableParallelism() < 2) return false;
  return spawnSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' }).status === 0;
}
const pinned = canPin();
const onCpu = (cpu: number, argv: string[]) => (pinned ? ['taskset', '-c', String(cpu), ...argv] : argv);

const tmp = mkdtempSync(join(tmpdir(), 'why403-bench-scan-'));
const running = new Set<ChildProcess>();
let serverPid = 0;

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
function cleanUp(): void {
  for (const c of running) if (c.pid) kill(c.pid);
  if (serverPid) kill(serverPid);
  rmSync(tmp, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    cleanUp();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });

class BenchError extends Error {}

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** utime + stime (and the reaped children's cutime + cstime) of a process, in ms. */
function procCpuMs(pid: number | 'self'): { own: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces; f[0] is field 3.
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const ms = (ticks: number) => (ticks * 1000) / clockTicks;
    return { own: ms(f[11] + f[12]), children: ms(f[13] + f[14]) };
  } catch {
    return { own: NaN, children: NaN };
  }
}

/** The resident set of a process now, in bytes (0 once it is gone). */
function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs argv to the end. cpuMs: its CPU time, as the kernel counted it for
 * this (reaping) process. rss: its resident set every half second, when asked
 * (taskset execs the command in place, so the pid is the command's).
 */
function run(
  argv: string[],
  sampleRss = false,
): Promise<{ code: number; stdout: string; stderr: string; cpuMs: number; rss: number[] }> {
  return new Promise((resolve, reject) => {
    const before = procCpuMs('self').children;
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const rss: number[] = [];
    const sampler = sampleRss ? setInterval(() => child.pid && rss.push(rssBytes(child.pid)), 500) : undefined;
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      running.delete(child);
      resolve({
        code: code ?? (signal ? 128 : -1),
        stdout,
        stderr,
        cpuMs: procCpuMs('self').children - before,
        rss: rss.filter((b) => b > 0),
      });
    });
  });
}

async function startServer(): Promise<number> {
  const [cmd, ...args] = onCpu(1, [process.execPath, join(import.meta.dirname, 'scan-target.ts')]);
  const server = spawn(cmd, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: server.stdout! });
  const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as { port: number; pid: number }));
    server.once('exit', () => reject(new BenchError('the bench server exited before it printed its port')));
  });
  serverPid = pid;
  return port;
}

/** 1..n, one a line, written as a stream: a million ids never sit in memory. */
async function idsFile(n: number): Promise<string> {
  const file = join(tmp, `ids-${n}.txt`);
  if (existsSync(file)) return file;
  const out = createWriteStream(file);
  const step = 10_000;
  for (let from = 1; from <= n; from += step) {
    let chunk = '';
    for (let i = from; i < Math.min(from + step, n + 1); i++) chunk += i + '\n';
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return file;
}

interface Rate {
  count: number;
  ms: number;
  perSecond: number;
  /** The server's CPU time over the run's measured duration. */
  serverCpu: number;
  /** The client's CPU time per request, in µs. */
  cpuUs: number;
}

async function autocannonRun(port: number, connections: number): Promise<Rate> {
  const server0 = procCpuMs(serverPid).own;
  const r = await run(
    onCpu(0, [
      process.execPath,
      join(import.meta.dirname, 'autocannon-run.ts'),
      `http://127.0.0.1:${port}`,
      String(connections),
      String(seconds),
    ]),
  );
  const server = procCpuMs(serverPid).own - server0;
  if (r.code !== 0) throw new BenchError(`autocannon failed (exit ${r.code}): ${r.stderr.trim()}`);
  const j = JSON.parse(r.stdout) as {
    total: number;
    durationMs: number;
    errors: number;
    timeouts: number;
    byStatus: Record<string, number>;
    cpuMs: number;
  };
  if (j.errors || j.timeouts) throw new BenchError(`autocannon: ${j.errors} errors, ${j.timeouts} timeouts`);
  const ok = j.byStatus['200'] ?? 0;
  const denied = j.byStatus['403'] ?? 0;
  // The paths run 1, 2, 3, …: one in ten is a multiple of 10.
  if (ok + denied !== j.total || Math.abs(denied / j.total - 0.1) > 0.01)
    throw new BenchError(`autocannon: unexpected answers ${JSON.stringify(j.byStatus)} for ${j.total} requests`);
  return {
    count: j.total,
    ms: j.durationMs,
    perSecond: (j.total * 1000) / j.durationMs,
    serverCpu: server / j.durationMs,
    cpuUs: (j.cpuMs * 1000) / j.total,
  };
}

interface ScanRun extends Rate {
  elapsedMs: number;
  maxRssBytes: number;
  /** The highest resident set sampled in each quarter of the run (when sampled). */
  rssByQuarter: number[];
  stateBytes: number;
  processCpuMs: number;
}

let scanNo = 0;
let scanBaseCpuMs = 0;
async function scanRun(port: number, n: number, c: number, sampleRss = false): Promise<ScanRun> {
  const ids = await idsFile(n);
  const state = join(tmp, `scan-${++scanNo}.sqlite`);
  const server0 = procCpuMs(serverPid).own;
  const r = await run(
    onCpu(0, [
      process.execPath,
      CLI,
      'scan',
      '--ids',
      ids,
      '--get',
      `http://127.0.0.1:${port}/items/{id}`,
      '--concurrency',
      String(c),
      '--state',
      state,
      '--quiet',
      '--json',
    ]),
    sampleRss,
  );
  const server = procCpuMs(serverPid).own - server0;
  // 1: some records were denied, which every tenth one is.
  if (r.code !== 1)
    throw new BenchError(
      `why403 scan exited ${r.code} (expected 1: records denied): ${r.stderr.trim().slice(0, 2000)}`,
    );
  const j = JSON.parse(r.stdout) as {
    records: { done: number; errors: number };
    byStatus: Record<string, number>;
    run: { fetchMs: number; elapsedMs: number; maxRssBytes: number };
  };
  const denied = Math.floor(n / 10);
  if (
    j.records.done !== n ||
    j.records.errors ||
    (j.byStatus['403'] ?? 0) !== denied ||
    (j.byStatus['200'] ?? 0) !== n - denied
  )
    throw new BenchError(
      `why403 scan of ${n} ids: ${j.records.done} done, ${j.records.errors} errors, by status ${JSON.stringify(j.byStatus)}`,
    );
  let stateBytes = 0;
  for (const f of [state, `${state}-wal`]) if (existsSync(f)) stateBytes += statSync(f).size;
  for (const f of [state, `${state}-wal`, `${state}-shm`]) rmSync(f, { force: true });
  return {
    count: n,
    ms: j.run.fetchMs,
    perSecond: (n * 1000) / j.run.fetchMs,
    serverCpu: server / j.run.fetchMs,
    cpuUs: ((r.cpuMs - scanBaseCpuMs) * 1000) / n,
    processCpuMs: r.cpuMs,
    elapsedMs: j.run.elapsedMs,
    maxRssBytes: j.run.maxRssBytes,
    rssByQuarter: [0, 1, 2, 3].map((q) =>
      Math.max(0, ...r.rss.slice(Math.floor((q * r.rss.length) / 4), Math.floor(((q + 1) * r.rss.length) / 4))),
    ),
    stateBytes,
  };
}

const num = (x: number, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '?';
const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : '?');
const mib = (b: number) => `${num(b / 2 ** 20)} MiB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const say = (line = '') => process.stdout.write(line + '\n');
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function autocannonVersion(): string {
  try {
    return (
      'v' +
      (
        JSON.parse(readFileSync(join(ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version
    );
  } catch {
    return '';
  }
}

let failed = false;
try {
  const port = await startServer();
  const started = performance.now();
  say(
    `why403 scan vs autocannon ${autocannonVersion()} — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? '?'})`,
  );
  say(
    pinned
      ? 'pinned with taskset: the server on CPU 1, autocannon and the scan each on CPU 0'
      : 'not pinned (no taskset, fewer than 2 CPUs, or --no-pin): clients and server share the CPUs',
  );
  say(`load average before: ${load()}`);
  // The scan's fixed CPU cost (start-up, one diagnosis, summary), taken off its CPU time per record below;
  // The lower of two, as start-up only varies upwards with load.
  scanBaseCpuMs = Math.min(
    (await scanRun(port, 10, concurrency)).processCpuMs,
    (await scanRun(port, 10, concurrency)).processCpuMs,
  );
  say(`scan start-up CPU (a 10-id scan): ${num(scanBaseCpuMs)} ms`);
  say();

  say(
    `## Throughput at concurrency ${concurrency}: autocannon for ${seconds} s (-c ${concurrency}, pipelining 1) vs why403 scan of ${num(throughputIds)} ids`,
  );
  say(
    "scan rate = records.done / run.fetchMs. server CPU = the server's CPU time over the run. CPU/req = the client's CPU time per request.",
  );
  say();
  say(
    '| round | autocannon req/s | server CPU | CPU/req | why403 scan records/s | server CPU | CPU/record | scan / autocannon | CPU ratio |',
  );
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const acRates: number[] = [];
  const scanRates: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    const ac = await autocannonRun(port, concurrency);
    const sc = await scanRun(port, throughputIds, concurrency);
    ratios.push(sc.perSecond / ac.perSecond);
    cpuRatios.push(ac.cpuUs / sc.cpuUs);
    acRates.push(ac.perSecond);
    scanRates.push(sc.perSecond);
    say(
      `| ${i} | ${num(ac.perSecond)} | ${pct(ac.serverCpu)} | ${num(ac.cpuUs)} µs | ${num(sc.perSecond)} (${num(sc.ms / 1000, 1)} s) | ${pct(sc.serverCpu)} | ${num(sc.cpuUs)} µs | ${ratios.at(-1)!.toFixed(2)} | ${cpuRatios.at(-1)!.toFixed(2)} |`,
    );
  }
  const m = median(ratios);
  say(
    `| median | ${num(median(acRates))} | | | ${num(median(scanRates))} | | | **${m.toFixed(2)}** | ${median(cpuRatios).toFixed(2)} |`,
  );
  say();
  say(
    `median throughput ratio ${m.toFixed(2)}: ${m >= TARGET ? 'meets' : 'BELOW'} the ${TARGET} target (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
  );
  say(
    `CPU ratio (autocannon CPU/req ÷ scan CPU/record, the throughput ratio to expect when each client is held back only by its own core): ${median(cpuRatios).toFixed(2)}`,
  );
  say();

  if (!values['no-c16']) {
    const c = 16;
    const ac = await autocannonRun(port, c);
    const sc = await scanRun(port, throughputIds, c);
    say(`## Throughput at concurrency ${c} (one round)`);
    say();
    say(
      '| autocannon req/s | server CPU | CPU/req | why403 scan records/s | server CPU | CPU/record | scan / autocannon | CPU ratio |',
    );
    say('|---:|---:|---:|---:|---:|---:|---:|---:|');
    say(
      `| ${num(ac.perSecond)} | ${pct(ac.serverCpu)} | ${num(ac.cpuUs)} µs | ${num(sc.perSecond)} (${num(sc.ms / 1000, 1)} s) | ${pct(sc.serverCpu)} | ${num(sc.cpuUs)} µs | ${(sc.perSecond / ac.perSecond).toFixed(2)} | ${(ac.cpuUs / sc.cpuUs).toFixed(2)} |`,
    );
    say();
  }

  say(
    `## Memory: why403 scan at concurrency ${concurrency}, peak RSS (run.maxRssBytes: the scan process's own maximum, summary included)`,
  );
  say();
  say(
    'RSS by quarter: the highest resident set sampled (every 0.5 s, from /proc) in each quarter of the run, start-up to summary.',
  );
  say();
  say('| ids | peak RSS | RSS by quarter | records/s | fetch time | whole run | CPU/record | state file |');
  say('|---:|---:|---:|---:|---:|---:|---:|---:|');
  const sizes = values.quick ? [100_000] : [100_000, 1_000_000];
  const mem: ScanRun[] = [];
  for (const n of sizes) {
    const sc = await scanRun(port, n, concurrency, true);
    mem.push(sc);
    say(
      `| ${num(n)} | ${mib(sc.maxRssBytes)} | ${sc.rssByQuarter.map((b) => num(b / 2 ** 20)).join(' / ')} MiB | ${num(sc.perSecond)} | ${num(sc.ms / 1000, 1)} s | ${num(sc.elapsedMs / 1000, 1)} s | ${num(sc.cpuUs)} µs | ${mib(sc.stateBytes)} |`,
    );
    rmSync(join(tmp, `ids-${n}.txt`), { force: true });
  }
  say();
  if (mem.length === 2)
    say(
      `peak RSS at 1,000,000 ids ÷ at 100,000 ids: ${(mem[1].maxRssBytes / mem[0].maxRssBytes).toFixed(2)} (${mib(mem[1].maxRssBytes - mem[0].maxRssBytes)} more)`,
    );
  else say('--quick: the 1,000,000-id run was skipped');
  say(`load average after: ${load()}; the bench took ${num((performance.now() - started) / 1000)} s`);
} catch (e) {
  failed = true;
  process.stderr.write(
    `bench/scan: ${e instanceof BenchError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
} finally {
  cleanUp();
}
process.exitCode = failed ? 1 : 0;
