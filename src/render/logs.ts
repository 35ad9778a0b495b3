// `why403 logs` for a person (terminal) and for an incident note (Markdown).
// Pure: (report, options) → string.
import { bucketName, md, n, rateLine, sparkline, tallyLines, when, windowAndTimeLines } from './summary-text.ts';
import type { LogReport, ReasonSummary } from '../model/logs.ts';
import type { FollowedDenial } from '../logs/follow.ts';
import { printable } from '../errors.ts';
import { clip, noStyle, wrap, type Style } from './text.ts';

export interface LogsRenderOptions {
  style?: Style;
  width?: number;
}

export { sparkline } from './summary-text.ts';

function reasonLines(r: ReasonSummary, s: Style, width: number): string[] {
  const out = [
    wrap(`${s.bold(r.causes.join(' or '))}  ${n(r.count)}`, width, '    ', '  '),
    wrap(`${r.product} ${r.code}: “${r.words}”`, width, '    ', '    '),
  ];
  for (const e of r.examples.slice(0, 2)) {
    for (const ref of [e.access, e.error])
      if (ref) out.push(s.dim(`    ${clip(`${ref.file}:${ref.line}  ${printable(ref.text)}`, width - 4)}`));
  }
  for (const f of r.fixes) {
    out.push(wrap(`[${f.difficulty}] ${f.title}`, width, '           ', '    '));
    for (const c of f.commands ?? []) out.push(`      $ ${c}`);
    if (f.verify) out.push(wrap(`then check: ${f.verify}`, width, '        ', '      '));
  }
  out.push('');
  return out;
}

export function renderLogsTerminal(report: LogReport, opts: LogsRenderOptions = {}): string {
  const s = opts.style ?? noStyle;
  const width = opts.width ?? 80;
  const out: string[] = [];
  const read = report.sources.map((src) => `${src.file} (${src.format}, ${n(src.lines)} lines)`).join(', ');
  out.push(
    wrap(
      `${s.bold(`${n(report.denials)} denials`)}${report.requests ? ` in ${n(report.requests)} requests` : ''} — read ${read}`,
      width,
    ),
  );
  out.push(...windowAndTimeLines(report, s));
  const rate = rateLine(report);
  if (rate) out.push(wrap(rate, width), '');
  if (report.byReason.length || report.unexplained) {
    out.push(s.bold('Why (what the logs say)'));
    for (const r of report.byReason) out.push(...reasonLines(r, s, width));
    if (report.unexplained)
      out.push(
        wrap(
          `${n(report.unexplained)} denials have no error-log line that gives a reason (the application answered them, or its log was not given).`,
          width,
          '  ',
        ),
        '',
      );
  }
  out.push(...tallyLines(s.bold('By status'), report.byStatus, width));
  out.push(...tallyLines(s.bold('By path'), report.byPath, width));
  out.push(...tallyLines(s.bold('By client'), report.byClient, width));
  out.push(...tallyLines(s.bold('By user'), report.byPrincipal, width));
  for (const note of report.notes) out.push(wrap(`note: ${printable(note)}`, width, '  '));
  return out.join('\n').trimEnd() + '\n';
}

export function renderLogsMarkdown(report: LogReport): string {
  const out: string[] = [`# Denials in the logs: ${n(report.denials)}`, ''];
  out.push(
    `Read ${report.sources.map((s) => `\`${md(s.file)}\` (${s.format}, ${n(s.lines)} lines)`).join(', ')}` +
      (report.window.first ? `, from ${when(report.window.first)} to ${when(report.window.last)}` : '') +
      (report.requests ? `; ${n(report.requests)} requests.` : '.'),
    '',
  );
  if (report.byReason.length) {
    out.push('## Why', '', '| count | cause | what the server wrote |', '|---|---|---|');
    for (const r of report.byReason)
      out.push(`| ${r.count} | ${r.causes.join(' or ')} | ${r.product} ${r.code}: ${md(r.words)} |`);
    if (report.unexplained) out.push(`| ${report.unexplained} | (no reason logged) | |`);
    out.push('');
    for (const r of report.byReason) {
      out.push(`### ${r.causes.join(' or ')} (${r.code})`, '');
      for (const e of r.examples)
        out.push(
          '```',
          ...(e.access ? [printable(e.access.text)] : []),
          ...(e.error ? [printable(e.error.text)] : []),
          '```',
        );
      for (const f of r.fixes) {
        out.push('', `- **${f.title}** (${f.difficulty})`);
        for (const c of f.commands ?? []) out.push(`  - \`${c}\``);
        if (f.verify) out.push(`  - Check: ${f.verify}`);
      }
      out.push('');
    }
  }
  for (const [title, tallies] of [
    ['By path', report.byPath],
    ['By client', report.byClient],
    ['By user', report.byPrincipal],
  ] as const) {
    if (!tallies.length) continue;
    out.push(`## ${title}`, '', '| count | |', '|---|---|', ...tallies.map((t) => `| ${t.count} | ${md(t.key)} |`), '');
  }
  if (report.overTime.counts.length > 1)
    out.push(
      '## Over time',
      '',
      `\`${sparkline(report.overTime.counts)}\` (${bucketName(report.overTime.bucketSeconds)} buckets from ${when(report.overTime.start)})`,
      '',
    );
  for (const note of report.notes) out.push(`> ${md(note)}`);
  return out.join('\n').trimEnd() + '\n';
}

/** One denial as it happens: when, what, who, and why. */
export function followedLine(d: FollowedDenial): string {
  const when = d.time ? d.time.slice(11, 19) : '--:--:--';
  const what = [d.status, d.method, d.path].filter(Boolean).join(' ');
  const who = [d.client, d.principal].filter(Boolean).join(' ');
  const why = d.reason
    ? `${d.reason.causes.join(' or ')} (${d.reason.product} ${d.reason.code}: “${d.reason.words}”)`
    : 'no reason logged';
  return printable(`${when}  ${what}${who ? `  ${who}` : ''}  → ${why}`);
}
