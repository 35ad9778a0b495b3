// The engine: runs the rules it is given on one exchange's context, applies
// their declared precedence and merges what they claim into a ranked report.
// It knows no vendor and loads no rules; all knowledge is in the rules.
import type { Exchange } from '../model/exchange.ts';
import type { Cause, DeniedBy, Evidence, Fix, Probing, ProbeResult, Report, ThinEvidence } from '../model/report.ts';
import { NEXT_STEP, NOTHING_KNOWN_STEPS } from '../model/next-steps.ts';
import { formatFix } from '../model/template.ts';
import { REPORT_SCHEMA } from '../model/report.ts';
import { isAuthenticationCause, isPermissionCause, type CauseId, type Likelihood } from '../model/vocabulary.ts';
import type { CauseClaim, Context, ProducerClaim, Rule, RuleOutput } from '../model/rule.ts';
import { observeExchangeCredentials } from '../credentials/index.ts';
import { buildContext } from './context.ts';
import { judgeCredential } from './credential.ts';
import { headlineOf, isDenial, outcomeOf } from './status.ts';
import { redactUrl, scrub, secretsOf } from './scrub.ts';

export interface DiagnoseOptions {
  now?: Date;
  showSecrets?: boolean;
  /** Probe requests sent by `check`, with what each outcome proved. */
  probes?: ProbeResult[];
  /** The probes' evidence, merged with the rules' claims. */
  probeClaims?: CauseClaim[];
  probing?: Probing;
  /** Secrets the exchange does not show (a second identity, a fresh token) to redact as well. */
  extraSecrets?: string[];
}

export function likelihoodOf(score: number): Likelihood {
  return score >= 0.7 ? 'high' : score >= 0.4 ? 'medium' : 'low';
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Positive weights combine as a noisy-OR; negative ones scale the result down. */
export function combineWeights(weights: number[]): number {
  let miss = 1;
  let damp = 1;
  for (const w of weights) {
    if (w >= 0) miss *= 1 - Math.min(w, 0.99);
    else damp *= 1 + Math.max(w, -1);
  }
  return Math.max(0, Math.min(1, (1 - miss) * damp));
}

/** How many causes may share the top score. */
const MAX_LEVEL = 3;
/** With no evidence at all, the base rates name this many causes, each from this prior weight up. */
const PRIOR_ONLY_SHOWN = 3;
const PRIOR_ONLY_FROM = 0.01;

function mergeCauses(claims: CauseClaim[]): { causes: Cause[]; priorsOnly: boolean } {
  const byId = new Map<CauseId, CauseClaim[]>();
  for (const c of claims) {
    const list = byId.get(c.id) ?? [];
    list.push(c);
    byId.set(c.id, list);
  }
  const ranked: { exact: number; cause: Cause }[] = [];
  const supported = (list: CauseClaim[]) => list.some((c) => !c.prior && c.weight > 0);
  // A base rate orders causes the evidence supports; it never raises one by
  // itself — unless nothing supports any cause, when the few causes that most
  // often answer a denial in this context are the best there is to say.
  const priorsOnly = ![...byId.values()].some(supported);
  const eligible = priorsOnly
    ? new Set(
        [...byId]
          .map(([id, list]) => ({ id, exact: combineWeights(list.map((c) => c.weight)) }))
          .filter((x) => x.exact >= PRIOR_ONLY_FROM)
          .sort((a, b) => b.exact - a.exact || a.id.localeCompare(b.id))
          .slice(0, PRIOR_ONLY_SHOWN)
          .map((x) => x.id),
      )
    : undefined;
  for (const [id, list] of byId) {
    if (eligible ? !eligible.has(id) : !supported(list)) continue;
    const exact = combineWeights(list.map((c) => c.weight));
    const score = round(exact);
    if (score < (eligible ? 0.01 : 0.05)) continue;
    const strongest = [...list].sort(
      (a, b) => Number(a.prior ?? false) - Number(b.prior ?? false) || b.weight - a.weight,
    )[0];
    const evidence: Evidence[] = [];
    const seenEvidence = new Set<string>();
    // Evidence first, base rates last.
    for (const c of [...list.filter((x) => !x.prior), ...list.filter((x) => x.prior)])
      for (const e of c.evidence) {
        const key = `${e.source}\u0000${e.text}`;
        if (seenEvidence.has(key)) continue;
        seenEvidence.add(key);
        evidence.push(e.weight === undefined ? { ...e, weight: round(c.weight) } : e);
      }
    const fixes: Fix[] = [];
    const seenFix = new Set<string>();
    for (const c of [...list].sort((a, b) => b.weight - a.weight))
      for (const f of c.fixes ?? []) {
        if (seenFix.has(f.title)) continue;
        seenFix.add(f.title);
        fixes.push(f);
      }
    const order = { easy: 0, medium: 1, hard: 2 } as const;
    fixes.sort((a, b) => order[a.difficulty] - order[b.difficulty]);
    const gap = list.find((c) => c.gap)?.gap;
    ranked.push({
      exact,
      cause: {
        id,
        likelihood: likelihoodOf(score),
        score,
        summary: strongest.summary,
        evidence,
        ...(gap ? { gap } : {}),
        fixes,
      },
    });
  }
  // Ranked by the unrounded score, in which the base rates separate what the
  // evidence leaves level; the alphabet decides only what nothing separates.
  ranked.sort((a, b) => b.exact - a.exact || a.cause.id.localeCompare(b.cause.id));
  const causes = ranked.map((r) => r.cause);
  // No more than three causes share the top score: past the third, a cause
  // the evidence leaves level is shown one step lower, where the base rates put it.
  const top = causes[0]?.score;
  causes.forEach((c, i) => {
    if (i >= MAX_LEVEL && c.score === top) {
      c.score = round(top - 0.01);
      c.likelihood = likelihoodOf(c.score);
    }
  });
  return { causes, priorsOnly: priorsOnly && causes.length > 0 };
}

/** The confidence from which a product counts as recognised rather than guessed. */
const PROVEN = 0.5;

function pickProducer(claims: ProducerClaim[]): DeniedBy | undefined {
  if (!claims.length) return undefined;
  const best = [...claims].sort((a, b) => b.confidence - a.confidence)[0];
  return {
    layer: best.layer,
    product: best.product,
    confidence: round(best.confidence),
    evidence: best.evidence,
    // Below PROVEN a product is a reading of a format others share too (S3's XML, a registry's JSON): a guess.
    ...(best.product === 'unknown' || best.confidence < PROVEN ? { guessed: true } : {}),
  };
}

function statusMismatch(status: number, causes: Cause[]): string | undefined {
  const top = causes[0];
  if (!top || top.score < 0.4) return undefined;
  if (status === 403 && isAuthenticationCause(top.id))
    return `This 403 should have been a 401: the likeliest cause (${top.id}) means the server could not establish who you are, which HTTP signals with 401. Treat it as an authentication problem, not a missing permission.`;
  if (status === 401 && isPermissionCause(top.id))
    return `This 401 is really a permission problem: the likeliest cause (${top.id}) means the server knew who you are but that identity may not do this, which HTTP signals with 403. Re-authenticating will not help; a grant is needed.`;
  return undefined;
}

/** "a", "a and b", "a, b and c". */
const listed = (items: string[]) =>
  items.length > 2 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : items.join(' and ');

/** Below this the likeliest cause rests on weak signs; within NEAR of the top, causes are not told apart. */
const THIN_BELOW = 0.4;
const NEAR = 0.05;

/**
 * Says so when the evidence cannot settle the cause — nothing points anywhere,
 * the likeliest cause rests on weak signs, or several are level — with the
 * one or two steps that would separate what remains.
 */
function thinEvidence(causes: Cause[], priorsOnly: boolean, values: Record<string, string>): ThinEvidence | undefined {
  const top = causes[0];
  if (!top || top.id === 'unknown' || priorsOnly)
    return {
      summary: priorsOnly
        ? `Nothing in the response or the request points to a cause; ${listed(causes.map((c) => c.id))} ${causes.length > 1 ? 'are the causes that most often answer' : 'is the cause that most often answers'} a denial like this one, no more.`
        : 'Nothing in the response or the request points to a cause.',
      steps: NOTHING_KNOWN_STEPS.map((f) => formatFix(f, values)),
    };
  const level = causes.filter((c) => c.id !== 'unknown' && top.score - c.score <= NEAR);
  if (top.score >= THIN_BELOW && level.length < 2) return undefined;
  const open = level.length >= 2 ? level : causes.filter((c) => c.id !== 'unknown').slice(0, 2);
  const steps: Fix[] = [];
  for (const c of open) {
    const step = NEXT_STEP[c.id as Exclude<CauseId, 'unknown'>];
    if (step && !steps.some((s) => s.title === step.title)) steps.push(formatFix(step, values));
  }
  const ids = open.map((c) => c.id);
  const named = listed(ids.length > 4 ? [...ids.slice(0, 3), `${ids.length - 3} more`] : ids);
  return {
    summary:
      level.length >= 2
        ? `The evidence does not tell ${named} apart: their scores are within ${NEAR} of ${top.score.toFixed(2)}.`
        : `The evidence is thin: the likeliest cause, ${top.id}, rests on weak signs (${top.score.toFixed(2)}).`,
    steps: steps.slice(0, 2),
  };
}

/** A claim this strong from a rule that is not a fallback sets the fallbacks' claims aside. */
const FALLBACK_OUTRANKED_AT = 0.5;

/**
 * Runs every rule on the context and applies precedence: a rule whose
 * `yieldsTo` names a product another rule recognised steps aside, with all it
 * claimed. Which producer wins is declared by the rules, not tuned by
 * confidence; among the rest the engine picks the most confident.
 */
export function runRules(rules: readonly Rule[], ctx: Context): RuleOutput[] {
  const outputs: { rule: Rule; out: RuleOutput }[] = [];
  for (const rule of rules) {
    const out = rule.run(ctx);
    if (out) outputs.push({ rule, out });
  }
  const recognised = new Set<string>(
    outputs.flatMap(({ out }) => (out.producer && out.producer.product !== 'unknown' ? [out.producer.product] : [])),
  );
  const kept = outputs.filter(
    ({ rule, out }) => !rule.meta.yieldsTo?.some((p) => p !== out.producer?.product && recognised.has(p)),
  );
  // A product's rule that explained the denial, or any rule sure of a cause,
  // knows better than a fallback reading of the words.
  const explained = kept.some(
    ({ rule, out }) =>
      !rule.meta.fallback &&
      ((out.producer && out.producer.product !== 'unknown' && out.causes?.length) ||
        out.causes?.some((c) => c.weight >= FALLBACK_OUTRANKED_AT)),
  );
  return kept.map(({ rule, out }) => (explained && rule.meta.fallback ? { ...out, causes: [] } : out));
}

/** Diagnoses an exchange with the given rules (synchronous; for hot loops). */
export function diagnoseWith(rules: readonly Rule[], exchange: Exchange, opts: DiagnoseOptions = {}): Report {
  const credential = judgeCredential(
    rules,
    observeExchangeCredentials(exchange, { now: opts.now, showSecrets: opts.showSecrets }),
  );
  const ctx = buildContext(exchange, credential);
  const status = exchange.response.status;
  const producers: ProducerClaim[] = [];
  const claims: CauseClaim[] = [];
  const notes: string[] = [...(exchange.notes ?? [])];
  const denial = isDenial(status);
  for (const out of runRules(rules, ctx)) {
    if (out.producer) producers.push(out.producer);
    if (denial && out.causes) claims.push(...out.causes);
    if (out.notes) notes.push(...out.notes);
  }
  if (denial && opts.probeClaims) claims.push(...opts.probeClaims);
  const merged = denial ? mergeCauses(claims) : { causes: [], priorsOnly: false };
  let causes = merged.causes;
  if (denial && !causes.length)
    causes = [
      {
        id: 'unknown',
        likelihood: 'low',
        score: 0,
        summary:
          'Nothing in the response, the credential or the trace points to a cause. Run `why403 check` against the live endpoint, or look at the server’s logs for this request.',
        evidence: [],
        fixes: [],
      },
    ];
  const deniedBy = denial ? pickProducer(producers) : undefined;
  const mismatch = denial ? statusMismatch(status, causes) : undefined;
  const url = exchange.request?.url ?? 'URL';
  const values = { url: opts.showSecrets ? url : redactUrl(url), method: ctx.method, path: ctx.url?.pathname ?? '/' };
  // Every cause has a "What now": a rule's fixes, or else the step that confirms or rules it out.
  for (const c of causes) if (!c.fixes.length && c.id !== 'unknown') c.fixes = [formatFix(NEXT_STEP[c.id], values)];
  const thin = denial ? thinEvidence(causes, merged.priorsOnly, values) : undefined;
  // Key order follows design.md section 3; the fields after `probes` are additions.
  const report: Report = {
    schema: REPORT_SCHEMA,
    request: { method: ctx.method, url: exchange.request?.url ?? '' },
    status,
    ...(deniedBy ? { deniedBy } : {}),
    causes,
    credential,
    probes: opts.probes ?? [],
    ...(opts.probing ? { probing: opts.probing } : {}),
    ...(exchange.response.statusText ? { statusText: exchange.response.statusText } : {}),
    outcome: outcomeOf(status),
    headline: headlineOf(status, exchange.response.statusText),
    ...(mismatch ? { statusMismatch: mismatch } : {}),
    ...(thin ? { thin } : {}),
    ...(exchange.trace ? { trace: exchange.trace } : {}),
    notes: [...new Set(notes)],
    source: { ...exchange.source },
  };
  if (opts.showSecrets) return report;
  report.request.url = redactUrl(report.request.url);
  return scrub(
    report,
    [...secretsOf(exchange), ...(opts.extraSecrets ?? []).filter((s) => s.length >= 6)].sort(
      (a, b) => b.length - a.length,
    ),
  );
}
