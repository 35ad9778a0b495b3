// Placeholder until credential inspection lands (issue 2, point 4): reports no credential.
import type { Exchange } from '../model/exchange.ts';
import type { CredentialReport } from '../model/credential.ts';

export interface InspectOptions {
  now?: Date;
  showSecrets?: boolean;
}

export function inspectExchangeCredentials(exchange: Exchange, opts: InspectOptions = {}): CredentialReport {
  const now = opts.now ?? new Date();
  return { scheme: 'none', items: [], findings: [], clock: { local: now.toISOString() } };
}
