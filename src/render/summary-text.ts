// What the `logs` and `events` summaries print alike: counts, times, bucket
// names and a tally's lines.
import { printable } from '../errors.ts';
import { clip } from './text.ts';

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
