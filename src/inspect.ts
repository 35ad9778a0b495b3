// The library's credential inspection: what inspection observed about the
// credentials, judged by the rule that says what such observations mean
// (credential-validity), as the engine judges them in every report. Loads that
// one rule, not the index, so `why403 token` starts as fast as before.
import type { Exchange } from './model/exchange.ts';
import type { CredentialReport } from './model/credential.ts';
import { observeExchangeCredentials, observeToken, type InspectOptions } from './credentials/index.ts';
import { judgeCredential } from './engine/credential.ts';
import credentialValidity from './rules/credential-validity/rule.ts';

export type { InspectOptions };

const JUDGES = [credentialValidity];

/** Every credential the exchange's request carried, decoded, redacted and judged. */
export function inspectExchangeCredentials(exchange: Exchange, opts: InspectOptions = {}): CredentialReport {
  return judgeCredential(JUDGES, observeExchangeCredentials(exchange, opts));
}

/**
 * One credential given on its own — a JWT or token, `Bearer …`, an
 * `Authorization: …` line, a Basic header, a pre-signed or SAS URL — decoded,
 * redacted and judged by the local clock (or opts.now).
 */
export function inspectToken(raw: string, opts: InspectOptions = {}): CredentialReport {
  return judgeCredential(JUDGES, observeToken(raw, opts));
}
