// Proxy-Authenticate challenges (RFC 9110 section 11.7.1) are written like
// WWW-Authenticate's, but the Context parses only the latter (ctx.challenges).
// Until it offers the proxy's too, this reads them with the engine's parser,
// so that rules need not import the engine themselves.
import type { Challenge, Context } from '../define.ts';
import { parseWwwAuthenticate } from '../../engine/www-authenticate.ts';

/** The challenges of the response's Proxy-Authenticate headers, in order. */
export function proxyChallenges(ctx: Context): Challenge[] {
  return parseWwwAuthenticate(ctx.headers('proxy-authenticate'));
}
