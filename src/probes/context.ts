// The context probes work in: the user's request, the denied exchange, its
// passive diagnosis, and the causes that diagnosis leaves standing.
import type { Exchange, ExchangeRequest } from '../model/exchange.ts';
import type { Report } from '../model/report.ts';
import { CAUSE_IDS, type CauseId } from '../model/vocabulary.ts';
import type { ProbeContext, ProbeOptions } from './define.ts';

/** Below this, the passive diagnosis has only context to go on (a request without credentials), not evidence. */
const THIN = 0.3;

/**
 * Causes the passive diagnosis leaves standing; when it says nothing, or
 * nothing stronger than context, every one stands: probes are there to
 * separate what a thin diagnosis cannot.
 */
export function standingAfter(report: Report): CauseId[] {
  const known = report.causes.filter((c) => c.id !== 'unknown' && c.score >= 0.05);
  return known.some((c) => c.score >= THIN) ? known.map((c) => c.id) : CAUSE_IDS.filter((c) => c !== 'unknown');
}

export function probeContext(
  original: ExchangeRequest,
  first: Exchange,
  report: Report,
  options: ProbeOptions,
): ProbeContext {
  return { original, first, report, standing: standingAfter(report), options };
}
