// Denials over time, as `logs` and `events` report them: counts per minute
// gathered while reading, put into at most about 60 buckets of a readable
// size (a minute, 5 or 15 minutes, an hour, 6 hours, a day, a week; past 60
// weeks, as many whole days as keep it to 60), with the peak.
const BUCKETS = [60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400];

export interface OverTime {
  bucketSeconds: number;
  start?: string;
  counts: number[];
  peak?: { at: string; count: number };
}

/** `perMinute`: epoch minute → count; `first`/`last`: the first and last denial, epoch ms. */
export function overTime(perMinute: Map<number, number>, first?: number, last?: number): OverTime {
  if (first === undefined || last === undefined) return { bucketSeconds: 60, counts: [] };
  const span = (last - first) / 1000;
  const bucketSeconds = BUCKETS.find((b) => span / b <= 60) ?? Math.ceil(span / 60 / 86400) * 86400;
  const start = Math.floor(first / 1000 / bucketSeconds) * bucketSeconds;
  const counts = new Array<number>(Math.floor((last / 1000 - start) / bucketSeconds) + 1).fill(0);
  for (const [minute, c] of perMinute) {
    const i = Math.floor((minute * 60 - start) / bucketSeconds);
    if (i >= 0 && i < counts.length) counts[i] += c;
  }
  const peakIndex = counts.indexOf(Math.max(...counts));
  return {
    bucketSeconds,
    start: new Date(start * 1000).toISOString(),
    counts,
    peak: { at: new Date((start + peakIndex * bucketSeconds) * 1000).toISOString(), count: counts[peakIndex]! },
  };
}

/** Denials a minute between two times (epoch ms), at least a minute apart, to two decimals. */
export function perMinuteRate(count: number, from: number, to: number): number {
  return Math.round((count / Math.max(1, (to - from) / 60_000)) * 100) / 100;
}

/**
 * With --since: denials a minute after it against before it, where the input
 * reaches back before it (none after it is a rate of 0, worth showing).
 */
export function sinceRate(
  since: Date | undefined,
  before: { count: number; first?: number },
  after: { count: number; last?: number },
): { before: number; after: number } | undefined {
  if (!since || before.first === undefined) return undefined;
  const at = since.getTime();
  return {
    before: perMinuteRate(before.count, before.first, at),
    after: perMinuteRate(after.count, at, Math.max(after.last ?? 0, at + 60_000)),
  };
}

/** The window a summary covers: what was asked (--since, --until) and the first and last denial in it. */
export function reportWindow(
  o: { since?: Date; until?: Date },
  first: number | undefined,
  last: number | undefined,
): { since?: string; until?: string; first?: string; last?: string } {
  return {
    ...(o.since ? { since: o.since.toISOString() } : {}),
    ...(o.until ? { until: o.until.toISOString() } : {}),
    ...(first !== undefined ? { first: new Date(first).toISOString() } : {}),
    ...(last !== undefined ? { last: new Date(last).toISOString() } : {}),
  };
}
