// A finished (or stopped) scan for a person: what was asked, the outcomes by
// status, each denial signature with its full diagnosis, the fields that
// separate forbidden records from allowed ones, and the errors.
import { STATUS_CODES } from 'node:http';
import type { ScanSummary } from '../scan/summary.ts';
import type { ScanDiff } from '../scan/diff.ts';
import { renderTerminal } from './terminal.ts';
import { clip, noStyle, wrap, type Style } from './text.ts';
import { isDenial } from '../engine/status.ts';

const n = (x: number) => x.toLocaleString('en-US');
const plural = (x: number, word: string) => `${n(x)} ${word}${x === 1 ? '' : 's'}`;

function describeSource(s: ScanSummary): string {
  if (s.source.kind === 'list')
    return `the list ${s.source.url}${s.listPages ? ` (${plural(s.listPages, 'page')})` : ''}`;
  return s.source.file === '-'
    ? `ids from standard input (${s.source.format})`
    : `ids from ${s.source.file} (${s.source.format})`;
}

export function renderScanSummary(
  s: ScanSummary,
  opts: { width?: number; style?: Style; outFile?: string; outCount?: number } = {},
): string {
  const width = opts.width ?? 80;
  const st = opts.style ?? noStyle;
  const lines: string[] = [];
  const identity = s.request.headers.filter(
    (h) => /^(authorization|cookie|x-api-key)$/i.test(h.name) || h.value.includes('…'),
  );
  lines.push(st.bold(`Scan: ${s.request.method} ${s.request.template}`));
  lines.push(`  records from ${describeSource(s)}`);
  if (identity.length) lines.push(`  as ${identity.map((h) => `${h.name}: ${h.value}`).join(', ')}`);
  lines.push(
    `  state ${s.state}${s.complete ? '' : st.yellow(`  — unfinished: ${n(s.records.pending)} of ${n(s.records.total)} records left; continue with: why403 scan --resume ${s.state}`)}`,
  );
  lines.push('');
  const statuses = Object.entries(s.byStatus)
    .sort(([a], [b]) => (a === 'error' ? 1 : b === 'error' ? -1 : Number(a) - Number(b)))
    .map(([k, v]) => {
      const label = k === 'error' ? 'no answer' : `${k} ${STATUS_CODES[Number(k)] ?? ''}`.trim();
      const text = `${label}: ${n(v)}`;
      return isDenial(Number(k)) ? st.red(text) : k === 'error' ? st.yellow(text) : text;
    });
  lines.push(
    `${st.bold(`Records: ${n(s.records.done)}`)}${s.records.done < s.records.total ? ` of ${n(s.records.total)}` : ''}   ${statuses.join('   ')}`,
  );
  if (s.duplicates) lines.push(st.dim(`  (${plural(s.duplicates, 'id')} given more than once, fetched once)`));
  if (s.listEnd) lines.push(st.yellow(`  the list was cut short: ${s.listEnd}`));

  if (s.signatures.length) {
    lines.push('');
    lines.push(
      st.bold(
        `Denied: ${n(s.records.denied)} record${s.records.denied === 1 ? '' : 's'}, ${plural(s.signatures.length, 'distinct answer')} (same producer, cause and body shape)`,
      ),
    );
    for (const sig of s.signatures) {
      lines.push('');
      const ex = sig.examples.join(', ') + (sig.count > sig.examples.length ? ', …' : '');
      lines.push(
        st.bold(`  [${sig.id}] ${n(sig.count)} × ${sig.status} — ${sig.producer} (${sig.layer}), ${sig.cause}`),
      );
      lines.push(st.dim(wrap(`e.g. ${ex}`, width, '    ')));
      lines.push(st.dim(`    The diagnosis of ${sig.examples[0]}:`));
      lines.push(
        renderTerminal(sig.report, { width: width - 6, style: st })
          .trimEnd()
          .split('\n')
          .map((l) => (l ? `      ${l}` : l))
          .join('\n'),
      );
    }
  }

  lines.push('');
  lines.push(st.bold('What separates the forbidden records from the allowed ones:'));
  if (s.separation.length)
    for (const sep of s.separation)
      lines.push(wrap(`${sep.exact ? '' : '(mostly) '}${sep.statement}`, width, '    ', '  • '));
  else lines.push(wrap(s.separationNote ?? 'nothing found', width, '    ', '  '));
  if (s.separation.some((x) => x.exact))
    lines.push(
      st.dim(
        wrap(
          "A record-level rule on that field is the likely restriction (cause field-restricted or not-owner): compare it with the identity's grants.",
          width,
          '    ',
          '    ',
        ),
      ),
    );

  if (s.errors.length) {
    lines.push('');
    lines.push(
      st.bold(
        st.yellow(`Errors: ${plural(s.records.errors, 'record')} without a usable answer (recorded, not dropped)`),
      ),
    );
    for (const e of s.errors)
      lines.push(wrap(`${n(e.count)} × ${clip(e.error, 160)}  (e.g. ${e.examples.join(', ')})`, width, '    ', '  • '));
    lines.push(
      st.dim(
        wrap(
          `Try them again with: why403 scan --resume ${s.state} --retry-errors (and the same -H credential)`,
          width,
          '    ',
          '    ',
        ),
      ),
    );
  }
  if (opts.outFile) {
    lines.push('');
    lines.push(`Forbidden ids written to ${opts.outFile} (${n(opts.outCount ?? 0)}).`);
  }
  return lines.join('\n') + '\n';
}

export function renderScanDiff(d: ScanDiff, opts: { width?: number; style?: Style } = {}): string {
  const width = opts.width ?? 80;
  const st = opts.style ?? noStyle;
  const lines: string[] = [st.bold(`Scan diff: ${d.before} → ${d.after}`)];
  for (const w of d.warnings) lines.push(st.yellow(wrap(`warning: ${w}`, width, '  ')));
  const c = d.counts;
  lines.push(
    `  ${st.red(`newly forbidden: ${n(c.newlyForbidden)}`)}   ${st.green(`newly allowed: ${n(c.newlyAllowed)}`)}   other changes: ${n(c.otherChanges)}   unchanged: ${n(c.unchanged)}`,
  );
  if (c.onlyBefore || c.onlyAfter)
    lines.push(`  only in the first scan: ${n(c.onlyBefore)}   only in the second: ${n(c.onlyAfter)}`);
  const status = (s: number | null) => (s === null ? 'no answer' : String(s));
  const section = (title: string, entries: ScanDiff['newlyForbidden'], total: number) => {
    if (!entries.length) return;
    lines.push('');
    lines.push(st.bold(`${title} (${n(total)}${total > entries.length ? `, first ${n(entries.length)} shown` : ''}):`));
    for (const e of entries)
      lines.push(
        `  ${e.id}  ${status(e.before)} → ${status(e.after)}${e.producer ? `  ${e.producer}, ${e.cause}` : ''}`,
      );
  };
  section('Newly forbidden', d.newlyForbidden, c.newlyForbidden);
  section('Newly allowed', d.newlyAllowed, c.newlyAllowed);
  section('Other status changes', d.otherChanges, c.otherChanges);
  return lines.join('\n') + '\n';
}
