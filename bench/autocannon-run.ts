// One autocannon run for `bench/scan.ts`, in its own process so that it can
// be pinned to a CPU like the scan it is compared with. Every request goes to
// a new path, /items/1, /items/2, …, as the scan's do (one record each), so
// the server does the same work for both clients.
//
//   node bench/autocannon-run.ts URL_BASE CONNECTIONS SECONDS
//
// Prints one JSON line: completed requests, the measured duration, and the
// answers by status.
import { createRequire } from 'node:module';

interface AutocannonRequest {
  path?: string;
  setupRequest?: (req: { path: string }) => { path: string };
}
interface AutocannonResult {
  requests: { total: number; sent: number };
  duration: number;
  start: Date;
  finish: Date;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  requests: AutocannonRequest[];
}) => Promise<AutocannonResult>;

// autocannon is CommonJS without type declarations.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const [base, connectionsArg, secondsArg] = process.argv.slice(2);
const connections = Number(connectionsArg);
const seconds = Number(secondsArg);
if (!base || !(connections >= 1) || !(seconds > 0)) {
  process.stderr.write('usage: node bench/autocannon-run.ts URL_BASE CONNECTIONS SECONDS\n');
  process.exit(2);
}

let next = 0;
const cpu0 = process.cpuUsage();
const result = await autocannon({
  url: base,
  connections,
  pipelining: 1,
  duration: seconds,
  requests: [
    {
      setupRequest(req) {
        req.path = `/items/${++next}`;
        return req;
      },
    },
  ],
});
const cpu = process.cpuUsage(cpu0);
const byStatus: Record<string, number> = {};
for (const [status, s] of Object.entries(result.statusCodeStats)) byStatus[status] = s.count;
process.stdout.write(
  JSON.stringify({
    total: result.requests.total,
    durationMs: result.finish.getTime() - result.start.getTime(),
    errors: result.errors,
    timeouts: result.timeouts,
    byStatus,
    cpuMs: (cpu.user + cpu.system) / 1000,
  }) + '\n',
);
