// The context probes work in: the user's request, the denied exchange, its
// passive diagnosis, and the causes that diagnosis leaves standing.
import type { Exchange, ExchangeRequest } from '../model/exchange.ts';
import type { Report } from '../model/report.ts';
import { CAUSE_IDS, type CauseId } from '../model/vocabulary.ts';
import type { ProbeContext, ProbeOptions } from './define.ts';

/** Causes the passive diagnosis leaves standing; when it says nothing, every one stands. */
export function standingAfter(report: Report): CauseId[] {
  const known = report.causes.filter((c) => c.id !== 'unknown' && c.score >= 0.05).map((c) => c.id);
  return known.length ? known : CAUSE_IDS.filter((c) => c !== 'unknown');
}

export function probeContext(
  original: ExchangeRequest,
  first: Exchange,
  report: Report,
  options: ProbeOptions,
): ProbeContext {
  return { original, first, report, standing: standingAfter(report), options };
}
