// The report, exactly as ../shared/design.md section 3 fixes it. Field names
// are stable: add, never rename or remove.
import type { CauseId, Difficulty, Layer, Likelihood, Product } from './vocabulary.ts';
import type { CredentialReport } from './credential.ts';
import type { Trace } from './exchange.ts';

export const REPORT_SCHEMA = 'why403/report@1';

export interface Evidence {
  /** Where it came from: "header:server", "body:Error.Code", "claim:exp", "trace:proxy", "status". */
  source: string;
  text: string;
  /** Contribution to the cause's score; negative when it argues against. */
  weight?: number;
}

export interface Fix {
  title: string;
  difficulty: Difficulty;
  commands?: string[];
  /** What to check afterwards to confirm it worked. */
  verify?: string;
  docs?: string;
}

export interface Gap {
  required: string[];
  held: string[];
}

export interface Cause {
  id: CauseId;
  likelihood: Likelihood;
  score: number;
  summary: string;
  evidence: Evidence[];
  gap?: Gap;
  fixes: Fix[];
}

export interface DeniedBy {
  layer: Layer;
  product: Product;
  confidence: number;
  evidence: Evidence[];
  /**
   * True when this is a guess: no rule recognised a product (product
   * "unknown"), or the product was read from a format others share and
   * nothing only it sends was seen (confidence below 0.5).
   */
  guessed?: boolean;
}

export interface ProbeResult {
  name: string;
  /** The status the probe request got; null when none came back. */
  status: number | null;
  /** One line: what this outcome proves. */
  meaning: string;
  /** The request sent: what was removed from or swapped into the user's request. */
  request?: { method: string; url: string; removed?: string[]; added?: string[] };
  /** Hypotheses this outcome confirmed, and those it ruled out. */
  confirms?: CauseId[];
  rulesOut?: CauseId[];
  /** Not sent: the same request was already sent by this probe, whose answer was read again. */
  reused?: string;
}

/** How probing went: the budget, what was sent, what was skipped and why. */
export interface Probing {
  budget: number;
  sent: number;
  /** Why probing stopped early (rate limit, Retry-After, budget), if it did. */
  stopped?: string;
  skipped: { name: string; reason: string }[];
}

/** How the outcome reads to a person: denial, or something else named for what it is. */
export type Outcome =
  | 'denied'
  | 'unauthenticated'
  | 'allowed'
  | 'redirect'
  | 'not-found'
  | 'method-not-allowed'
  | 'rate-limited'
  | 'client-error'
  | 'server-error';

export interface ThinEvidence {
  summary: string;
  steps: Fix[];
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  request: { method: string; url: string };
  status: number;
  statusText?: string;
  outcome: Outcome;
  /** One or two sentences: what this status means here, 401 vs 403 in plain words. */
  headline: string;
  /** Said when the status disagrees with the diagnosis (a 403 that should be 401, or the reverse). */
  statusMismatch?: string;
  /** When the evidence cannot settle the cause: why, and the one or two steps that would separate what remains. */
  thin?: ThinEvidence;
  deniedBy?: DeniedBy;
  causes: Cause[];
  credential: CredentialReport;
  probes: ProbeResult[];
  probing?: Probing;
  trace?: Trace;
  notes: string[];
  source: { kind: string; name: string; index?: number };
}
