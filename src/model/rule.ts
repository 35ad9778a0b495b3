// The contract between the rules and the engine. A rule reads one exchange's
// Context and returns what it claims; the engine runs a list of rules it is
// given, applies their declared precedence and merges the claims. Authoring
// helpers (defineProducer, defineCause) live in src/rules/define.ts; these are
// the shapes both sides agree on.
import type { Exchange } from './exchange.ts';
import type { CredentialObservation, CredentialReport, CredentialVerdict } from './credential.ts';
import type { Evidence, Fix, Gap } from './report.ts';
import type { CauseId, Layer, Product } from './vocabulary.ts';

/** One WWW-Authenticate challenge (RFC 9110 section 11.6.1). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

export interface Body {
  /**
   * The body as rules read it: its first BODY_VIEW_CHARS characters. The
   * exchange (`ctx.exchange`) keeps the whole body.
   */
  text: string;
  /** True when `text` is a prefix of a longer body. */
  truncated?: boolean;
  contentType: string;
  json?: unknown;
  /** Leaf elements of an XML body by dotted path: { "Error.Code": "AccessDenied" }. */
  xml?: Record<string, string>;
  /** <title> of an HTML body, whitespace collapsed. */
  htmlTitle?: string;
  /** First <h1> of an HTML body. */
  htmlH1?: string;
}

/** One of the denial's own texts, with where it was read ("body:error.message", "header:x-error", "body:title"). */
export interface WordsLine {
  source: string;
  text: string;
}

/** A member that names permissions, scopes or roles ("required_permission", "X-Accepted-OAuth-Scopes"). */
export interface WordsField {
  /** Where it was read: "error.required_scopes", "header:x-accepted-oauth-scopes". */
  path: string;
  /** The member's own name, as the response spells it. */
  key: string;
  value: string[];
}

/** What the response says in words, in any body shape (src/engine/words.ts). */
export interface DenialWords {
  lines: WordsLine[];
  fields: WordsField[];
}

/** Everything a rule may read about one exchange, computed once by the engine. */
export interface Context {
  exchange: Exchange;
  status: number;
  method: string;
  url?: URL;
  /** Response header (all values joined), case-insensitive. */
  header(name: string): string | undefined;
  headers(name: string): string[];
  /** Request header, case-insensitive. */
  requestHeader(name: string): string | undefined;
  body: Body;
  /** WWW-Authenticate challenges, in order. */
  challenges: Challenge[];
  /** Proxy-Authenticate challenges (a 407's), in order. */
  proxyChallenges: Challenge[];
  credential: CredentialReport;
  /** The denial's own words and the members naming what it required; read on first use. */
  readonly words: DenialWords;
}

/**
 * A fix as a rule declares it in `meta.fixes` (usually from its texts.json):
 * every string may hold `{{name}}` placeholders, filled from the claim's data.
 */
export interface FixTemplate {
  title: string;
  /** easy, medium or hard; checked when the rule is defined. */
  difficulty: string;
  commands?: readonly string[];
  verify?: string;
  docs?: string;
}

export interface RuleMeta {
  /** Kebab-case; equals the rule's folder name. */
  id: string;
  kind: 'producer' | 'cause';
  /** For producer rules: what they recognise. */
  product?: Product;
  layer?: Layer;
  description: string;
  /** Public pages the rule's knowledge comes from. */
  docs: readonly string[];
  /** Every cause the rule may conclude. */
  causes: readonly CauseId[];
  /**
   * Products that outrank this rule on a response both recognise: when a rule
   * for one of them recognises the response, this rule's whole output is set
   * aside (Envoy gives way to Istio, whose sidecars are Envoy).
   */
  yieldsTo?: readonly Product[];
  /**
   * A cause rule that reads any response (the denial's words): its claims
   * stand aside when a rule that recognised a product explained the denial,
   * or another rule claims a cause with 0.5 or more, since those know what
   * the response means better than a reading of its words.
   */
  fallback?: boolean;
  /** The statuses the rule explains (default: every denial; 'any' for every status). */
  statuses?: readonly number[] | 'any';
  /** Cause summaries by message id; `{{name}}` placeholders are filled from a claim's data. */
  messages?: Readonly<Record<string, string>>;
  /** Fixes by id, claimed by id; their strings may hold placeholders too. */
  fixes?: Readonly<Record<string, FixTemplate>>;
}

export interface ProducerClaim {
  product: Product;
  layer: Layer;
  /** 0..1: how sure the rule is that this product produced the response. */
  confidence: number;
  evidence: Evidence[];
}

export interface CauseClaim {
  id: CauseId;
  /** 0..1 for support, negative to argue against; combined by the engine. */
  weight: number;
  summary: string;
  evidence: Evidence[];
  gap?: Gap;
  fixes?: Fix[];
  /** The rule message the summary came from, for tests and docs. */
  message?: string;
  /**
   * A base rate (how often this cause answers such a denial), not evidence:
   * it adds to a cause that other claims support and never raises one alone.
   */
  prior?: boolean;
}

export interface RuleOutput {
  producer?: ProducerClaim;
  causes?: CauseClaim[];
  /** Plain notes for the reader (e.g. "this is S3's 403 for a missing key"). */
  notes?: string[];
}

/** What the engine runs: built by defineProducer or defineCause. */
export interface Rule {
  meta: RuleMeta;
  run: (ctx: Context) => RuleOutput | undefined;
  /**
   * What a credential observation (an expired window, a header in the wrong
   * shape) means: its cause and weight, one of the rule's declared causes.
   * The engine asks before it runs any rule, so every rule reads the judged
   * findings in `ctx.credential`.
   */
  judge?: (observation: CredentialObservation) => CredentialVerdict | undefined;
}
