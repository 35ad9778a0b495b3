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

/**
 * What inspection measured, as a kind of fact: inspection names it and the
 * rules judge it (see `Rule.judge`). Window kinds come from judging a validity
 * window against a clock; the rest from the credential's shape.
 */
export type ObservationKind =
  // A validity window against the clock it is judged by.
  | 'window-expired'
  | 'window-not-yet-valid'
  | 'window-start-ahead'
  /** Valid by the local clock, outside its window by the server's: the skew refused it. */
  | 'window-skew-refused'
  /** The same credential by the server's clock, outside its window (the skew's companion). */
  | 'window-expired-by-server'
  | 'window-not-yet-valid-by-server'
  /** Outside its window by the local clock only: the skew is why it looks wrong, not why it was refused. */
  | 'window-skew-harmless'
  | 'clock-skew-measured'
  // JWTs
  | 'jwt-undecodable'
  | 'jwt-time-milliseconds'
  | 'jwt-time-out-of-range'
  | 'jwt-issued-in-future'
  | 'jwt-scheme-for-jwt'
  | 'token-scheme-for-jwt'
  | 'unknown-scheme-for-jwt'
  // The Authorization header's shape
  | 'authorization-empty'
  | 'authorization-repeated'
  | 'header-name-in-value'
  | 'token-not-bearer'
  | 'token-whitespace'
  | 'token-trailing-whitespace'
  | 'token-quoted'
  | 'bearer-prefix-missing'
  | 'bearer-scheme-case'
  | 'bearer-scheme-punctuation'
  | 'bearer-line-break'
  | 'bearer-extra-space'
  | 'bearer-doubled'
  | 'bearer-placeholder'
  | 'key-placeholder'
  | 'basic-empty'
  | 'basic-not-base64'
  | 'basic-no-colon'
  | 'basic-empty-user'
  // Signatures (AWS SigV4, pre-signed URLs, Azure SAS)
  | 'signing-time-skew'
  | 'signing-time-stale'
  | 'sigv4-incomplete'
  | 'sigv4-date-mismatch'
  | 'sigv4-session-token-missing'
  | 'presigned-incomplete'
  | 'presigned-expires-missing'
  | 'presigned-expires-too-long'
  | 'presigned-date-mismatch'
  | 'presigned-session-credentials'
  | 'azure-sas-bad-time'
  | 'azure-sas-no-expiry'
  | 'azure-sas-window-inverted'
  | 'azure-sas-ip-range'
  | 'azure-sas-https-only';

/** The readings a verdict may scale by. */
export interface ObservationMeasure {
  /** How far the clock a window was judged by can be trusted: 1 for the server's Date or a given time, less for a local clock. */
  clockTrust?: number;
  /** The credential expired inside the tolerance validators commonly allow. */
  withinLeeway?: boolean;
  /** Seconds between the server's clock and the local one, either way. */
  skewSeconds?: number;
  /** The value is a JWT or a token of a recognised vendor, not an arbitrary string. */
  recognisedToken?: boolean;
  /** What trails the token includes a line break (read from a file or command output), not only spaces. */
  lineBreak?: boolean;
  /** The placeholder is a shell variable in a curl command shared for diagnosis, which may keep it on purpose. */
  sharedCommand?: boolean;
}

/** One thing credential inspection measured: a fact, not yet a cause. */
export interface CredentialObservation {
  /** Stable id, e.g. "jwt-expired", "bearer-prefix-missing"; the finding keeps it. */
  id: string;
  kind: ObservationKind;
  text: string;
  source: string;
  measure?: ObservationMeasure;
}

/** An observation with the cause a rule judged it to speak for. */
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

/** A rule's judgement of one observation. */
export interface CredentialVerdict {
  cause: CauseId;
  weight: number;
}

export interface ClockReading {
  /** Local clock when the response was received (or inspection ran). */
  local: string;
  /** Server clock from the response's Date header, when present. */
  server?: string;
  /** server - local, seconds; positive means the server is ahead. */
  skewSeconds?: number;
}

/** What inspection returns: the credentials found and what was measured about them. */
export interface CredentialInspection {
  /** Kind of the main credential (the one most likely to be judged), or "none". */
  scheme: CredentialKind | 'none';
  claims?: Record<string, unknown>;
  items: CredentialItem[];
  observations: CredentialObservation[];
  clock: ClockReading;
}

/** The report's view: the observations judged by the rules, strongest first. */
export interface CredentialReport {
  /** Kind of the main credential (the one most likely to be judged), or "none". */
  scheme: CredentialKind | 'none';
  claims?: Record<string, unknown>;
  items: CredentialItem[];
  findings: CredentialFinding[];
  clock: ClockReading;
}
