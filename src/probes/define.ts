// Differential probes: the same request varied one safe way at a time, each
// outcome compared with the original denial. A probe kind is a small module
// like a rule: the hypotheses it separates, when it applies, and how it reads
// what came back. It never sends anything itself: it asks `send`, which
// enforces design.md section 4 (only remove, or swap in what the user gave;
// no forged source address; no unsafe method without opt-in; a budget;
// stop at the first rate-limit sign) and records every request.
import type { Exchange, ExchangeRequest, NameValue } from '../model/exchange.ts';
import type { ProbeResult, Report } from '../model/report.ts';
import type { CauseId } from '../model/vocabulary.ts';
import type { CauseClaim } from '../model/rule.ts';

/** A second identity the user named: the header that carries it. */
export interface Identity {
  /** How it is named in the report: "--as", "--as-env ALLOWED_TOKEN", "--as-cmd". */
  label: string;
  header: NameValue;
}

export interface ProbeOptions {
  /** Most probe requests sent in this run (default 12). */
  budget: number;
  /** The user allowed methods other than GET, HEAD, OPTIONS to be replayed. */
  allowUnsafe: boolean;
  /** Second identities to try (--as, --as-env, --as-cmd). */
  identities: Identity[];
  /** Prints a fresh credential (--token-cmd); run only when expiry or revocation is a hypothesis. */
  tokenCmd?: string;
  /** Origin for the CORS preflight when the request carries none (--origin). */
  origin?: string;
  env: NodeJS.ProcessEnv;
}

export interface ProbeContext {
  /** The request exactly as the user gave it. */
  original: ExchangeRequest;
  /** The exchange that was denied. */
  first: Exchange;
  /** The passive diagnosis of it. */
  report: Report;
  /** Causes still standing (passive score >= 0.05), highest first. */
  standing: CauseId[];
  options: ProbeOptions;
  /**
   * Runs --token-cmd (once) and returns what it printed, trimmed; the safety
   * guard then accepts that value as the user's own. Undefined without --token-cmd.
   */
  freshCredential?: () => Promise<string>;
}

/** One request a probe wants sent, with what it changed against the original. */
export interface ProbeRequest {
  request: ExchangeRequest;
  /** Header, cookie or query parameter names removed ("header:Authorization", "cookie:sid", "query:key"). */
  removed: string[];
  /** Names added or swapped in ("header:Authorization (as --as)", "header:Origin"). */
  added: string[];
  /** Send it without the configured proxy (the proxy probe's direct comparison). */
  direct?: boolean;
}

/** Sends one probe request; undefined when the budget is spent or probing stopped (rate limit). */
export type Send = (probe: string, req: ProbeRequest) => Promise<Exchange | undefined>;

export interface ProbeFinding {
  result: ProbeResult;
  /** Evidence for and against causes, merged with the rules' by the engine. */
  claims: CauseClaim[];
}

export interface ProbeKind {
  name: string;
  /** Hypotheses it can separate; planned only when one of them is standing. */
  separates: CauseId[];
  /** Lower runs first: cheap and decisive before costly. */
  order: number;
  /** Most requests it may send. */
  maxRequests: number;
  /** Why it does not apply here (a string), or true. */
  applies(ctx: ProbeContext): true | string;
  /** The first request(s) it would send, for --dry-run. */
  plan(ctx: ProbeContext): ProbeRequest[];
  run(ctx: ProbeContext, send: Send): Promise<ProbeFinding[]>;
}

export const defineProbe = (p: ProbeKind): ProbeKind => p;
