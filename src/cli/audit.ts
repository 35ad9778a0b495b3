import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { InputError, UsageError } from '../errors.ts';
import { redactUrl } from '../credentials/redact.ts';
import type { AuditPlan, AuditResult } from '../audit/model.ts';
import { parseGrantsArg, parseIdentityArg, resolveIdentities, type IdentitySpec } from '../audit/identities.ts';
import { identitySpecs, planFromFile, readAuditFile } from '../audit/file.ts';
import { parseOpenApi, planFromOpenApi, readSpecText } from '../audit/openapi.ts';
import { auditBudget, DEFAULT_MAX_REQUESTS, runAudit, type AuditBudget } from '../audit/run.ts';
import { compareWithBaseline, readBaseline } from '../audit/baseline.ts';
import { renderAuditMarkdown, renderAuditTerminal } from '../render/audit.ts';
import { renderJunit } from '../render/junit.ts';
import { styleFor } from '../render/text.ts';
import { parseRate, positiveInt, seconds } from '../scan/settings.ts';
import type { Io } from './io.ts';
import { commandArgs, printHelp } from './args.ts';
import { exitCode } from './exit-code.ts';
import { formatFrom } from './output.ts';

const HELP = `Usage:
  why403 audit --openapi FILE|URL --base-url URL --identity 'NAME=…'… [options]
  why403 audit --file AUDIT.yaml [--identity 'NAME=…']… [options]

Sends each request of an authorization matrix as each identity and compares
what happened with what should have: an identity allowed where it should be
denied is broken access control (OPEN), one denied where it should be allowed
is a REGRESSION, explained with the full diagnosis (cause, the scope or role
it lacked, fixes). A 2xx or 3xx whose body or redirect says no counts as a
denial, never as an allow; a 404 to one identity on a resource another could
read is called out as hiding.

What to audit:
  --openapi FILE|URL     an OpenAPI 3 document (JSON or YAML): each operation's
                         security requirements against what each identity holds
                         predict allow or deny
  --base-url URL         where the API is (default: the spec's first absolute
                         server, or the audit file's baseUrl)
  --param NAME=VALUE     a path or query parameter's value (default: the spec's
                         examples); repeatable
  --file AUDIT.yaml      identities, requests and who may send each (schema:
                         schema/audit.schema.json in the package)
  --operation ID         only this operation (operationId, request name, or
                         'GET /path'); repeatable
Identities (repeatable; credentials are never printed or written):
  --identity 'NAME=Header: value'    the header to send
  --identity NAME=env:VARIABLE       a token or 'Header: value' from the environment
  --identity 'NAME=cmd:COMMAND'      … printed by a command
  --identity NAME=                   no credential (anonymous)
  --scopes NAME=a,b      the scopes NAME holds (default: its JWT's scope, scp or
                         permissions claim)
  --roles NAME=a,b       the roles NAME holds (default: its JWT's roles, groups…)
Safety and pace:
  --allow-unsafe         also send POST, PUT, PATCH, DELETE…: each at most once
                         per identity, never retried, every one listed
  --dry-run              print the plan and the budget; send nothing
  --max-requests N       refuse a plan larger than this (default ${DEFAULT_MAX_REQUESTS})
  --concurrency N        requests in flight at once (default 4)
  --rate N/s | N/m       at most this many requests (default: no limit)
  --timeout SECONDS      the whole of one request (default 15)
  --retries N            extra attempts after a network error, safe methods
                         only (default 1)
  --max-wait SECONDS     a Retry-After longer than this stops the audit
                         (default 60); 429 and Retry-After are always honoured
  --insecure             do not verify TLS certificates
Output:
  --json                 the result as JSON (why403/audit@1)
  --markdown             a table and the findings, for a pull request
  --junit FILE           also write JUnit XML: one test case per cell
  --baseline FILE        an earlier --json result: report only what changed
  --quiet                no plan line on standard error

Exit codes:
  0    the matrix holds (with --baseline: nothing newly open or newly denied)
  1    an unexpected cell: OPEN, REGRESSION, 404 for everyone, an error
       (with --baseline: a cell newly open or newly denied)
  2    usage or input error
  3    the audit stopped: 20 requests in a row got no answer
  75   the audit stopped: the server asked to wait longer than --max-wait
  130  interrupted (Ctrl-C)
`;

const PROGRESS_EVERY_MS = 10_000;

export async function auditCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = commandArgs(argv, {
    openapi: { type: 'string' },
    file: { type: 'string' },
    'base-url': { type: 'string' },
    param: { type: 'string', multiple: true },
    operation: { type: 'string', multiple: true },
    identity: { type: 'string', multiple: true },
    scopes: { type: 'string', multiple: true },
    roles: { type: 'string', multiple: true },
    'allow-unsafe': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'max-requests': { type: 'string' },
    concurrency: { type: 'string' },
    rate: { type: 'string' },
    timeout: { type: 'string' },
    retries: { type: 'string' },
    'max-wait': { type: 'string' },
    insecure: { type: 'boolean' },
    json: { type: 'boolean' },
    markdown: { type: 'boolean' },
    junit: { type: 'string' },
    baseline: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (values.help) return printHelp(io, HELP);
  if (positionals.length)
    throw new UsageError(
      `unexpected argument "${positionals[0]}" (give the spec with --openapi, or --file AUDIT.yaml)`,
    );
  if (Boolean(values.openapi) === Boolean(values.file))
    throw new UsageError('give what to audit: --openapi FILE|URL or --file AUDIT.yaml (one of them)');
  const format = formatFrom(values);
  const baseUrl = values['base-url'];
  if (baseUrl !== undefined && !/^https?:\/\/[^/]/i.test(baseUrl))
    throw new UsageError(`--base-url "${baseUrl.slice(0, 60)}": expected an http(s) URL, e.g. http://127.0.0.1:3000`);
  const run = {
    maxRequests: positiveInt(values['max-requests'], '--max-requests', DEFAULT_MAX_REQUESTS),
    concurrency: positiveInt(values.concurrency, '--concurrency', 4),
    rate: values.rate === undefined ? undefined : parseRate(values.rate),
    timeoutMs: seconds(values.timeout, '--timeout', 15) * 1000,
    retries: positiveInt(values.retries, '--retries', 1, 0),
    maxWaitMs: seconds(values['max-wait'], '--max-wait', 60) * 1000,
  };
  if (run.concurrency > 256) throw new UsageError(`--concurrency ${run.concurrency}: at most 256`);
  const declared = {
    scopes: new Map((values.scopes ?? []).map((a) => parseGrantsArg(a, '--scopes')).map((g) => [g.name, g.grants])),
    roles: new Map((values.roles ?? []).map((a) => parseGrantsArg(a, '--roles')).map((g) => [g.name, g.grants])),
  };
  if (values.junit !== undefined) checkJunitFile(values.junit);
  const fromArgs = (values.identity ?? []).map(parseIdentityArg);
  const dryRun = Boolean(values['dry-run']);

  let plan: AuditPlan;
  if (values.file) {
    const file = await readAuditFile(values.file);
    // An --identity replaces the file's identity of the same name (another credential for it), or adds one.
    const specs: IdentitySpec[] = identitySpecs(file).map((s) => fromArgs.find((a) => a.name === s.name) ?? s);
    for (const a of fromArgs) if (!specs.some((s) => s.name === a.name)) specs.push(a);
    const identities = await resolveIdentities(specs, declared, io.env, !dryRun);
    plan = planFromFile(file, { name: values.file, baseUrl, identities });
  } else {
    if (!fromArgs.length)
      throw new UsageError("--openapi needs at least one --identity 'NAME=Header: value' (or NAME= for no credential)");
    const params: Record<string, string> = {};
    for (const p of values.param ?? []) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new UsageError(`--param "${p.slice(0, 30)}": expected NAME=VALUE`);
      params[p.slice(0, eq)] = p.slice(eq + 1);
    }
    const identities = await resolveIdentities(fromArgs, declared, io.env, !dryRun);
    const doc = parseOpenApi(await readSpecText(values.openapi!), values.openapi!);
    plan = planFromOpenApi(doc, { name: values.openapi!, baseUrl, params, identities });
  }
  if (values.operation?.length) plan = onlyOperations(plan, values.operation);
  if (!plan.operations.length)
    throw new UsageError(
      `${plan.source.name}: no operation to audit${plan.skipped.length ? ` (${plan.skipped.length} skipped: ${plan.skipped[0].reason})` : ''}`,
    );

  // Read before anything is said or sent: a bad baseline is the user's input error, found first.
  const baseline = values.baseline && !dryRun ? await readBaseline(values.baseline) : undefined;
  const allowUnsafe = Boolean(values['allow-unsafe']);
  const budget = auditBudget(plan, allowUnsafe);
  const over =
    budget.requests > run.maxRequests
      ? `the audit would send ${budget.requests} requests, more than the budget of ${run.maxRequests}: ` +
        'raise --max-requests, or narrow it with --operation'
      : undefined;
  if (dryRun) {
    io.stderr.write(budgetLine(plan, budget, run) + '\n' + (over ? `audit: ${over}\n` : ''));
    io.stdout.write(renderPlan(plan, allowUnsafe));
    return exitCode({ kind: 'done' });
  }
  if (over) throw new UsageError(over);
  if (!values.quiet) io.stderr.write(budgetLine(plan, budget, run) + '\n');

  setFlagsFromString('--semi-space-growth-factor=1');
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(exitCode({ kind: 'audit', failing: 0, stop: { kind: 'interrupted', signal: sig } }));
    interrupted = true;
    io.stderr.write(`\naudit: ${sig}: stopping; the requests in flight are ended\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: AuditResult;
  try {
    // A long audit (a --rate, a slow API) says how far it is every PROGRESS_EVERY_MS on standard error.
    let lastSaid = Date.now();
    const onProgress = values.quiet
      ? undefined
      : (done: number, total: number) => {
          if (Date.now() - lastSaid < PROGRESS_EVERY_MS) return;
          lastSaid = Date.now();
          io.stderr.write(`audit: ${done} of ${total} requests answered\n`);
        };
    result = await runAudit(plan, {
      ...run,
      allowUnsafe,
      insecure: values.insecure,
      env: io.env,
      signal: controller.signal,
      ...(onProgress ? { onProgress } : {}),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (baseline) {
    const changes = compareWithBaseline(baseline, result);
    result.baseline = {
      file: values.baseline!,
      changes,
      newlyOpen: changes.filter((c) => c.change === 'newly-open').length,
      newlyDenied: changes.filter((c) => c.change === 'newly-denied').length,
    };
  }
  if (values.junit)
    await writeFile(values.junit, renderJunit(result)).catch((e: NodeJS.ErrnoException) => {
      throw new InputError(values.junit!, `cannot be written (${e.code ?? e.message})`, { cause: e });
    });
  const width = Math.min(io.stdout.columns ?? 80, 160);
  io.stdout.write(
    format === 'json'
      ? JSON.stringify(result, null, 2) + '\n'
      : format === 'markdown'
        ? renderAuditMarkdown(result)
        : renderAuditTerminal(result, { width, style: styleFor(io.stdout, io.env) }),
  );
  if (result.requests.stopped) io.stderr.write(`audit: stopped: ${result.requests.stopped}\n`);
  return exitCode({
    kind: 'audit',
    failing: result.summary.failing,
    ...(result.baseline
      ? { baseline: { newlyOpen: result.baseline.newlyOpen, newlyDenied: result.baseline.newlyDenied } }
      : {}),
    ...(result.requests.stoppedBy ? { stop: { kind: result.requests.stoppedBy } } : {}),
  });
}

/** --junit: its folder must exist before any request is sent, not only when the report is written. */
function checkJunitFile(file: string): void {
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`--junit ${file}: the folder ${dir} does not exist`);
  if (existsSync(file) && statSync(file).isDirectory())
    throw new UsageError(`--junit ${file}: is a folder; give a file name, e.g. ${join(file, 'audit.xml')}`);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** --operation: by id, by request name, or by 'METHOD path'. */
function onlyOperations(plan: AuditPlan, wanted: string[]): AuditPlan {
  const matches = (op: AuditPlan['operations'][number], w: string) =>
    op.id === w || `${op.method} ${op.path}`.toLowerCase() === w.toLowerCase();
  for (const w of wanted)
    if (!plan.operations.some((op) => matches(op, w)))
      throw new UsageError(
        `--operation ${w}: no such operation in ${plan.source.name} (e.g. ${plan.operations
          .slice(0, 3)
          .map((op) => op.id)
          .join(', ')})`,
      );
  return { ...plan, operations: plan.operations.filter((op) => wanted.some((w) => matches(op, w))) };
}

function budgetLine(
  plan: AuditPlan,
  b: AuditBudget,
  run: { maxRequests: number; concurrency: number; rate?: number },
): string {
  const parts = [
    `audit: ${plural(plan.operations.length, 'operation')} × ${plural(plan.identities.length, 'identity', 'identities')} = ${b.cells} cells`,
    `${b.requests} requests to send${b.unsafe ? ` (${b.unsafe} unsafe, each once)` : ''}`,
  ];
  if (b.skippedUnsafe) parts.push(`${b.skippedUnsafe} unsafe not sent (--allow-unsafe)`);
  parts.push(
    `at most ${run.concurrency} at once, ${run.rate ? `${Number(run.rate.toFixed(2))}/s` : 'no rate limit'}, ` +
      `budget ${run.maxRequests} (--max-requests)`,
  );
  return parts.join('; ');
}

/** --dry-run: each request that would be sent, with each identity's expectation and why. */
function renderPlan(plan: AuditPlan, allowUnsafe: boolean): string {
  const lines = [
    `${plan.source.kind === 'openapi' ? 'OpenAPI' : 'audit file'} ${plan.source.name} → ${redactUrl(plan.baseUrl)}`,
  ];
  for (const i of plan.identities)
    lines.push(
      `  identity ${i.name}: ${i.headers.length ? `${i.headers.map((h) => h.name).join(', ')} (${i.origin})` : 'no credential'}; ` +
        `scopes ${i.scopesFrom === 'unknown' ? 'unknown' : i.scopes.join(' ') || 'none'}, roles ${i.rolesFrom === 'unknown' ? 'unknown' : i.roles.join(' ') || 'none'}`,
    );
  for (const op of plan.operations) {
    const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(op.method);
    lines.push(
      `${op.method} ${redactUrl(op.url)}  [${op.id}]${unsafe && !allowUnsafe ? '  (not sent: --allow-unsafe)' : ''}`,
    );
    for (const i of plan.identities) {
      const e = op.expect[i.name];
      lines.push(`  ${i.name}: ${e?.expected ?? 'unknown'} — ${e?.why ?? 'no expectation'}`);
    }
  }
  for (const s of plan.skipped) lines.push(`skipped ${s.method} ${s.path} [${s.id}]: ${s.reason}`);
  for (const n of plan.notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}
