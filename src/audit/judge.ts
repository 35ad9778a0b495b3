// One operation's answers, judged together: a 404 is "hidden" only when
// another identity read the same resource, so an operation is judged once
// every identity has its answer. Each cell is compared with its expectation;
// what does not hold becomes a finding, and every denial among the findings
// gets why403's full diagnosis (cause, gap, fixes).
import { diagnose } from '../diagnose.ts';
import { redactUrl } from '../credentials/redact.ts';
import type { Exchange } from '../model/exchange.ts';
import type { Gap, Report } from '../model/report.ts';
import { classify, type Answer, type Reading } from './classify.ts';
import type {
  AuditCell,
  AuditFinding,
  AuditIdentity,
  AuditOperation,
  Expected,
  FindingKind,
  Verdict,
} from './model.ts';
import { FAILING_KINDS } from './model.ts';

/** What came back for one identity: an answer, no answer (a network error), or nothing sent. */
export type Outcome =
  | {
      kind: 'answer';
      answer: Answer & { statusText: string; truncated?: boolean; encoding?: string };
      ms: number;
      /** Read on arrival: then `answer` may keep only its status (see `slim`). */
      reading?: Reading;
    }
  | { kind: 'failure'; error: string; ms: number }
  | { kind: 'skipped' };

const DENY_LIKE: ReadonlySet<Verdict> = new Set(['denied', 'denied-by-body', 'hidden']);

interface Judged {
  cell: AuditCell;
  finding?: Omit<AuditFinding, 'report'> & { diagnose?: { answer: Outcome & { kind: 'answer' }; readAs?: string } };
}

export function judgeOperation(
  op: AuditOperation,
  identities: readonly AuditIdentity[],
  outcomes: readonly Outcome[],
): Judged[] {
  const readings = outcomes.map((o) =>
    o.kind === 'answer'
      ? (o.reading ?? classify(o.answer, op.deniedWhen))
      : o.kind === 'failure'
        ? { verdict: 'error' as const }
        : undefined,
  );
  // Who read it: a 404 to another identity then hides a resource that exists.
  const readers = identities.filter((_, i) => readings[i]?.verdict === 'allowed').map((i) => i.name);
  return identities.map((identity, i) => {
    const outcome = outcomes[i];
    const expectation = op.expect[identity.name] ?? { expected: 'unknown' as Expected, why: 'no expectation given' };
    const expected = expectation.expected;
    const base = { operation: op.id, identity: identity.name, expected };
    if (outcome.kind === 'skipped')
      return { cell: { ...base, status: null, verdict: 'skipped', holds: null } satisfies AuditCell };
    const reading = readings[i]!;
    let verdict: Verdict = reading.verdict;
    if (verdict === 'not-found' && readers.length) verdict = 'hidden';
    const status = outcome.kind === 'answer' ? outcome.answer.status : null;
    const cell: AuditCell = { ...base, status, verdict, holds: null, ms: Math.round(outcome.ms) };
    if (expected === 'unknown') return { cell };

    const kind = findingKind(expected, verdict);
    cell.holds = kind === undefined || !FAILING_KINDS.has(kind);
    if (!kind) return { cell };
    const required = expectation.required;
    const gap: Gap | undefined = required?.length ? { required, held: grantsHeld(identity, required) } : undefined;
    const draft: Judged['finding'] = {
      kind,
      severity: FAILING_KINDS.has(kind) ? 'fail' : 'warn',
      operation: op.id,
      identity: identity.name,
      method: op.method,
      url: redactUrl(op.url),
      status,
      expected,
      verdict,
      summary: summaryOf(kind, identity.name, op, status, reading.why, readers),
      expectedWhy: expectation.why,
      ...(gap ? { gap } : {}),
      ...(outcome.kind === 'failure' ? { error: outcome.error } : {}),
    };
    if (outcome.kind === 'answer' && DENY_LIKE.has(verdict))
      draft.diagnose = {
        answer: outcome,
        ...(verdict === 'denied-by-body'
          ? { readAs: `answered ${status} but refused: ${reading.why}` }
          : verdict === 'hidden'
            ? { readAs: `answered 404 while ${readers.join(', ')} read the same URL` }
            : {}),
      };
    return { cell, finding: draft };
  });
}

function findingKind(expected: 'allow' | 'deny', verdict: Verdict): FindingKind | undefined {
  if (verdict === 'rate-limited' || verdict === 'error') return 'error';
  if (expected === 'allow') {
    if (verdict === 'allowed') return undefined;
    if (verdict === 'not-found') return 'not-found';
    return 'regression';
  }
  switch (verdict) {
    case 'allowed':
      return 'open';
    case 'denied-by-body':
      return 'denied-with-success';
    case 'hidden':
      return 'hidden';
    default:
      // denied; or 404 for everyone, which is no access either
      return undefined;
  }
}

/**
 * What the identity holds of the kind the requirement names: its roles when
 * the requirement names one of them and none of its scopes, or when it holds
 * roles but no scopes; otherwise its scopes.
 */
function grantsHeld(identity: AuditIdentity, required: string[]): string[] {
  const namesRole = required.some((r) => identity.roles.includes(r));
  const namesScope = required.some((r) => identity.scopes.includes(r));
  if (namesRole && !namesScope) return identity.roles;
  return identity.scopes.length || !identity.roles.length ? identity.scopes : identity.roles;
}

function summaryOf(
  kind: FindingKind,
  who: string,
  op: AuditOperation,
  status: number | null,
  why: string | undefined,
  readers: string[],
): string {
  const what = `${op.method} ${op.path}`;
  switch (kind) {
    case 'open':
      return `${who} was allowed (${status}) to ${what}, which it should not reach: broken access control`;
    case 'regression':
      return status !== null && status >= 200 && status < 400
        ? `${who} was refused ${what} in a ${status} answer (${why}), though it should be allowed`
        : status === 404
          ? `${who} got 404 on ${what} while ${readers.join(', ')} read it, though it should be allowed`
          : `${who} was denied (${status}) ${what}, though it should be allowed`;
    case 'hidden':
      return `${who} got 404 on ${what} while ${readers.join(', ')} read it: the API hides the resource (a denial, not an allow)`;
    case 'denied-with-success':
      return `${who} was refused ${what} as expected, but with ${status} (${why}): clients and monitors reading the status count it as allowed`;
    case 'not-found':
      return `every identity got ${status} on ${what}: the URL names nothing (check the path parameters, --param)`;
    case 'error':
      return status === null
        ? `${who} got no answer to ${what}`
        : status === 429
          ? `${who} was still rate-limited (429) on ${what} after the waits allowed`
          : `${who} got ${status} on ${what}, neither an allow nor a denial`;
  }
}

/**
 * The diagnosis of a denial. A refusal in a 2xx or 3xx body, or a hiding
 * 404, is diagnosed as the 403 it stands for (the rules read denials), and
 * the report keeps the status the server really sent, saying why it was read
 * as a refusal.
 */
export async function diagnoseFinding(
  op: AuditOperation,
  identity: AuditIdentity,
  d: { answer: Outcome & { kind: 'answer' }; readAs?: string },
  o: { extraSecrets: string[]; now?: Date },
): Promise<Report> {
  const a = d.answer.answer;
  const exchange: Exchange = {
    request: {
      method: op.method,
      url: op.url,
      headers: [...op.headers, ...identity.headers],
      ...(op.body ? { postData: { mimeType: op.body.mimeType, text: op.body.text } } : {}),
    },
    response: {
      status: d.readAs ? 403 : a.status,
      statusText: d.readAs ? 'Forbidden' : a.statusText,
      headers: a.headers,
      content: {
        mimeType: a.body?.mimeType,
        text: a.body?.text ?? '',
        ...(a.truncated ? { truncated: true } : {}),
        ...(a.encoding ? { encoding: a.encoding } : {}),
      },
    },
    source: { kind: 'live', name: redactUrl(op.url) },
  };
  const report = await diagnose(exchange, { extraSecrets: o.extraSecrets, now: o.now });
  if (!d.readAs) return report;
  return {
    ...report,
    status: a.status,
    statusText: a.statusText,
    outcome: 'denied',
    statusMismatch: `The server ${d.readAs}; diagnosed as the denial it is.`,
  };
}

/**
 * An answer read on arrival, with only what judging it can still need. An
 * operation waits for every identity's answer before it is judged; its
 * answers' headers and bodies are kept meanwhile only where a diagnosis may
 * follow (a denial where an allow was expected, a refusal in a body, a 404
 * that may turn out to hide), so that the rest is garbage while still young.
 */
export function readOnArrival(
  outcome: Outcome & { kind: 'answer' },
  expected: Expected,
  deniedWhen: AuditOperation['deniedWhen'],
): Outcome {
  const reading = classify(outcome.answer, deniedWhen);
  const v = reading.verdict;
  const mayBeDiagnosed = v === 'not-found' || v === 'denied-by-body' || (v === 'denied' && expected !== 'deny');
  if (mayBeDiagnosed) return { ...outcome, reading };
  const { status, statusText } = outcome.answer;
  return { kind: 'answer', answer: { status, statusText, headers: [] }, ms: outcome.ms, reading };
}

/**
 * A regression's gap is what the server demanded, when its diagnosis names
 * it (the scope in an insufficient_scope challenge): that is what the
 * identity lacks. When the source required something else, which the identity
 * holds, the API and its source disagree, and the summary says so.
 */
export function withDiagnosis(
  finding: Omit<AuditFinding, 'report'>,
  report: Report,
  specRequired: string[] | undefined,
  /** What required it: "the spec", "the audit file". */
  source: string,
): AuditFinding {
  const out: AuditFinding = { ...finding, report };
  if (finding.kind !== 'regression') return out;
  const demanded = report.causes[0]?.gap;
  if (!demanded?.required.length) return out;
  out.gap = demanded;
  const required = specRequired ?? [];
  const differs = demanded.required.some((r) => !required.includes(r));
  if (required.length && differs)
    out.summary += `: the API demands ${demanded.required.join(', ')} where ${source} requires ${required.join(', ')}`;
  return out;
}
