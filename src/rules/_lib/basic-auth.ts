// HTTP Basic authentication (RFC 7617) as web servers and proxies enforce it:
// a 401 (or a proxy's 407) with a Basic challenge means no credential, a
// credential of another scheme (which a Basic module ignores), or a user name
// and password it did not accept. claimBasicAuth claims the one cause for
// servers that answer like nginx; the readers below serve rules whose
// challenge may sit in Proxy-Authenticate or name no realm.
import type { Evidence, Fix } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import type { Context } from '../../model/rule.ts';
import type { MessageData, Reporter } from '../define.ts';
import { ev } from '../define.ts';
import { challenge, sentScheme } from './challenges.ts';

export interface BasicAuthMessages<M extends string> {
  /** Basic credentials were sent and refused; data: realm. */
  rejected: M;
  /** Another scheme was sent; data: realm, scheme. */
  wrongScheme: M;
  /** No credential; data: realm. */
  missing: M;
}

/**
 * Claims the one Basic-auth cause a 401 shows: credential-invalid,
 * credential-malformed or credential-missing, with the challenge and the
 * request's Authorization header as evidence.
 */
export function claimBasicAuth<C extends CauseId, M extends string, F extends string = never>(
  ctx: Context,
  report: Reporter<C | 'credential-invalid' | 'credential-malformed' | 'credential-missing', M, F>,
  messages: BasicAuthMessages<M>,
  opts: {
    evidence: Evidence[];
    fixes: readonly (F | Fix)[];
    data?: MessageData;
    weights?: { rejected?: number; wrongScheme?: number; missing?: number };
  },
): void {
  const basic = challenge(ctx, 'basic');
  const scheme = sentScheme(ctx);
  const realm = basic?.params.realm ?? '?';
  const shown = basic ? `Basic realm="${basic.params.realm}"` : 'no Basic challenge';
  const w = { rejected: 0.8, wrongScheme: 0.75, missing: 0.8, ...opts.weights };
  if (scheme?.toLowerCase() === 'basic')
    report.claim('credential-invalid', messages.rejected, w.rejected, {
      data: { ...opts.data, realm },
      evidence: [...opts.evidence, ev('request-header:authorization', 'Basic credentials were sent')],
      fixes: opts.fixes,
    });
  else if (scheme && basic)
    report.claim('credential-malformed', messages.wrongScheme, w.wrongScheme, {
      data: { ...opts.data, realm, scheme },
      evidence: [
        ...opts.evidence,
        ev('header:www-authenticate', shown),
        ev('request-header:authorization', `${scheme} … (not Basic)`),
      ],
      fixes: opts.fixes,
    });
  else
    report.claim('credential-missing', messages.missing, w.missing, {
      data: { ...opts.data, realm },
      evidence: [...opts.evidence, ev('header:www-authenticate', shown)],
      fixes: opts.fixes,
    });
}

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
