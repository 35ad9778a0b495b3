// What a request carried, in the three contexts the base rates are counted
// by: one definition for request-context and for the script that counts
// them (scripts/generate-base-rates.ts), so the two cannot drift apart.
import type { CredentialItem } from '../../model/credential.ts';

export type Carried = 'credential' | 'cookies' | 'none';

/** A credential a server authenticates with; a cookie may be a session or only a preference, so it counts apart. */
export function carriedBy(items: readonly CredentialItem[]): Carried {
  return items.some((i) => i.kind !== 'cookie') ? 'credential' : items.length ? 'cookies' : 'none';
}
