// `npm run bench` (last part): `why403 audit` of a 500-operation OpenAPI spec
// with 50 identities (25,000 cells) against a local API (bench/audit-target.ts),
// beside a reference client sending the same 25,000 requests and keeping only
// the status (bench/audit-reference.ts); and the audit's peak RSS at 2,500
// cells (50 operations) against 25,000, which says whether memory stays flat
// as the matrix grows.
//
//   node bench/audit.ts                 # 500 × 50 and 50 × 50, concurrency 4
//   node bench/audit.ts --runs 3        # each command three times, the fastest kept
//
// Each operation /r/<n> requires scope s<n mod 20>; each identity's JWT holds
// a seeded random half of the 20 scopes; one identity sends no credential.
// Every 25th operation forgets its check, so the audit has OPEN findings to
// report. The run fails when the audit's cells or findings differ from what
// the generated data implies, counted here independently of why403.
// Nothing is written to the repository: specs, tokens and outputs go to
// bench/out/.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { rng } from './generate-har.ts';
import { best, measure, type Measured } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(import.meta.dirname, 'out');
const CLI = join(ROOT, 'dist', 'cli.js');
const SCOPES = 20;

const { values } = parseArgs({
  options: {
    operations: { type: 'string', default: '500' },
    identities: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '4' },
    runs: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write('node bench/audit.ts [--operations 500] [--identities 50] [--concurrency 4] [--runs 1]\n');
  process.exit(0);
}
const operations = Number(values.operations);
const identityCount = Number(values.identities);
const concurrency = Number(values.concurrency);
const runs = Math.max(1, Number(values.runs));
mkdirSync(OUT, { recursive: true });

function spec(n: number): object {
  const paths: Record<string, object> = {};
  for (let i = 1; i <= n; i++)
    paths[`/r/${i}`] = {
      get: {
        operationId: `get${i}`,
        security: [{ auth: [`s${i % SCOPES}`] }],
        responses: { '200': { description: 'the resource', content: { 'application/json': {} } } },
      },
    };
  const scopes = Object.fromEntries(Array.from({ length: SCOPES }, (_, i) => [`s${i}`, `scope ${i}`]));
  return {
    openapi: '3.1.0',
    info: { title: `bench ${n}`, version: '1' },
    components: {
      securitySchemes: { auth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/token', scopes } } } },
    },
    paths,
  };
}

/** Identity 0 is anonymous; the others hold a seeded random half of the scopes. */
async function identities(n: number): Promise<{ name: string; token: string | null; scopes: Set<string> }[]> {
  const random = rng(403);
  const key = new TextEncoder().encode('bench-secret-'.repeat(4));
  const out: { name: string; token: string | null; scopes: Set<string> }[] = [
    { name: 'anonymous', token: null, scopes: new Set() },
  ];
  for (let i = 1; i < n; i++) {
    const scopes = new Set(Array.from({ length: SCOPES }, (_, s) => `s${s}`).filter(() => random() < 0.5));
    const token = await new SignJWT({ scope: [...scopes].join(' '), sub: `user-${i}` })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('2h')
      .sign(key);
    out.push({ name: `id${i}`, token, scopes });
  }
  return out;
}

/** What the audit must find, counted from the generated data: an OPEN for each forgotten check an identity lacks the scope for. */
function expectedOpen(n: number, ids: { token: string | null; scopes: Set<string> }[]): number {
  let open = 0;
  for (let i = 1; i <= n; i++)
    if (i % 25 === 0) for (const id of ids) if (id.token && !id.scopes.has(`s${i % SCOPES}`)) open++;
  return open;
}

async function startTarget(): Promise<{ origin: string; stop(): void }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'audit-target.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  const { port } = JSON.parse(line) as { port: number };
  return { origin: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

interface AuditJson {
  summary: { cells: number; failing: number };
  findings: { kind: string }[];
  requests: { sent: number };
}

async function runAudit(n: number, ids: Awaited<ReturnType<typeof identities>>, origin: string) {
  const specFile = join(OUT, `audit-spec-${n}.json`);
  writeFileSync(specFile, JSON.stringify(spec(n)));
  for (const [i, id] of ids.entries()) if (id.token) process.env[`WHY403_BENCH_TOKEN_${i}`] = id.token;
  const args = [
    process.execPath,
    CLI,
    'audit',
    '--openapi',
    specFile,
    '--base-url',
    origin,
    ...ids.flatMap((id, i) => ['--identity', id.token ? `${id.name}=env:WHY403_BENCH_TOKEN_${i}` : `${id.name}=`]),
    '--concurrency',
    String(concurrency),
    '--max-requests',
    String(n * ids.length),
    '--json',
    '--quiet',
  ];
  const outFile = join(OUT, `audit-${n}.json`);
  const results: Measured[] = [];
  for (let r = 0; r < runs; r++) results.push(await measure(args, outFile));
  const m = best(results);
  if (m.exitCode !== 1) throw new Error(`why403 audit exited ${m.exitCode} (expected 1: findings)\n${m.stderr}`);
  const j = JSON.parse(readFileSync(outFile, 'utf8')) as AuditJson;
  const open = j.findings.filter((f) => f.kind === 'open').length;
  const want = expectedOpen(n, ids);
  if (
    j.summary.cells !== n * ids.length ||
    open !== want ||
    j.findings.length !== want ||
    j.requests.sent !== n * ids.length
  )
    throw new Error(
      `audit of ${n} × ${ids.length}: ${j.summary.cells} cells, ${j.requests.sent} sent, ${open} OPEN of ${j.findings.length} findings; expected ${n * ids.length} cells and ${want} OPEN, nothing else`,
    );
  return { m, open };
}

async function runReference(n: number, ids: Awaited<ReturnType<typeof identities>>, origin: string) {
  const listFile = join(OUT, `audit-requests-${n}.json`);
  writeFileSync(
    listFile,
    JSON.stringify({
      origin,
      paths: Array.from({ length: n }, (_, i) => `/r/${i + 1}`),
      tokens: ids.map((id) => id.token),
    }),
  );
  const results: Measured[] = [];
  for (let r = 0; r < runs; r++)
    results.push(
      await measure(
        [process.execPath, join(import.meta.dirname, 'audit-reference.ts'), listFile, String(concurrency)],
        join(OUT, `audit-reference-${n}.json`),
      ),
    );
  return best(results);
}

const ids = await identities(identityCount);
const target = await startTarget();
try {
  const small = Math.max(1, Math.round(operations / 10));
  const big = await runAudit(operations, ids, target.origin);
  const ref = await runReference(operations, ids, target.origin);
  const little = await runAudit(small, ids, target.origin);
  const cells = operations * ids.length;
  const say = (s: string) => process.stdout.write(s + '\n');
  say(
    `## why403 audit: ${operations} operations × ${ids.length} identities (${cells.toLocaleString('en')} cells), concurrency ${concurrency}`,
  );
  say('');
  say('| run | wall | cells/s | peak RSS |');
  say('|---|---|---|---|');
  const row = (name: string, m: Measured, n: number) =>
    say(
      `| ${name} | ${m.wallSeconds.toFixed(2)} s | ${Math.round(n / m.wallSeconds).toLocaleString('en')} | ${m.peakRssMB.toFixed(0)} MiB |`,
    );
  row(`why403 audit, ${cells.toLocaleString('en')} cells (${big.open} OPEN)`, big.m, cells);
  row(`reference: undici, status only, same ${cells.toLocaleString('en')} requests`, ref, cells);
  row(
    `why403 audit, ${(small * ids.length).toLocaleString('en')} cells (${little.open} OPEN)`,
    little.m,
    small * ids.length,
  );
  say('');
  say(`audit ÷ reference, wall time on the same requests: ${(big.m.wallSeconds / ref.wallSeconds).toFixed(2)}`);
  say(
    `peak RSS at ${cells.toLocaleString('en')} cells ÷ at ${(small * ids.length).toLocaleString('en')}: ${(big.m.peakRssMB / little.m.peakRssMB).toFixed(2)}`,
  );
} finally {
  target.stop();
}
