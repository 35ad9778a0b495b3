// What credential inspection learns about the credentials a request carried.
// Inspection decodes; it never verifies against a secret the user did not give,
// and every value that could grant access is redacted unless asked otherwise.
import type { CauseId } from './vocabulary.ts';

export type CredentialKind =
  | 'bearer-jwt'
  | 'bearer-opaque'
  | 'basic'
  | 'api-key'
  | 'cookie'
  | 'aws-sigv4'
  | 'aws-presigned-url'
  | 'azure-sas'
  | 'google-signed-url'
  | 'other';

export interface CredentialItem {
  kind: CredentialKind;
  /** Where it was found: "header:authorization", "query:X-Amz-Signature", "cookie:sessionid". */
  location: string;
  /** Redacted rendering, e.g. "eyJhbGciOi…(812 chars)". The raw value only with showSecrets. */
  display: string;
  /** For Basic: the user name (never the password). For SigV4: the access key id (redacted). */
  principal?: string;
  /** Decoded JWT header (alg, kid, typ…). */
  header?: Record<string, unknown>;
  /** Decoded JWT claims, or the signed parameters of a pre-signed URL / SAS. */
  claims?: Record<string, unknown>;
  /** Scopes, roles, permissions and groups collected from the claims. */
  scopes?: string[];
  roles?: string[];
  /** Validity window (ISO 8601) where the credential has one. */
  notBefore?: string;
  expiresAt?: string;
  issuedAt?: string;
  issuer?: string;
  audience?: string[];
  subject?: string;
  tenant?: string;
}

export interface CredentialFinding {
  /** Stable id, e.g. "jwt-expired", "clock-skew", "bearer-prefix-missing". */
  id: string;
  /** The cause this finding speaks for, from design.md section 2. */
  cause: CauseId;
  /** How strongly it speaks for it, 0..1. */
  weight: number;
  text: string;
  source: string;
}

export interface ClockReading {
  /** Local clock when the response was received (or inspection ran). */
  local: string;
  /** Server clock from the response's Date header, when present. */
  server?: string;
  /** server - local, seconds; positive means the server is ahead. */
  skewSeconds?: number;
}

export interface CredentialReport {
  /** Kind of the main credential (the one most likely to be judged), or "none". */
  scheme: CredentialKind | 'none';
  claims?: Record<string, unknown>;
  items: CredentialItem[];
  findings: CredentialFinding[];
  clock: ClockReading;
}
