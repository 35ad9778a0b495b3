// What a request carried, in the contexts the base rates are counted by: one
// definition for request-context and for the script that counts them
// (scripts/generate-base-rates.ts), so the two cannot drift apart.
import type { CredentialItem, CredentialKind } from '../../model/credential.ts';

export type Carried = 'credential' | 'cookies' | 'none';

/** A credential a server authenticates with; a cookie may be a session or only a preference, so it counts apart. */
export function carriedBy(items: readonly CredentialItem[]): Carried {
  return items.some((i) => i.kind !== 'cookie') ? 'credential' : items.length ? 'cookies' : 'none';
}

/**
 * The family of the main credential: a token carries its own grants (a
 * token's permissions are its scopes), a password stands for an account
 * (whose permissions are its roles), a signature for a key and a policy.
 */
export type CredentialFamily = 'token' | 'password' | 'signature' | 'other';

const FAMILY: Record<Exclude<CredentialKind, 'cookie'>, CredentialFamily> = {
  'bearer-jwt': 'token',
  'bearer-opaque': 'token',
  'api-key': 'token',
  basic: 'password',
  'aws-sigv4': 'signature',
  'aws-presigned-url': 'signature',
  'azure-sas': 'signature',
  'google-signed-url': 'signature',
  other: 'other',
};

/** The family of the first credential that is not a cookie, if any. */
export function familyOf(items: readonly CredentialItem[]): CredentialFamily | undefined {
  const main = items.find((i) => i.kind !== 'cookie');
  return main && main.kind !== 'cookie' ? FAMILY[main.kind] : undefined;
}

/** The base-rate buckets a request falls in, the narrower first: `403/credential:token`, then `403/credential`. */
export function bucketsOf(status: number, items: readonly CredentialItem[]): string[] {
  const carried = carriedBy(items);
  const family = familyOf(items);
  return [...(family ? [`${status}/${carried}:${family}`] : []), `${status}/${carried}`];
}

/** Labelled denials counted by cause, per context (`403/credential:token`) and over all (base-rates.json). */
export interface BaseRates {
  buckets: Record<string, Partial<Record<string, number>>>;
  overall: Partial<Record<string, number>>;
}
