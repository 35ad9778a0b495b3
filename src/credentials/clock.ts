// Time, measured rather than guessed. What matters is the moment the server
// judged the request, by the server's clock: the response's Date header gives
// it (to the second). The local clock of that same moment comes from the live
// trace or the HAR entry; only with both can a skew be measured. A time window
// (exp/nbf, X-Amz-Date + X-Amz-Expires, st/se) is judged against the server's
// clock when known, and a verdict that flips between the two clocks is a
// clock-skew finding, not a plain expiry.
import { headerValue, type Exchange } from '../model/exchange.ts';
import type { ClockReading, CredentialObservation, ObservationKind } from '../model/credential.ts';

export type LocalSource = 'trace' | 'har' | 'given' | 'now';

export interface Clock {
  /** Local clock at the moment that matters (response received, request started, or inspection). */
  local: Date;
  localSource: LocalSource;
  /** The server's clock from the response's Date header. */
  server?: Date;
  serverHeader?: string;
  /** server - local, seconds, only when both are readings of the same moment; 0 within the Date header's resolution. */
  skewSeconds?: number;
  /** "token": a credential given on its own (why403 token); nothing was sent, "now" is the moment. */
  mode: 'exchange' | 'token';
}

/** A Date header has one-second resolution and the local reading is taken a little later. */
const SKEW_RESOLUTION_S = 2;

export function parseHttpDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const t = Date.parse(value.trim());
  return Number.isFinite(t) ? new Date(t) : undefined;
}

/** ISO 8601 as Azure SAS and most APIs write it: date only, or date and time in UTC. */
export function parseIsoDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) return undefined;
  const t = Date.parse(
    /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : /[Zz]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v}Z`,
  );
  return Number.isFinite(t) ? new Date(t) : undefined;
}

/** ISO 8601 basic format used by SigV4 and Google V4 signing: 20261122T160000Z. */
export function parseBasicIsoDate(value: string | undefined): Date | undefined {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value.trim()) : null;
  if (!m) return undefined;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isFinite(t) ? new Date(t) : undefined;
}

export function readClock(exchange: Exchange, now?: Date): Clock {
  const serverHeader = headerValue(exchange.response?.headers, 'date');
  const server = parseHttpDate(serverHeader);
  let local: Date | undefined;
  let localSource: LocalSource = 'now';
  const traced = parseIsoOrHttp(exchange.trace?.receivedAt);
  const started = parseIsoOrHttp(exchange.startedDateTime);
  if (traced) [local, localSource] = [traced, 'trace'];
  else if (started) [local, localSource] = [started, 'har'];
  else if (now) [local, localSource] = [now, 'given'];
  else local = new Date();
  const clock: Clock = { local, localSource, mode: 'exchange' };
  if (server) {
    clock.server = server;
    clock.serverHeader = serverHeader!.trim();
    if (localSource === 'trace' || localSource === 'har') {
      const skew = (server.getTime() - local.getTime()) / 1000;
      clock.skewSeconds = Math.abs(skew) <= SKEW_RESOLUTION_S ? 0 : Math.round(skew);
    }
  }
  return clock;
}

export function tokenClock(now?: Date): Clock {
  return { local: now ?? new Date(), localSource: now ? 'given' : 'now', mode: 'token' };
}

function parseIsoOrHttp(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isFinite(t) ? new Date(t) : undefined;
}

export function clockReading(clock: Clock): ClockReading {
  return {
    local: iso(clock.local),
    ...(clock.server ? { server: iso(clock.server) } : {}),
    ...(clock.skewSeconds !== undefined ? { skewSeconds: clock.skewSeconds } : {}),
  };
}

export const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The date `ms` milliseconds after 1970, or undefined beyond the ±275,760 years a Date can hold (a claim or an Expires can say anything). */
export function validDate(ms: number): Date | undefined {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** "3 h 12 min", "45 s", "2 d 4 h", "4 y 23 d": the two largest units, enough to act on. */
export function formatDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s === 0) return 'under a second';
  const units: [string, number][] = [
    ['y', 365 * 86400],
    ['d', 86400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ];
  const i = units.findIndex(([, size]) => s >= size);
  const [name, size] = units[i];
  const first = `${Math.floor(s / size)} ${name}`;
  const next = units[i + 1];
  const second = next ? Math.floor((s % size) / next[1]) : 0;
  return second ? `${first} ${second} ${next[0]}` : first;
}

export function skewText(clock: Clock): string | undefined {
  if (!clock.skewSeconds) return undefined;
  const d = formatDuration(clock.skewSeconds * 1000);
  return clock.skewSeconds > 0
    ? `the server's clock is ${d} ahead of the local clock`
    : `the server's clock is ${d} behind the local clock`;
}

/** The clock a window is judged by, in words, and how far it can be trusted to be the moment the server judged. */
export function reference(clock: Clock): { at: Date; label: string; trust: number } {
  if (clock.server) return { at: clock.server, label: `the server's clock (Date: ${clock.serverHeader})`, trust: 1 };
  const at = clock.local;
  switch (clock.localSource) {
    case 'trace':
      return {
        at,
        label: `the local clock when the response arrived (${iso(at)}; the response has no Date header)`,
        trust: 0.9,
      };
    case 'har':
      return {
        at,
        label: `the local clock when the request started (${iso(at)}, HAR startedDateTime; the response has no Date header)`,
        trust: 0.9,
      };
    case 'given':
      return clock.mode === 'token'
        ? { at, label: `the given time (${iso(at)})`, trust: 1 }
        : { at, label: `the local clock at ${iso(at)} (the response has no Date header)`, trust: 0.8 };
    default:
      return clock.mode === 'token'
        ? { at, label: `the local clock now (${iso(at)})`, trust: 1 }
        : {
            at,
            label: `the local clock now (${iso(at)}); the response has no Date header, so the server judged the request at some earlier moment`,
            trust: 0.65,
          };
  }
}

export interface TimeWindow {
  /** "The token", "The pre-signed URL", "The SAS". */
  what: string;
  /** Finding id prefix: "jwt", "aws-presigned", "azure-sas"… */
  id: string;
  notBefore?: Date;
  notBeforeSource?: string;
  expiresAt?: Date;
  expiresSource?: string;
  /** Tolerance validators of this kind commonly allow; noted in the text, not applied to the verdict. */
  leewaySeconds?: number;
  leewayNote?: string;
  /** Who sets the start time ("the issuer", "whoever signed it"), for the text on a start in the future. */
  startSetBy?: string;
}

type Verdict =
  { state: 'valid'; leftMs?: number } | { state: 'expired'; byMs: number } | { state: 'early'; byMs: number };

function verdict(w: TimeWindow, at: Date): Verdict {
  const t = at.getTime();
  if (w.notBefore && t < w.notBefore.getTime()) return { state: 'early', byMs: w.notBefore.getTime() - t };
  if (w.expiresAt && t >= w.expiresAt.getTime()) return { state: 'expired', byMs: t - w.expiresAt.getTime() };
  return { state: 'valid', ...(w.expiresAt ? { leftMs: w.expiresAt.getTime() - t } : {}) };
}

/** Observations that a credential was used outside its validity window, by whichever clock. */
export const OUTSIDE_WINDOW: ReadonlySet<ObservationKind> = new Set([
  'window-expired',
  'window-not-yet-valid',
  'window-expired-by-server',
  'window-not-yet-valid-by-server',
]);

/** Observations that already say how the clocks disagree. */
export const CLOCK_DISAGREES: ReadonlySet<ObservationKind> = new Set([
  'window-skew-refused',
  'window-skew-harmless',
  'window-start-ahead',
  'jwt-issued-in-future',
  'signing-time-skew',
  'signing-time-stale',
]);

/** Reads a validity window against the clock: what it shows (nothing when the window holds). */
export function windowObservations(w: TimeWindow, clock: Clock): CredentialObservation[] {
  const ref = reference(clock);
  const atRef = verdict(w, ref.at);
  const localIsReading = clock.localSource === 'trace' || clock.localSource === 'har';
  if (clock.server && localIsReading && clock.skewSeconds) {
    const atLocal = verdict(w, clock.local);
    const skew = skewText(clock)!;
    if (atRef.state !== 'valid' && atLocal.state === 'valid') {
      const local =
        atLocal.leftMs !== undefined
          ? `still valid by the local clock (${formatDuration(atLocal.leftMs)} left at ${iso(clock.local)})`
          : 'valid by the local clock';
      const judged =
        atRef.state === 'expired'
          ? `expired ${formatDuration(atRef.byMs)} before ${ref.label}`
          : `not valid until ${formatDuration(atRef.byMs)} after ${ref.label}`;
      return [
        {
          id: `${w.id}-clock-skew`,
          kind: 'window-skew-refused',
          text: `${w.what} was ${local} but ${judged}: ${skew}.`,
          source: 'header:date',
        },
        atRef.state === 'expired'
          ? {
              id: `${w.id}-expired`,
              kind: 'window-expired-by-server',
              text: `By the server's clock ${w.what.toLowerCase()} had expired (${iso(w.expiresAt!)}).`,
              source: w.expiresSource ?? 'credential',
            }
          : {
              id: `${w.id}-not-yet-valid`,
              kind: 'window-not-yet-valid-by-server',
              text: `By the server's clock ${w.what.toLowerCase()} was not yet valid (from ${iso(w.notBefore!)}).`,
              source: w.notBeforeSource ?? 'credential',
            },
      ];
    }
    if (atRef.state === 'valid' && atLocal.state !== 'valid') {
      const byLocal =
        atLocal.state === 'expired'
          ? `had expired ${formatDuration(atLocal.byMs)} earlier`
          : `was not valid for another ${formatDuration(atLocal.byMs)}`;
      return [
        {
          id: `${w.id}-clock-skew`,
          kind: 'window-skew-harmless',
          text: `By the local clock ${w.what.toLowerCase()} ${byLocal}, but by ${ref.label} it was within its validity window: ${skew}. Its time window is not why the server refused.`,
          source: 'header:date',
        },
      ];
    }
  }
  if (atRef.state === 'expired') {
    const leeway = w.leewaySeconds ?? 0;
    const within = leeway > 0 && atRef.byMs <= leeway * 1000;
    const skew = skewText(clock);
    return [
      {
        id: `${w.id}-expired`,
        kind: 'window-expired',
        text:
          `${w.what} expired ${formatDuration(atRef.byMs)} before ${ref.label}; it was valid until ${iso(w.expiresAt!)}` +
          (within
            ? `. That is inside ${w.leewayNote ?? `a ${formatDuration(leeway * 1000)} tolerance`}, so a lenient server may still have accepted it`
            : '') +
          (skew ? ` (${skew}, which does not change the verdict)` : '') +
          '.',
        source: w.expiresSource ?? 'credential',
        measure: { clockTrust: ref.trust, withinLeeway: within },
      },
    ];
  }
  if (atRef.state === 'early') {
    const out: CredentialObservation[] = [
      {
        id: `${w.id}-not-yet-valid`,
        kind: 'window-not-yet-valid',
        text: `${w.what} is not valid until ${iso(w.notBefore!)}, ${formatDuration(atRef.byMs)} after ${ref.label}.`,
        source: w.notBeforeSource ?? 'credential',
        measure: { clockTrust: ref.trust },
      },
    ];
    // A start only minutes ahead is what a fast clock at the issuer or signer
    // produces when it stamps "now"; a start days ahead is a choice.
    if (clock.server && atRef.byMs <= 10 * 60 * 1000)
      out.push({
        id: `${w.id}-start-ahead`,
        kind: 'window-start-ahead',
        text: `A start time only ${formatDuration(atRef.byMs)} ahead of the server's clock usually means the clock of ${w.startSetBy ?? 'whoever issued it'} runs ahead of the server's.`,
        source: w.notBeforeSource ?? 'credential',
      });
    return out;
  }
  return [];
}
