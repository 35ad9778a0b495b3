// How a rule is written. A rule is one unit of knowledge: a product it
// recognises (defineProducer) or a cause it can argue for whatever the product
// (defineCause). It declares what it may conclude — causes, messages, the
// statuses it explains, the products it gives way to — and the helpers here do
// the rest once: the producer claim, the status gate, summaries from message
// ids. TypeScript checks that every claimed cause is declared and every
// message id exists; the rule tester checks that every placeholder is filled.
//
// Modelled on typescript-eslint's createRule and ESLint's `meta.messages`.
import type { CredentialObservation } from '../model/credential.ts';
import type { Evidence, Fix, Gap } from '../model/report.ts';
import type { CauseClaim, Context, FixTemplate, ProducerClaim, Rule, RuleOutput } from '../model/rule.ts';
import type { CauseId, Layer, Product } from '../model/vocabulary.ts';
import { isDenial } from '../engine/status.ts';
import { asRelayedHop } from './_lib/relayed-hop.ts';
import { formatFix, formatMessage, type MessageData } from '../model/template.ts';

export type {
  Body,
  CauseClaim,
  Challenge,
  Context,
  FixTemplate,
  ProducerClaim,
  Rule,
  RuleMeta,
  RuleOutput,
} from '../model/rule.ts';
export type { Evidence, Fix, Gap } from '../model/report.ts';
export { elementText, epochSeconds, jsonAt, jsonString } from './_lib/read.ts';

/** Shorthand for an evidence line. */
export const ev = (source: string, text: string, weight?: number): Evidence =>
  weight === undefined ? { source, text } : { source, text, weight };

/** What a producer rule found: how sure it is, why, and anything it read on the way for `explain` to reuse. */
export interface Recognition {
  confidence: number;
  evidence: Evidence[];
  /** When the product answers from another layer than the rule's usual one (a CDN's own origin errors). */
  layer?: Layer;
}

/** Values for a message's `{{name}}` placeholders. */
export type { MessageData } from '../model/template.ts';
export { formatFix, formatMessage } from '../model/template.ts';

export interface ClaimDetails<F extends string = never> {
  /** Values for the placeholders of the message and of the declared fixes. */
  data?: MessageData;
  evidence?: Evidence[];
  /** Declared fixes by id (filled from `data`), or fixes the rule computed. */
  fixes?: readonly (F | Fix)[];
  gap?: Gap;
  /** A base rate, not evidence: it counts only for a cause something else supports (CauseClaim.prior). */
  prior?: boolean;
}

/** Collects a rule's claims; `claim` takes only declared causes, message ids and fix ids. */
export interface Reporter<C extends CauseId, M extends string, F extends string = never> {
  claim(cause: C, message: M, weight: number, details?: ClaimDetails<F>): void;
  note(text: string): void;
}

/** A cause rule may also recognise a producer (a problem type URI that names one). */
export interface CauseReporter<C extends CauseId, M extends string, F extends string = never> extends Reporter<
  C,
  M,
  F
> {
  producer(claim: ProducerClaim): void;
}

interface CommonMeta<C extends CauseId, M extends string, F extends string> {
  /** Kebab-case; equals the rule's folder name. */
  id: string;
  description: string;
  /** Public pages the rule's knowledge comes from. */
  docs: readonly string[];
  /** Every cause the rule may conclude. */
  causes: readonly C[];
  /** Cause summaries by message id, with `{{name}}` placeholders. */
  messages: Readonly<Record<M, string>>;
  /** Fixes by id, claimed by id; their strings may hold placeholders too. */
  fixes?: Readonly<Record<F, FixTemplate>>;
  /**
   * The statuses the rule explains (default: every denial, 401, 403 and 407);
   * 'any' for a rule that reads its product's own pages whatever the status
   * (a proxy's 503 is its own, and saying it is no denial is the rule's job).
   */
  statuses?: readonly number[] | 'any';
}

export interface ProducerSpec<R extends Recognition, C extends CauseId, M extends string, F extends string> {
  meta: CommonMeta<C, M, F> & {
    product: Product;
    layer: Layer;
    /** Products whose rules outrank this one when both recognise a response. */
    yieldsTo?: readonly Product[];
    /**
     * A hop (proxy, CDN, web server) that relays other servers' answers:
     * recognised by its relay marks alone, in front of an application's JSON,
     * it steps below the layer guess (src/rules/_lib/relayed-hop.ts).
     */
    relays?: boolean;
  };
  /**
   * Recognises the product, once per exchange: undefined or confidence 0 when
   * the response is not this product's. The result is the producer claim's
   * confidence and evidence, and is handed to `explain`.
   */
  recognise(ctx: Context): R | undefined;
  /** Claims causes; runs only for a recognised response whose status the rule explains. */
  explain?(ctx: Context, recognised: R, report: Reporter<C, M, F>): void;
  /**
   * A note for a response the rule does not recognise as its product's own
   * but that its product only passed on (a proxy's Via beside the origin's
   * answer): what the reader should know about that hop, or nothing.
   */
  relayed?(ctx: Context): string | undefined;
}

export interface CauseSpec<C extends CauseId, M extends string, F extends string> {
  meta: CommonMeta<C, M, F>;
  /** A cheap gate checked before `explain`. */
  applies?(ctx: Context): boolean;
  /** See RuleMeta.fallback: claims that count only where no product's rule explained the denial. */
  fallback?: boolean;
  /** The cause (one of `meta.causes`) and weight a credential observation speaks for; see Rule.judge. */
  judge?(observation: CredentialObservation): { cause: C; weight: number } | undefined;
  explain(ctx: Context, report: CauseReporter<C, M, F>): void;
}

const DIFFICULTIES = new Set(['easy', 'medium', 'hard']);

/** Checks a rule's declared fixes once, when it is defined: a typo in a difficulty fails at import. */
function checkFixes(id: string, fixes: Readonly<Record<string, FixTemplate>> | undefined): void {
  for (const [key, fix] of Object.entries(fixes ?? {}))
    if (!DIFFICULTIES.has(fix.difficulty))
      throw new Error(`rule ${id}: fix "${key}" has difficulty "${fix.difficulty}"; expected easy, medium or hard`);
}

function collector<C extends CauseId, M extends string, F extends string>(
  messages: Readonly<Record<M, string>>,
  fixes: Readonly<Record<F, FixTemplate>> | undefined,
) {
  const causes: CauseClaim[] = [];
  const notes: string[] = [];
  const reporter: Reporter<C, M, F> = {
    claim(cause, message, weight, details = {}) {
      const fixList = (details.fixes ?? []).map((f) =>
        typeof f === 'string' ? formatFix(fixes![f as F], details.data) : f,
      );
      causes.push({
        id: cause,
        weight,
        summary: formatMessage(messages[message], details.data),
        evidence: details.evidence ?? [],
        ...(details.gap ? { gap: details.gap } : {}),
        ...(fixList.length ? { fixes: fixList } : {}),
        ...(details.prior ? { prior: true } : {}),
        message,
      });
    },
    note(text) {
      notes.push(text);
    },
  };
  return { causes, notes, reporter };
}

function explains(statuses: readonly number[] | 'any' | undefined, status: number): boolean {
  if (statuses === 'any') return true;
  return statuses ? statuses.includes(status) : isDenial(status);
}

function output(producer: ProducerClaim | undefined, causes: CauseClaim[], notes: string[]): RuleOutput | undefined {
  if (!producer && !causes.length && !notes.length) return undefined;
  return {
    ...(producer ? { producer } : {}),
    ...(causes.length ? { causes } : {}),
    ...(notes.length ? { notes } : {}),
  };
}

export function defineProducer<
  R extends Recognition,
  const C extends CauseId,
  const M extends string,
  const F extends string = never,
>(spec: ProducerSpec<R, C, M, F>): Rule {
  const { meta } = spec;
  checkFixes(meta.id, meta.fixes);
  return {
    meta: { ...meta, kind: 'producer' },
    run(ctx) {
      const recognised = meta.relays ? asRelayedHop(ctx, spec.recognise(ctx)) : spec.recognise(ctx);
      if (!recognised || recognised.confidence <= 0) {
        const note = spec.relayed?.(ctx);
        return note ? { notes: [note] } : undefined;
      }
      const producer: ProducerClaim = {
        product: meta.product,
        layer: recognised.layer ?? meta.layer,
        confidence: recognised.confidence,
        evidence: recognised.evidence,
      };
      const { causes, notes, reporter } = collector<C, M, F>(meta.messages, meta.fixes);
      if (spec.explain && explains(meta.statuses, ctx.status)) spec.explain(ctx, recognised, reporter);
      return output(producer, causes, notes);
    },
  };
}

export function defineCause<const C extends CauseId, const M extends string, const F extends string = never>(
  spec: CauseSpec<C, M, F>,
): Rule {
  const { meta } = spec;
  checkFixes(meta.id, meta.fixes);
  return {
    meta: { ...meta, kind: 'cause', ...(spec.fallback ? { fallback: true } : {}) },
    ...(spec.judge ? { judge: spec.judge } : {}),
    run(ctx) {
      if (!explains(meta.statuses, ctx.status)) return undefined;
      if (spec.applies && !spec.applies(ctx)) return undefined;
      let producer: ProducerClaim | undefined;
      const { causes, notes, reporter } = collector<C, M, F>(meta.messages, meta.fixes);
      spec.explain(ctx, { ...reporter, producer: (claim) => void (producer = claim) });
      return output(producer, causes, notes);
    },
  };
}

/**
 * The strongest of several signals, with the evidence of all of them: how
 * producer rules add up headers, hosts and body markers into a recognition.
 */
export class Signals {
  confidence = 0;
  evidence: Evidence[] = [];

  /** Counts a signal of this strength, with its evidence. */
  add(confidence: number, evidence: Evidence): this {
    this.confidence = Math.max(this.confidence, confidence);
    this.evidence.push(evidence);
    return this;
  }

  /**
   * Counts each named response header that has a value (an empty header is no
   * sign of the product), quoted as `shown` renders it.
   */
  headers(ctx: Context, confidence: number, names: readonly string[], shown = (v: string) => v): this {
    for (const name of names) {
      const v = ctx.header(name);
      if (v) this.add(confidence, ev(`header:${name}`, shown(v)));
    }
    return this;
  }

  /** The recognition, with what else the rule read on the way. */
  result<X extends object>(extra?: X): Recognition & X {
    return { confidence: this.confidence, evidence: this.evidence, ...(extra as X) };
  }
}

export const signals = (): Signals => new Signals();
