// What each credential observation speaks for, and how strongly. Inspection
// (src/credentials/) measures and names what it saw; this table is where that
// becomes a cause. TypeScript holds it to every kind inspection can name.
import type {
  CredentialObservation,
  CredentialVerdict,
  ObservationKind,
  ObservationMeasure,
} from '../../model/credential.ts';

export type ValidityCause =
  | 'credential-expired'
  | 'credential-not-yet-valid'
  | 'clock-skew'
  | 'credential-malformed'
  | 'credential-missing'
  | 'ip-restricted';

interface Entry {
  cause: ValidityCause;
  /** A fixed weight, or one scaled by what was measured. */
  weight: number | ((m: ObservationMeasure) => number);
}

const malformed = (weight: Entry['weight']): Entry => ({ cause: 'credential-malformed', weight });
const skew = (weight: Entry['weight']): Entry => ({ cause: 'clock-skew', weight });

const VERDICTS: Record<ObservationKind, Entry> = {
  // A window judged by a clock counts as much as that clock can be trusted.
  'window-expired': {
    cause: 'credential-expired',
    weight: (m) => (m.withinLeeway ? 0.45 : 0.9) * (m.clockTrust ?? 1),
  },
  'window-not-yet-valid': { cause: 'credential-not-yet-valid', weight: (m) => 0.8 * (m.clockTrust ?? 1) },
  // A start minutes ahead of the server is a fast clock where it was issued.
  'window-start-ahead': skew(0.5),
  'window-skew-refused': skew(0.85),
  'window-expired-by-server': { cause: 'credential-expired', weight: 0.3 },
  'window-not-yet-valid-by-server': { cause: 'credential-not-yet-valid', weight: 0.3 },
  'window-skew-harmless': skew(0.15),
  // Beyond 15 minutes most signature checks (AWS, Azure) refuse; beyond 5, JWT leeways run out.
  'clock-skew-measured': skew((m) => {
    const s = Math.abs(m.skewSeconds ?? 0);
    return s >= 900 ? 0.5 : s >= 300 ? 0.35 : 0.15;
  }),
  'jwt-undecodable': malformed(0.6),
  'jwt-time-milliseconds': malformed(0.5),
  'jwt-time-out-of-range': malformed(0.5),
  'jwt-issued-in-future': skew(0.4),
  'jwt-scheme-for-jwt': malformed(0.6),
  'token-scheme-for-jwt': malformed(0.5),
  'unknown-scheme-for-jwt': malformed(0.5),
  'authorization-empty': { cause: 'credential-missing', weight: 0.8 },
  'authorization-repeated': malformed(0.5),
  'header-name-in-value': malformed(0.85),
  'token-not-bearer': malformed(0.6),
  'token-whitespace': malformed(0.8),
  'token-trailing-whitespace': malformed((m) => (m.lineBreak ? 0.7 : 0.3)),
  'token-quoted': malformed(0.8),
  // A bare string may be an API key sent where it belongs; a token without its scheme is not.
  'bearer-prefix-missing': malformed((m) => (m.recognisedToken ? 0.8 : 0.4)),
  // Schemes are case-insensitive (RFC 9110 section 11.1); only some servers get it wrong.
  'bearer-scheme-case': malformed(0.25),
  'bearer-scheme-punctuation': malformed(0.8),
  'bearer-line-break': malformed(0.8),
  'bearer-extra-space': malformed(0.3),
  'bearer-doubled': malformed(0.85),
  // A curl command shared for diagnosis may keep $TOKEN on purpose.
  'bearer-placeholder': { cause: 'credential-missing', weight: (m) => (m.sharedCommand ? 0.35 : 0.85) },
  'key-placeholder': { cause: 'credential-missing', weight: (m) => (m.sharedCommand ? 0.35 : 0.85) },
  'basic-empty': { cause: 'credential-missing', weight: 0.8 },
  'basic-not-base64': malformed(0.6),
  'basic-no-colon': malformed(0.6),
  'basic-empty-user': malformed(0.3),
  // Against the server's Date a signing time measures the signer's clock; against the local one it may be a replay.
  'signing-time-skew': skew(0.85),
  'signing-time-stale': skew(0.4),
  'sigv4-incomplete': malformed(0.7),
  'sigv4-date-mismatch': malformed(0.6),
  'sigv4-session-token-missing': malformed(0.6),
  'presigned-incomplete': malformed(0.6),
  'presigned-expires-missing': malformed(0.6),
  'presigned-expires-too-long': malformed(0.6),
  'presigned-date-mismatch': malformed(0.5),
  // Temporary credentials may end before the URL's own expiry; nothing says they did.
  'presigned-session-credentials': { cause: 'credential-expired', weight: 0.25 },
  'azure-sas-bad-time': malformed(0.6),
  'azure-sas-no-expiry': malformed(0.5),
  'azure-sas-window-inverted': malformed(0.7),
  // An address range is a condition, not evidence the caller was outside it.
  'azure-sas-ip-range': { cause: 'ip-restricted', weight: 0.2 },
  'azure-sas-https-only': malformed(0.6),
};

const clamp = (w: number) => Math.max(0, Math.min(1, Math.round(w * 100) / 100));

/** The cause an observation speaks for, weighted by what was measured. */
export function judgeObservation(o: CredentialObservation): CredentialVerdict & { cause: ValidityCause } {
  const entry = VERDICTS[o.kind];
  const weight = typeof entry.weight === 'number' ? entry.weight : entry.weight(o.measure ?? {});
  return { cause: entry.cause, weight: clamp(weight) };
}
