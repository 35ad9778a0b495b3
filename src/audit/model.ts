// The audit, as data: who (identities), what (operations), what should happen
// (expectations), what did (cells), and what it means (findings). A plan is
// built from an OpenAPI document or an audit file; running it yields an
// AuditResult, which the renderers (src/render/audit.ts, junit.ts) print and
// `--baseline` compares with an earlier one. Field names of AuditResult are a
// published format (why403/audit@1): add, never rename or remove.
import type { NameValue } from '../model/exchange.ts';
import type { Gap, Report } from '../model/report.ts';

export const AUDIT_SCHEMA = 'why403/audit@1';

/** What should happen when an identity sends an operation's request. */
export type Expected = 'allow' | 'deny' | 'unknown';

/** Where an identity's scopes and roles came from. */
export type GrantsFrom = 'token' | 'declared' | 'none' | 'unknown';

/** One identity as the plan uses it: its headers hold the live credential. */
export interface AuditIdentity {
  name: string;
  /** Sent with every request of this identity; empty for an anonymous one. */
  headers: NameValue[];
  /** What the identity holds, from its token's claims or declared (--scopes, --roles, the file). */
  scopes: string[];
  roles: string[];
  /** undefined scopes/roles knowledge: `unknown` when the token is opaque and nothing was declared. */
  scopesFrom: GrantsFrom;
  rolesFrom: GrantsFrom;
  /** Where the credential came from, for the report: "--identity", "env READER_TOKEN", "command". Never the value. */
  origin: string;
}

/** The rule a 2xx or 3xx answer is read as a refusal by (the audit file's `deniedWhen`). */
export interface BodyDenial {
  /** The body contains this text (case-insensitive). */
  bodyContains?: string;
  /** The JSON body's value at this dotted path equals this. */
  json?: { path: string; equals: string | number | boolean | null };
  /** A redirect whose Location path starts with this. */
  redirectTo?: string;
}

/** Why an identity is expected to be allowed or denied: for the report and the gap. */
export interface ExpectationReason {
  expected: Expected;
  /** One line: "needs read:orders (oauth2 'auth'); reader holds read:orders". */
  why: string;
  /** The grants the operation requires, when the source names them (scopes or roles). */
  required?: string[];
}

export interface AuditOperation {
  /** Stable across runs: the operationId, or "GET /orders/{id}". */
  id: string;
  method: string;
  /** The path as the source writes it, with its {parameters}. */
  path: string;
  /** The URL sent, parameters filled in. */
  url: string;
  /** Headers every identity sends with this request (Accept, Content-Type). */
  headers: NameValue[];
  body?: { mimeType: string; text: string };
  /** By identity name. */
  expect: Record<string, ExpectationReason>;
  deniedWhen: BodyDenial[];
}

/** An operation not sent, and why. */
export interface SkippedOperation {
  id: string;
  method: string;
  path: string;
  reason: string;
}

export interface AuditPlan {
  source: { kind: 'openapi' | 'file'; name: string; title?: string };
  baseUrl: string;
  identities: AuditIdentity[];
  operations: AuditOperation[];
  skipped: SkippedOperation[];
  /** Facts about the source worth telling (a scheme the audit cannot judge, a parameter guessed). */
  notes: string[];
}

/**
 * What an answer was, read for authorization:
 * - allowed: 2xx, or a 3xx that is not a refusal;
 * - denied: 401, 403, 407;
 * - denied-by-body: a 2xx or 3xx whose body or redirect says no (a login page, {"error":"forbidden"});
 * - hidden: 404 where another identity got the resource (it exists, this identity is told it does not);
 * - not-found: 404 for every identity (a wrong path or parameter, nothing to judge);
 * - rate-limited: 429 after the waits allowed;
 * - error: another status (405, 5xx), or no answer at all;
 * - skipped: not sent (an unsafe method without --allow-unsafe).
 */
export type Verdict =
  'allowed' | 'denied' | 'denied-by-body' | 'hidden' | 'not-found' | 'rate-limited' | 'error' | 'skipped';

/**
 * - open: allowed where a deny was expected (broken access control) — fails;
 * - regression: denied (by status, body or 404) where an allow was expected — fails;
 * - hidden: a denial expected and answered 404 while another identity read the resource — a warning;
 * - denied-with-success: a denial expected and answered with a 2xx or 3xx that says no — a warning:
 *   the matrix holds, but clients, monitors and tools reading the status count it as allowed;
 * - not-found: 404 for everyone where an allow was expected — fails (the audit cannot judge);
 * - error: no answer, a 5xx or another status that is neither allow nor deny — fails.
 */
export type FindingKind = 'open' | 'regression' | 'hidden' | 'denied-with-success' | 'not-found' | 'error';

export const FAILING_KINDS: ReadonlySet<FindingKind> = new Set(['open', 'regression', 'not-found', 'error']);

export interface AuditCell {
  operation: string;
  identity: string;
  expected: Expected;
  /** null when no answer came back, or the cell was skipped. */
  status: number | null;
  verdict: Verdict;
  /** Whether what happened is what was expected; null when nothing was expected or nothing was sent. */
  holds: boolean | null;
  /** The finding this cell raised, if any (its index in AuditResult.findings). */
  finding?: number;
  ms?: number;
}

export interface AuditFinding {
  kind: FindingKind;
  severity: 'fail' | 'warn';
  operation: string;
  identity: string;
  method: string;
  /** Redacted. */
  url: string;
  status: number | null;
  expected: Expected;
  verdict: Verdict;
  /** One line a reviewer reads first. */
  summary: string;
  /** Why the expectation was what it was. */
  expectedWhy: string;
  /** What the source requires against what the identity holds, where known. */
  gap?: Gap;
  /** The full why403 diagnosis of the answer, for denials (by status or by body). */
  report?: Report;
  /** Network error text, for `error` findings without an answer. */
  error?: string;
}

/** An unsafe request that was sent (each at most once per identity), listed in every report. */
export interface UnsafeRequest {
  operation: string;
  identity: string;
  method: string;
  url: string;
  status: number | null;
}

export interface BaselineChange {
  operation: string;
  identity: string;
  before: Verdict;
  after: Verdict;
  /** newly-open: denied before, allowed now; newly-denied: allowed before, denied now; other: any other change. */
  change: 'newly-open' | 'newly-denied' | 'other';
}

export interface AuditResult {
  schema: typeof AUDIT_SCHEMA;
  source: AuditPlan['source'];
  baseUrl: string;
  /** No credential here: the scheme, where it came from, and the grants. */
  identities: {
    name: string;
    credential: string;
    origin: string;
    scopes: string[];
    roles: string[];
    scopesFrom: GrantsFrom;
    rolesFrom: GrantsFrom;
  }[];
  operations: { id: string; method: string; path: string }[];
  skipped: SkippedOperation[];
  cells: AuditCell[];
  findings: AuditFinding[];
  requests: {
    sent: number;
    budget: number;
    retries: number;
    rateLimitWaits: number;
    unsafe: UnsafeRequest[];
    /** Why sending stopped early, if it did, in words… */
    stopped?: string;
    /** …and as data: Ctrl-C, a Retry-After longer than --max-wait, requests in a row without an answer. */
    stoppedBy?: 'interrupted' | 'retry-after' | 'no-answer';
  };
  summary: {
    cells: number;
    holds: number;
    failing: number;
    warnings: number;
    unjudged: number;
    skipped: number;
  };
  notes: string[];
  /** With --baseline: what changed against the earlier run. */
  baseline?: { file: string; changes: BaselineChange[]; newlyOpen: number; newlyDenied: number };
  elapsedMs: number;
}
