// Runs an audit plan: every operation as every identity, within a request
// budget, a concurrency and a rate limit, honouring 429 and Retry-After
// (the scan's pace and client, src/scan/pace.ts and fetch.ts). Methods that
// may change data are not sent unless allowed, and then each at most once
// per identity (no retry), each listed in the result. Cells are sent
// operation by operation; an operation is judged as soon as its last answer
// is in, and only its compact cells and its findings are kept, so memory
// stays flat however large the matrix (bench/audit.ts).
import { performance } from 'node:perf_hooks';
import { SAFE_METHODS } from '../probes/guard.ts';
import { UsageError } from '../errors.ts';
import { redactUrl } from '../credentials/redact.ts';
import { createClient, type ScanRequest } from '../scan/fetch.ts';
import { Pace } from '../scan/pace.ts';
import { describeStop, StopSwitch, Stopped, type ScanStop } from '../scan/stop.ts';
import { identitySecrets, shownIdentity } from './identities.ts';
import { diagnoseFinding, judgeOperation, readOnArrival, withDiagnosis, type Outcome } from './judge.ts';
import {
  AUDIT_SCHEMA,
  type AuditCell,
  type AuditFinding,
  type AuditPlan,
  type AuditResult,
  type UnsafeRequest,
} from './model.ts';

export interface AuditRunOptions {
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Requests a second, at most. */
  rate?: number;
  /** The whole of one request (default 15 s). */
  timeoutMs?: number;
  /** Extra attempts after a network error or timeout, for safe methods (default 1). */
  retries?: number;
  /** Requests sent at most, retries included; a larger plan is refused before anything is sent. */
  maxRequests?: number;
  /** A Retry-After longer than this stops the audit (default 60 s). */
  maxWaitMs?: number;
  /** Send methods other than GET, HEAD and OPTIONS, each at most once per identity. */
  allowUnsafe?: boolean;
  insecure?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Bytes of each body read (default 64 KiB): enough for an error document. */
  maxBody?: number;
  now?: Date;
  /** Called after each answer. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting ends the requests in flight; the cells not answered are errors, and the result says why. */
  signal?: AbortSignal;
}

export const DEFAULT_MAX_REQUESTS = 5000;
/** Requests in a row without an answer that stop the audit. */
const NO_ANSWER_STOP = 20;

export interface AuditBudget {
  cells: number;
  /** Requests the plan sends (cells of operations that are not skipped). */
  requests: number;
  /** Of which unsafe (sent only with allowUnsafe). */
  unsafe: number;
  /** Cells not sent: unsafe methods without allowUnsafe. */
  skippedUnsafe: number;
}

const isSafe = (method: string) => SAFE_METHODS.includes(method.toUpperCase());

/** What the plan would send: shown before anything is (and all --dry-run prints besides the plan). */
export function auditBudget(plan: AuditPlan, allowUnsafe: boolean): AuditBudget {
  const n = plan.identities.length;
  let requests = 0;
  let unsafe = 0;
  let skippedUnsafe = 0;
  for (const op of plan.operations) {
    if (isSafe(op.method)) requests += n;
    else if (allowUnsafe) {
      requests += n;
      unsafe += n;
    } else skippedUnsafe += n;
  }
  return { cells: plan.operations.length * n, requests, unsafe, skippedUnsafe };
}

class BudgetSpent extends Error {}

export async function runAudit(plan: AuditPlan, o: AuditRunOptions = {}): Promise<AuditResult> {
  const t0 = performance.now();
  const allowUnsafe = Boolean(o.allowUnsafe);
  const concurrency = o.concurrency ?? 4;
  const maxRequests = o.maxRequests ?? DEFAULT_MAX_REQUESTS;
  const budget = auditBudget(plan, allowUnsafe);
  if (budget.requests > maxRequests)
    throw new UsageError(
      `the audit would send ${budget.requests} requests, more than the budget of ${maxRequests}: ` +
        'raise --max-requests, or narrow it with --operation',
    );
  const identities = plan.identities;
  const secrets = identitySecrets(identities);

  const stops = new StopSwitch(() => client.abortAll());
  const onAbort = () => stops.stop({ kind: 'interrupted' });
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let sent = 0;
  const origin = new URL(plan.baseUrl).origin;
  const client = createClient({
    url: plan.baseUrl,
    origin,
    concurrency,
    timeoutMs: o.timeoutMs ?? 15_000,
    maxBody: o.maxBody ?? 64 * 1024,
    insecure: o.insecure,
    env: o.env,
    beforeSend: () => {
      if (sent >= maxRequests) throw new BudgetSpent(`the budget of ${maxRequests} requests is spent`);
      sent++;
    },
  });
  const pace = new Pace({ rate: o.rate, retries: o.retries ?? 1, maxWaitMs: o.maxWaitMs ?? 60_000 }, stops);
  pace.client = client;

  const cellsByOp: AuditCell[][] = new Array(plan.operations.length);
  // By operation, so that the result lists them in the plan's order whichever operation finished first.
  const findingsByOp: AuditFinding[][] = new Array(plan.operations.length);
  /** With the task's place in the plan, to list them in the plan's order. */
  const unsafeSent: (UnsafeRequest & { at: number })[] = [];
  let done = 0;

  // The queue: (operation, identity) in the plan's order; skipped operations are judged at once.
  const tasks: [number, number][] = [];
  const outcomes: Outcome[][] = plan.operations.map(() => new Array<Outcome>(identities.length));
  const left = plan.operations.map((op) => (isSafe(op.method) || allowUnsafe ? identities.length : 0));
  plan.operations.forEach((op, k) => {
    if (left[k] === 0) outcomes[k].fill({ kind: 'skipped' });
    else for (let i = 0; i < identities.length; i++) tasks.push([k, i]);
  });

  const sourceWord = plan.source.kind === 'openapi' ? 'the spec' : 'the audit file';
  const finish = async (k: number) => {
    const op = plan.operations[k];
    const judged = judgeOperation(op, identities, outcomes[k]);
    outcomes[k] = []; // the answers are judged: let them go
    const cells: AuditCell[] = [];
    const found: AuditFinding[] = [];
    for (let i = 0; i < judged.length; i++) {
      const { cell, finding } = judged[i];
      if (finding) {
        const { diagnose, ...rest } = finding;
        const identity = identities[i];
        const report = diagnose
          ? await diagnoseFinding(op, identity, diagnose, { extraSecrets: secrets, now: o.now })
          : undefined;
        cell.finding = found.length; // within the operation; made global below
        found.push(report ? withDiagnosis(rest, report, op.expect[identity.name]?.required, sourceWord) : rest);
      }
      cells.push(cell);
    }
    cellsByOp[k] = cells;
    findingsByOp[k] = found;
  };

  let next = 0;
  // Answers in a row that never came: the server is down or unreachable, and sending the rest would only wait.
  let noAnswerInARow = 0;
  const worker = async (lane: number) => {
    while (next < tasks.length && !stops.reason) {
      const [k, i] = tasks[next++];
      const op = plan.operations[k];
      const identity = identities[i];
      const once = !isSafe(op.method);
      const req: ScanRequest = {
        method: op.method,
        url: op.url,
        headers: [...op.headers, ...identity.headers],
        ...(op.body ? { body: op.body.text } : {}),
      };
      let outcome: Outcome;
      try {
        const r = await pace.send(req, () => true, 'records', undefined, lane, once);
        outcome =
          'result' in r
            ? {
                kind: 'answer',
                ms: r.result.ms,
                answer: {
                  status: r.result.status,
                  statusText: r.result.statusText,
                  headers: r.result.headers,
                  ...(r.result.body
                    ? {
                        body: { text: r.result.body.text, mimeType: r.result.body.mimeType },
                        truncated: r.result.body.truncated,
                        ...(r.result.body.encoding ? { encoding: r.result.body.encoding } : {}),
                      }
                    : {}),
                },
              }
            : { kind: 'failure', error: r.error, ms: r.ms };
        if (outcome.kind === 'answer')
          outcome = readOnArrival(outcome, op.expect[identity.name]?.expected ?? 'unknown', op.deniedWhen);
      } catch (e) {
        if (!(e instanceof Stopped)) throw e;
        outcome = { kind: 'failure', error: `not sent: ${stopText(stops.reason)}`, ms: 0 };
      }
      if (once && !(outcome.kind === 'failure' && outcome.error.startsWith('not sent')))
        unsafeSent.push({
          at: k * identities.length + i,
          operation: op.id,
          identity: identity.name,
          method: op.method,
          url: redactUrl(op.url),
          status: outcome.kind === 'answer' ? outcome.answer.status : null,
        });
      if (outcome.kind === 'failure' && !outcome.error.startsWith('not sent')) {
        if (++noAnswerInARow >= NO_ANSWER_STOP)
          stops.stop({ kind: 'no-answer', inARow: noAnswerInARow, lastError: outcome.error });
      } else noAnswerInARow = 0;
      outcomes[k][i] = outcome;
      done++;
      o.onProgress?.(done, budget.requests);
      if (--left[k] === 0) await finish(k);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, (_, lane) => worker(lane)),
    );
    // Operations never sent (skipped, or left when the audit stopped) are judged with what they have.
    for (let k = 0; k < plan.operations.length; k++)
      if (!cellsByOp[k]) {
        for (let i = 0; i < identities.length; i++)
          outcomes[k][i] ??= { kind: 'failure', error: `not sent: ${stopText(stops.reason)}`, ms: 0 };
        await finish(k);
      }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await client.close(true);
  }

  const findings: AuditFinding[] = [];
  cellsByOp.forEach((opCells, k) => {
    const offset = findings.length;
    for (const c of opCells) if (c.finding !== undefined) c.finding += offset;
    findings.push(...findingsByOp[k]!);
  });
  const cells = cellsByOp.flat();
  const failing = findings.filter((f) => f.severity === 'fail').length;
  return {
    schema: AUDIT_SCHEMA,
    source: plan.source,
    baseUrl: redactUrl(plan.baseUrl),
    identities: identities.map(shownIdentity),
    operations: plan.operations.map((op) => ({ id: op.id, method: op.method, path: op.path })),
    skipped: plan.skipped,
    cells,
    findings,
    requests: {
      sent,
      budget: maxRequests,
      retries: pace.requests.retries,
      rateLimitWaits: pace.requests.rateLimitWaits,
      unsafe: unsafeSent.sort((a, b) => a.at - b.at).map(({ at: _at, ...u }) => u),
      ...(stops.reason && stops.reason.kind !== 'source-failed'
        ? { stopped: stopText(stops.reason), stoppedBy: stops.reason.kind }
        : {}),
    },
    summary: {
      cells: cells.length,
      holds: cells.filter((c) => c.holds === true).length,
      failing,
      warnings: findings.length - failing,
      unjudged: cells.filter((c) => c.holds === null && c.verdict !== 'skipped').length,
      skipped: cells.filter((c) => c.verdict === 'skipped').length,
    },
    notes: [
      ...plan.notes,
      ...(budget.skippedUnsafe
        ? [
            `${budget.skippedUnsafe} cells of methods that may change data (POST, PUT, PATCH, DELETE…) were not sent: ` +
              'add --allow-unsafe to send each once per identity',
          ]
        : []),
    ],
    elapsedMs: Math.round(performance.now() - t0),
  };
}

/** Why the audit stopped, in its own words (a scan counts records, an audit requests). */
function stopText(s: ScanStop | undefined): string {
  if (!s) return 'the audit stopped';
  if (s.kind === 'no-answer')
    return `${s.inARow} requests in a row got no answer (last: ${s.lastError}); is the server up?`;
  return describeStop(s);
}
