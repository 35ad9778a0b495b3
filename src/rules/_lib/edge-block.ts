// What CDN and WAF block pages have in common: the request's own URL is where
// an attack pattern shows, and only the site's owner can look the block up,
// so the fixes are a hand-off (what to send the owner) and the owner's look-up.
import type { Fix } from '../../model/report.ts';
import type { Context } from '../../model/rule.ts';

/** The request URL with percent-escapes decoded (the raw URL when they do not decode). */
export function decodedRequestUrl(ctx: Context): string {
  const url = ctx.exchange.request?.url ?? '';
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

export interface HandoffStep {
  title: string;
  commands?: string[];
  verify: string;
  docs: string;
}

/** The two fixes of a block only the site owner can explain: the client's hand-off (easy), the owner's look-up (medium). */
export function ownerHandoff(client: HandoffStep, owner: HandoffStep): Fix[] {
  const fix = (step: HandoffStep, difficulty: Fix['difficulty']): Fix => ({
    title: step.title,
    difficulty,
    ...(step.commands ? { commands: step.commands } : {}),
    verify: step.verify,
    docs: step.docs,
  });
  return [fix(client, 'easy'), fix(owner, 'medium')];
}

/**
 * Under this confidence a CDN or WAF is known only by the marks it leaves on
 * everything it relays (the origin's own 403s too), not by a page of its own.
 */
export const RELAYED_ONLY = 0.5;

/** The layer of a response the CDN or WAF only relayed: the CDN's, not the WAF's that refuses. */
export function relayLayer(confidence: number): { layer?: 'cdn' } {
  return confidence < RELAYED_ONLY ? { layer: 'cdn' } : {};
}

/** For a response the CDN or WAF only relayed, notes that the refusal is the origin's and answers true. */
export function noteRelayed(confidence: number, report: { note(text: string): void }, note: string): boolean {
  if (confidence >= RELAYED_ONLY) return false;
  report.note(note);
  return true;
}
