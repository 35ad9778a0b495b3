// A proxy, CDN or web server in front of an application marks every response
// it relays (Server, Via, CF-RAY, x-envoy-*, X-Cache…), the application's own
// errors too. Those marks alone say the response passed through it; an
// application's JSON behind them says who wrote the answer. A producer rule
// that declares `relays: true` (defineProducer applies this) keeps its product
// on record with the marks as evidence, but below the layer guess generic-http
// makes from the body, so the application stays the producer (product
// unknown, layer application).
import type { Context } from '../../model/rule.ts';
import type { Recognition } from '../define.ts';
import { RELAYED_ONLY } from './edge-block.ts';

/** Below every layer guess of generic-http (0.2 and up): the hop is evidence, not the producer. */
export const RELAYED_HOP = 0.1;

/** A JSON document as the body: an application's or an API's own answer, which hops relay but do not write. */
export function applicationBody(ctx: Context): boolean {
  const j = ctx.body.json;
  return j !== null && typeof j === 'object';
}

/**
 * A recognition from a hop's marks only (under RELAYED_ONLY), in front of an
 * application's own JSON: lowered to RELAYED_HOP, with the body as evidence.
 * A recognition from the product's own page or reply is returned unchanged.
 */
export function asRelayedHop<R extends Recognition>(ctx: Context, recognised: R): R;
export function asRelayedHop<R extends Recognition>(ctx: Context, recognised: R | undefined): R | undefined;
export function asRelayedHop<R extends Recognition>(ctx: Context, recognised: R | undefined): R | undefined {
  if (!recognised || recognised.confidence <= 0 || recognised.confidence >= RELAYED_ONLY) return recognised;
  if (!applicationBody(ctx)) return recognised;
  return {
    ...recognised,
    confidence: RELAYED_HOP,
    evidence: [
      ...recognised.evidence,
      { source: 'body', text: 'a JSON error: the application’s own answer, which this hop only relayed' },
    ],
  };
}
