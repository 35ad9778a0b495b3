// The reference `bench/audit.ts` measures `why403 audit` against: the same
// requests (every operation's URL with every identity's token), sent with
// undici at the same concurrency, each body read and only the status kept —
// what a status-only authorization tester does, and the floor of what any
// client pays for these requests. Reads the request list (JSON: {origin,
// paths, tokens}) from argv[2]; prints {"requests":N,"byStatus":{…}}.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const [file, concurrencyArg] = process.argv.slice(2);
const { origin, paths, tokens } = JSON.parse(readFileSync(file, 'utf8')) as {
  origin: string;
  paths: string[];
  tokens: (string | null)[];
};
const concurrency = Number(concurrencyArg ?? 4);
const pool = new Pool(origin, { connections: concurrency });
const byStatus: Record<number, number> = {};
let next = 0;
const total = paths.length * tokens.length;
async function worker(): Promise<void> {
  while (next < total) {
    const k = next++;
    const path = paths[Math.floor(k / tokens.length)];
    const token = tokens[k % tokens.length];
    const res = await pool.request({
      method: 'GET',
      path,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    await res.body.text();
    byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
await pool.close();
process.stdout.write(JSON.stringify({ requests: total, byStatus }) + '\n');
