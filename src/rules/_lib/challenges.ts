// WWW-Authenticate challenges, as rules look them up.
import type { Challenge, Context } from '../../model/rule.ts';

/** The first challenge of this scheme (case-insensitive), if the response sent one. */
export function challenge(ctx: Context, scheme: string): Challenge | undefined {
  const want = scheme.toLowerCase();
  return ctx.challenges.find((c) => c.scheme.toLowerCase() === want);
}

/** How a challenge reads in evidence: `Bearer realm="api", error="invalid_token"`. */
export function describeChallenge(c: Challenge): string {
  const params = Object.entries(c.params).map(([k, v]) => `${k}="${v}"`);
  return [c.scheme, [c.token68, ...params].filter(Boolean).join(', ')].filter(Boolean).join(' ');
}

/** The scheme of the request's Authorization header ("Bearer", "Basic"…), if it sent one. */
export function sentScheme(ctx: Context, header = 'authorization'): string | undefined {
  const v = ctx.requestHeader(header)?.trim();
  return v ? v.split(/\s/, 1)[0] : undefined;
}
