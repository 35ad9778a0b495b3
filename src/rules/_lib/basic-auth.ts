// HTTP Basic authentication (RFC 7617) as web servers enforce it: a 401 with a
// Basic challenge means no credential, a credential of another scheme (which
// a Basic module ignores), or a user name and password it did not accept.
import type { Evidence, Fix } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import type { Context } from '../../model/rule.ts';
import type { Reporter } from '../define.ts';
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
export function claimBasicAuth<C extends CauseId, M extends string>(
  ctx: Context,
  report: Reporter<C | 'credential-invalid' | 'credential-malformed' | 'credential-missing', M>,
  messages: BasicAuthMessages<M>,
  opts: { evidence: Evidence[]; fixes: Fix[]; weights?: { rejected?: number; wrongScheme?: number; missing?: number } },
): void {
  const basic = challenge(ctx, 'basic');
  const scheme = sentScheme(ctx);
  const realm = basic?.params.realm ?? '?';
  const shown = basic ? `Basic realm="${basic.params.realm}"` : 'no Basic challenge';
  const w = { rejected: 0.8, wrongScheme: 0.75, missing: 0.8, ...opts.weights };
  if (scheme?.toLowerCase() === 'basic')
    report.claim('credential-invalid', messages.rejected, w.rejected, { data: { realm }, evidence: [...opts.evidence, ev('request-header:authorization', 'Basic credentials were sent')], fixes: opts.fixes });
  else if (scheme && basic)
    report.claim('credential-malformed', messages.wrongScheme, w.wrongScheme, { data: { realm, scheme }, evidence: [...opts.evidence, ev('header:www-authenticate', shown), ev('request-header:authorization', `${scheme} … (not Basic)`)], fixes: opts.fixes });
  else report.claim('credential-missing', messages.missing, w.missing, { data: { realm }, evidence: [...opts.evidence, ev('header:www-authenticate', shown)], fixes: opts.fixes });
}
