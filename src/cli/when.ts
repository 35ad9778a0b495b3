// `--since` and `--until`, as `logs` and `events` read them.
import { UsageError } from '../errors.ts';

const DURATION = /^(\d{1,6})([smhd])$/;
const UNIT = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** `--since`/`--until`: a date and time (ISO 8601, space or T), or a duration before now. */
export function parseWhen(option: string, value: string, now = new Date()): Date {
  const d = DURATION.exec(value.trim());
  if (d) return new Date(now.getTime() - Number(d[1]) * UNIT[d[2] as keyof typeof UNIT] * 1000);
  if (/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value.trim())) {
    const t = new Date(value.trim().replace(' ', 'T'));
    if (!Number.isNaN(t.getTime())) return t;
  }
  throw new UsageError(
    `${option}: expected a time such as 2026-12-05T14:00 or a duration ago such as 2h, got "${value}"`,
  );
}
