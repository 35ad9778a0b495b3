// HTTP Basic as servers and proxies that are not nginx-like report it: the
// challenge may come in WWW-Authenticate or, from a proxy, Proxy-Authenticate,
// may name no realm, and any credential of another scheme counts as the wrong
// one whether or not a Basic challenge came back. (Rules that answer like
// nginx use basic-auth.ts's claimBasicAuth instead.)
import { ev, type Context, type Evidence, type Fix } from '../define.ts';

const BASIC = /^\s*basic\b(?:.*?realm="([^"]*)")?/i;

export interface BasicChallenge {
  found: boolean;
  /** The realm the challenge named, if it named one. */
  realm?: string;
  /** The challenge as evidence: `Basic realm="…"`, `Basic`, or "no Basic challenge". */
  evidence: Evidence;
}

/** The response's Basic challenge, in Proxy-Authenticate when `proxy` (a 407). */
export function basicChallenge(ctx: Context, proxy = false): BasicChallenge {
  const header = proxy ? 'proxy-authenticate' : 'www-authenticate';
  const m = ctx
    .headers(header)
    .map((c) => BASIC.exec(c))
    .find(Boolean);
  const realm = m?.[1];
  const text = m ? `Basic${realm !== undefined ? ` realm="${realm}"` : ''}` : 'no Basic challenge';
  return { found: Boolean(m), ...(realm !== undefined ? { realm } : {}), evidence: ev(`header:${header}`, text) };
}

export interface SentCredential {
  /** Basic credentials, a credential of another scheme, or none. */
  kind: 'basic' | 'other' | 'none';
  /** The scheme of an `other` credential ("Bearer"). */
  scheme?: string;
  evidence: Evidence;
}

/** What the request sent in Authorization, or in Proxy-Authorization when `proxy`. */
export function sentCredential(ctx: Context, proxy = false): SentCredential {
  const header = proxy ? 'proxy-authorization' : 'authorization';
  const sent = ctx.requestHeader(header);
  if (!sent) return { kind: 'none', evidence: ev('request', 'no Authorization header sent') };
  if (/^basic\s/i.test(sent))
    return { kind: 'basic', evidence: ev(`request-header:${header}`, 'Basic credentials were sent') };
  const scheme = sent.split(/\s/)[0];
  return { kind: 'other', scheme, evidence: ev(`request-header:${header}`, `${scheme} … (not Basic)`) };
}

/** The message ids rules use for claimBasicAuth's three cases (basic-auth.ts). */
export const BASIC_MESSAGES = {
  rejected: 'basicRejected',
  wrongScheme: 'basicWrongScheme',
  missing: 'basicMissing',
} as const;

/** The first fix for a Basic 401: send the account, with curl (`which` says whose: "this route expects (basicauth)"). */
export function sendPasswordFix(ctx: Context, which: string): Fix {
  return {
    title: `Send the user name and password ${which}`,
    difficulty: 'easy',
    commands: [`curl -u USER ${ctx.url?.href ?? 'URL'}`],
    verify: 'The same request answers 200 instead of 401.',
  };
}
