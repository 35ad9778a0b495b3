// A rule is one unit of knowledge: a product it recognises, or a cause it can
// argue for, with the evidence it reads and what it concludes. Rules are pure:
// (Context) => RuleOutput. The engine merges their outputs and knows no vendor.
import type { Context } from '../engine/context.ts';
import type { Evidence, Fix, Gap } from '../model/report.ts';
import type { CauseId, Layer, Product } from '../model/vocabulary.ts';

export interface RuleMeta {
  /** Kebab-case; equals the rule's folder name. */
  id: string;
  kind: 'producer' | 'cause';
  /** For producer rules: what they recognise. */
  product?: Product;
  layer?: Layer;
  description: string;
  /** Public pages the rule's knowledge comes from. */
  docs: string[];
  /** Every cause the rule may conclude. The tester rejects any other. */
  causes: CauseId[];
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
}

export interface RuleOutput {
  producer?: ProducerClaim;
  causes?: CauseClaim[];
  /** Plain notes for the reader (e.g. "this is S3's 403 for a missing key"). */
  notes?: string[];
}

export interface Rule {
  meta: RuleMeta;
  /** Cheap gate (a header, a status) checked before `run`. */
  applies?: (ctx: Context) => boolean;
  run: (ctx: Context) => RuleOutput | undefined;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}

/** Shorthand for an evidence line. */
export const ev = (source: string, text: string, weight?: number): Evidence =>
  weight === undefined ? { source, text } : { source, text, weight };
