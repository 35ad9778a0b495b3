// Log timestamps. Access logs write a zone ([05/Dec/2026:14:00:00 +0000]);
// nginx's and Apache's error logs write the server's local time without one,
// read here in this process's time zone (set TZ to the server's when they
// differ).
const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

export const monthOf = (name: string): number | undefined => MONTHS[name.slice(0, 3).toLowerCase()];

const valid = (d: Date) => (Number.isNaN(d.getTime()) ? undefined : d);

const CLF = /^(\d{1,2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

// Access logs write the same second on many lines in a row: the last one read is kept.
let lastClf = '';
let lastClfTime: Date | undefined;

/** `05/Dec/2026:14:00:00 +0000` (Common Log Format). */
export function clfTime(s: string): Date | undefined {
  if (s === lastClf) return lastClfTime;
  const m = CLF.exec(s);
  const month = m ? monthOf(m[2]) : undefined;
  let t: Date | undefined;
  if (m && month !== undefined) {
    const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
    t = valid(new Date(Date.UTC(+m[3], month, +m[1], +m[4], +m[5], +m[6]) - offset * 60_000));
  }
  lastClf = s;
  lastClfTime = t;
  return t;
}

/** A local date and time from its parts (error logs). */
export function localTime(
  y: number,
  month: number,
  d: number,
  h: number,
  min: number,
  s: number,
  ms = 0,
): Date | undefined {
  return valid(new Date(y, month, d, h, min, s, ms));
}
