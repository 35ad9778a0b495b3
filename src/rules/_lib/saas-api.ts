// What the SaaS API rules (GitHub, GitLab, Stripe, Shopify, Discord, X,
// OpenAI) read the same way: a JSON object body,
// response headers quoted as evidence, and the rate limit a recognised API
// answers with a 429 or names in its own body.
import type { Context, Evidence } from '../define.ts';
import { ev } from '../define.ts';

/** The JSON body when it is an object (not an array or a scalar). */
export function jsonObject(ctx: Context): Record<string, unknown> | undefined {
  const j = ctx.body.json;
  return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
}

/** A value when it is a string. */
export const stringOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Evidence for each of these response headers the response carries with a value. */
export function headerEvidence(ctx: Context, names: readonly string[]): Evidence[] {
  return names.flatMap((name) => {
    const v = ctx.header(name);
    return v ? [ev(`header:${name}`, v)] : [];
  });
}

/**
 * The API stopped the caller for its rate limit: its own rate-limit body says
 * so on any status, or a response recognised as the API's (confidence 0.5 or
 * more) came back 429.
 */
export function rateLimited(ctx: Context, recognised: { confidence: number }, ownBody: boolean): boolean {
  return ownBody || (ctx.status === 429 && recognised.confidence >= 0.5);
}

export { epochSeconds } from './read.ts';
