// `npm run bench` (last part): what why403's Express middleware costs an
// API. The same Express 5 app (bench/middleware-app.ts) in two forms — its
// scope checked by express-oauth2-jwt-bearer's requiredScopes (plain), or by
// why403's requireScope guard with its error middleware and an event per
// denial (why403) — loaded by autocannon on one small route:
//   - allowed: a token with the scope, nothing denied (the target: at most 3%
//     fewer requests a second than plain);
//   - denied: a token without it, every request refused (plain answers
//     Express's error page; why403 an explained problem+json and an event).
//
//   node bench/middleware.ts                     # 5 rounds of 5 s per form and path
//   node bench/middleware.ts --rounds 3 --seconds 3
//
// The forms alternate within each round (plain, why403, then why403, plain
// in the next), so a slow moment on a shared machine falls on both; the
// result is the median of the rounds' ratios. When taskset exists, the app
// runs on CPU 1 and autocannon here on CPU 0. Reported, not enforced.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write('node bench/middleware.ts [--rounds 5] [--seconds 5] [--connections 10]\n');
  process.exit(0);
}
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

type Form = 'plain' | 'why403';
interface Result {
  requests: { average: number; total: number };
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: object) => Promise<Result>;

const secret = randomBytes(32).toString('hex');
const token = (scope: string) =>
  new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://bench.why403.test/')
    .setAudience('bench')
    .setSubject('bench-user')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
const tokens = { allowed: await token('read:orders'), denied: await token('read:invoices') };

const pin = spawnSync('taskset', ['--version']).status === 0 && (await import('node:os')).availableParallelism() >= 2;

async function start(form: Form): Promise<{ origin: string; child: ChildProcess; pid: number }> {
  const app = [process.execPath, join(import.meta.dirname, 'middleware-app.ts'), form, secret];
  // NODE_ENV=test: Express's final handler then does not print each error's stack to stderr,
  // which would measure the terminal, not the app.
  const env = { ...process.env, NODE_ENV: 'test' };
  const child = pin
    ? spawn('taskset', ['-c', '1', ...app], { stdio: ['ignore', 'pipe', 'inherit'], env })
    : spawn(app[0]!, app.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  const { port, pid } = JSON.parse(line) as { port: number; pid: number };
  return { origin: `http://127.0.0.1:${port}`, child, pid };
}

/** The app's CPU time so far (user + system), in microseconds, from /proc: steadier than requests a second on a shared machine. */
function cpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat (12 and 13 after the command name), in clock ticks (100 a second).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

async function load(origin: string, path: 'allowed' | 'denied'): Promise<number> {
  const r = await autocannon({
    url: `${origin}/orders`,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${tokens[path]}` },
  });
  const want = path === 'allowed' ? '200' : '403';
  const other = Object.entries(r.statusCodeStats).filter(([s]) => s !== want);
  if (r.errors || other.length) throw new Error(`${path}: ${r.errors} errors, other statuses ${JSON.stringify(other)}`);
  return r.requests.total;
}

if (pin) spawnSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
const apps = { plain: await start('plain'), why403: await start('why403') };
const say = (s: string) => process.stdout.write(s + '\n');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  // Warm both (JIT, connections) before measuring.
  for (const form of ['plain', 'why403'] as const)
    for (const p of ['allowed', 'denied'] as const) {
      await autocannon({
        url: `${apps[form].origin}/orders`,
        connections,
        duration: 1,
        headers: { authorization: `Bearer ${tokens[p]}` },
      });
    }
  say(
    `## why403/express against the same app without it: ${rounds} rounds of ${seconds} s, ${connections} connections${pin ? ', app on CPU 1, autocannon on CPU 0' : ''}`,
  );
  say('');
  say(
    '| path | plain req/s | why403 req/s | ratio (median of rounds) | plain CPU µs/req | why403 CPU µs/req | CPU ratio |',
  );
  say('|---|---|---|---|---|---|---|');
  for (const path of ['allowed', 'denied'] as const) {
    const rate: Record<Form, number[]> = { plain: [], why403: [] };
    const cpu: Record<Form, number[]> = { plain: [], why403: [] };
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order: Form[] = r % 2 ? ['why403', 'plain'] : ['plain', 'why403'];
      for (const form of order) {
        const before = cpuMicros(apps[form].pid);
        const n = await load(apps[form].origin, path);
        rate[form].push(n / seconds);
        cpu[form].push((cpuMicros(apps[form].pid) - before) / n);
      }
      ratios.push(rate.why403[r]! / rate.plain[r]!);
      cpuRatios.push(cpu.why403[r]! / cpu.plain[r]!);
    }
    const f = (x: number) => Math.round(x).toLocaleString('en');
    say(
      `| ${path} | ${f(median(rate.plain))} | ${f(median(rate.why403))} | ${median(ratios).toFixed(3)} | ${median(cpu.plain).toFixed(1)} | ${median(cpu.why403).toFixed(1)} | ${median(cpuRatios).toFixed(3)} |`,
    );
  }
  say('');
  say(
    'Target (issue 17): at most 3% fewer requests a second when nothing is denied (ratio ≥ 0.97; the CPU ratio, ' +
      'steadier on a shared machine, ≤ 1.03). Reported, not enforced.',
  );
} finally {
  apps.plain.child.kill();
  apps.why403.child.kill();
}
