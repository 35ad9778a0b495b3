// `why403 events` for a person (terminal) and for an incident note
// (Markdown): an API's own denials, why, who, where and when. Pure:
// (report, options) → string. Every string from the events is printed
// through `printable`: an event file is input, and its fields must not drive
// the terminal.
import { bucketName, md, n, rateLine, sparkline, tallyLines, when, windowAndTimeLines } from './summary-text.ts';
import type { EventsReport, ReasonSummary } from '../events/model.ts';
import { printable } from '../errors.ts';
import { clip, noStyle, wrap, type Style } from './text.ts';

export interface EventsRenderOptions {
  style?: Style;
  width?: number;
}

/** "insufficient-scope (scope write:orders)": a reason in one phrase. */
export const reasonText = (r: ReasonSummary) => (r.rule ? `${r.cause} (${r.rule})` : r.cause);
const gapText = (r: ReasonSummary) =>
  r.exampleGap ? `required ${r.exampleGap.required.join(', ')}; held ${r.exampleGap.held.join(', ') || 'none'}` : '';
const sourcesText = (report: EventsReport) =>
  report.sources.map((s) => `${s.file} (${s.format === 'sqlite' ? 'SQLite' : 'JSON lines'}, ${n(s.events)} events)`);

function reasonLines(r: ReasonSummary, s: Style, width: number): string[] {
  const out = [
    wrap(`${s.bold(printable(r.cause))} ×${n(r.count)}${r.rule ? ` — ${printable(r.rule)}` : ''}`, width, '    ', '  '),
  ];
  if (r.exampleGap) out.push(wrap(printable(gapText(r)), width, '      ', '    '));
  if (r.routes.length)
    out.push(s.dim(`    ${clip(r.routes.map((t) => `${printable(t.key)} ×${n(t.count)}`).join(', '), width - 4)}`));
  return out;
}

export function renderEventsTerminal(report: EventsReport, opts: EventsRenderOptions = {}): string {
  const s = opts.style ?? noStyle;
  const width = opts.width ?? 80;
  const out: string[] = [];
  out.push(
    wrap(`${s.bold(`${n(report.denials)} denials`)} — read ${printable(sourcesText(report).join(', '))}`, width),
  );
  out.push(...windowAndTimeLines(report, s));
  const rate = rateLine(report);
  if (rate) out.push(wrap(rate, width), '');
  if (report.byReason.length) {
    out.push(s.bold('Why (cause and rule)'));
    for (const r of report.byReason) out.push(...reasonLines(r, s, width));
    out.push('');
  }
  out.push(...tallyLines(s.bold('By status'), report.byStatus, width));
  out.push(...tallyLines(s.bold('Hidden as 404 (by what they were)'), report.hidden, width));
  out.push(...tallyLines(s.bold('By principal'), report.byPrincipal, width));
  out.push(...tallyLines(s.bold('By route'), report.byRoute, width));
  out.push(...tallyLines(s.bold('By client'), report.byClient, width));
  for (const note of report.notes) out.push(wrap(`note: ${printable(note)}`, width, '  '));
  return out.join('\n').trimEnd() + '\n';
}

export function renderEventsMarkdown(report: EventsReport): string {
  const out: string[] = [`# Denials the API explained: ${n(report.denials)}`, ''];
  out.push(
    `Read ${report.sources
      .map((s) => `\`${md(s.file)}\` (${s.format === 'sqlite' ? 'SQLite' : 'JSON lines'}, ${n(s.events)} events)`)
      .join(', ')}` +
      (report.window.first ? `, from ${when(report.window.first)} to ${when(report.window.last)}` : '') +
      (report.window.since ? `; since ${when(report.window.since)}` : '') +
      (report.window.until ? `; until ${when(report.window.until)}` : '') +
      '.',
    '',
  );
  if (report.byReason.length) {
    out.push('## Why', '', '| count | cause | rule | example gap |', '|---|---|---|---|');
    for (const r of report.byReason)
      out.push(`| ${r.count} | ${md(r.cause)} | ${md(r.rule ?? '')} | ${md(gapText(r))} |`);
    out.push('');
  }
  for (const [title, tallies] of [
    ['By status', report.byStatus],
    ['Hidden as 404 (by what they were)', report.hidden],
    ['By principal', report.byPrincipal],
    ['By route', report.byRoute],
    ['By client', report.byClient],
  ] as const) {
    if (!tallies.length) continue;
    out.push(`## ${title}`, '', '| count | |', '|---|---|', ...tallies.map((t) => `| ${t.count} | ${md(t.key)} |`), '');
  }
  const t = report.overTime;
  if (t.counts.length > 1)
    out.push(
      '## Over time',
      '',
      `\`${sparkline(t.counts)}\` (${bucketName(t.bucketSeconds)} buckets from ${when(t.start)})` +
        (t.peak ? `; peak ${t.peak.count} at ${when(t.peak.at)}` : ''),
      '',
    );
  for (const note of report.notes) out.push(`> ${md(note)}`);
  return out.join('\n').trimEnd() + '\n';
}
