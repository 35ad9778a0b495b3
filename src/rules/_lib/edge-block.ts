// What CDN and WAF block pages have in common: the request's own URL is where
// an attack pattern shows, and only the site's owner can look the block up,
// so the fixes are a hand-off (what to send the owner) and the owner's look-up;
// each rule declares both in its texts.json (easy for the client, medium for the owner).
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
