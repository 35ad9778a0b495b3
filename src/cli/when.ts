// `--since` and `--until`, as `logs` and `events` read them.
import { UsageError } from '../errors.ts';

const DURATION = /^(\d{1,6})([smhd])$/;
const UNIT = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** `--since`/`--until`: a date and time (ISO 8601, space or T), or a duration before now. */
export function parseWhen(option: string, value: string, now = new Date()): Date {
  const d = DURATION.exec(value.trim());
  if (d) return new Date(now.getTime() - Number(d[1]) * UNIT[d[2] as keyof typeof UNIT] * 1000);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    value.trim(),
  );
  if (m && exists(m)) {
    // A date alone is midnight local time, as a date and time without a zone is (not UTC, as Date reads it).
    const text = value.trim().replace(' ', 'T');
    const t = new Date(m[4] === undefined && m[7] === undefined ? `${text}T00:00` : text);
    if (!Number.isNaN(t.getTime())) return t;
  }
  throw new UsageError(
    `${option}: expected a time such as 2026-12-05T14:00 or a duration ago such as 2h, got "${value}"`,
  );
}

/** The calendar and the clock hold the date written: not February 31, not 25:00 (Date would roll them over). */
function exists(m: RegExpExecArray): boolean {
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return false;
  return Number(m[4] ?? 0) <= 23 && Number(m[5] ?? 0) <= 59 && Number(m[6] ?? 0) <= 59;
}
