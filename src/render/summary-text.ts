// What the `logs` and `events` summaries print alike: counts, times, bucket
// names and a tally's lines.
import { printable } from '../errors.ts';
import { clip, type Style } from './text.ts';

const SPARKS = '▁▂▃▄▅▆▇█';

/** One character per bucket, scaled to the largest. */
export function sparkline(counts: number[]): string {
  const max = Math.max(0, ...counts);
  if (!max) return counts.map(() => ' ').join('');
  return counts.map((c) => (c ? SPARKS[Math.min(7, Math.floor((c / max) * 7.999))] : ' ')).join('');
}

export const bucketName = (s: number) =>
  s % 86400 === 0 ? `${s / 86400}-day` : s % 3600 === 0 ? `${s / 3600}-hour` : `${s / 60}-minute`;
export const when = (iso?: string) => (iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '?');
export const n = (x: number) => x.toLocaleString('en-US');
/** Text for a Markdown table cell or line: printable, pipes escaped. */
export const md = (x: string) => printable(x).replace(/\|/g, '\\|');

/** A titled list of counts, the count right-aligned, the key clipped to the width. */
export function tallyLines(title: string, tallies: readonly { key: string; count: number }[], width: number): string[] {
  if (!tallies.length) return [];
  const w = Math.max(...tallies.map((t) => n(t.count).length));
  return [title, ...tallies.map((t) => `  ${n(t.count).padStart(w)}  ${clip(printable(t.key), width - w - 4)}`), ''];
}

/** The window lines (first and last denial, --since/--until) and the over-time block, as both summaries open. */
export function windowAndTimeLines(
  report: {
    window: { first?: string; last?: string; since?: string; until?: string };
    overTime: { bucketSeconds: number; counts: number[]; peak?: { at: string; count: number } };
  },
  s: Style,
): string[] {
  const out: string[] = [];
  const w = report.window;
  if (w.first) out.push(`  from ${when(w.first)} to ${when(w.last)}`);
  if (w.since || w.until)
    out.push(
      `  window: ${w.since ? `since ${when(w.since)}` : ''}${w.until ? ` until ${when(w.until)}` : ''}`.trimEnd(),
    );
  out.push('');
  const t = report.overTime;
  if (t.counts.length > 1) {
    out.push(s.bold(`Over time (${bucketName(t.bucketSeconds)} buckets)`));
    out.push(`  ${sparkline(t.counts)}`);
    if (t.peak) out.push(`  peak ${n(t.peak.count)} at ${when(t.peak.at)}`);
    out.push('');
  }
  return out;
}

/** With --since: the rate after it against the rate before, and "a spike" past twice as many. */
export function rateLine(report: {
  rate?: { before: number; after: number };
  window: { since?: string };
}): string | undefined {
  const r = report.rate;
  if (!r) return undefined;
  return `Since ${when(report.window.since)}: ${r.after} denials a minute, against ${r.before} before it${r.after > 2 * r.before ? ' — a spike' : ''}.`;
}
