// An incident note to paste into a ticket: request, evidence, diagnosis, what to try.
import type { Fix, Report } from '../model/report.ts';
import { probeChange } from './text.ts';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  const top = report.causes[0];
  out.push(
    `## ${report.status} ${report.statusText ?? ''} on \`${report.request.method} ${report.request.url}\``.replace(
      '  ',
      ' ',
    ),
  );
  out.push('');
  out.push(report.headline);
  if (report.statusMismatch) out.push('', `> **Note:** ${report.statusMismatch}`);
  out.push('', '### Diagnosis', '');
  if (report.deniedBy)
    out.push(
      `- **Who said no:** ${report.deniedBy.product} (${report.deniedBy.layer}), confidence ${report.deniedBy.confidence.toFixed(2)}${report.deniedBy.guessed ? ' — a guess' : ''}`,
    );
  if (top)
    out.push(`- **Most likely cause:** \`${top.id}\` (${top.likelihood}, ${top.score.toFixed(2)}) — ${top.summary}`);
  if (top?.gap)
    out.push(
      `- **Required:** ${top.gap.required.join(', ') || 'unknown'}; **held:** ${top.gap.held.join(', ') || 'none'}`,
    );
  if (report.causes.length > 1) {
    out.push('', '| # | cause | likelihood | score | summary |', '|---|---|---|---|---|');
    report.causes.forEach((c, i) =>
      out.push(`| ${i + 1} | \`${c.id}\` | ${c.likelihood} | ${c.score.toFixed(2)} | ${esc(c.summary)} |`),
    );
  }
  const evidence = [...(report.deniedBy?.evidence ?? []), ...(top?.evidence ?? [])];
  if (evidence.length) {
    out.push('', '### Evidence', '');
    for (const e of evidence) out.push(`- \`${e.source}\`: ${esc(e.text)}`);
  }
  if (report.credential.items.length || report.credential.findings.length) {
    out.push('', '### Credential', '');
    for (const i of report.credential.items)
      out.push(`- ${i.kind} in \`${i.location}\`: \`${i.display}\`${i.expiresAt ? `, expires ${i.expiresAt}` : ''}`);
    for (const f of report.credential.findings) out.push(`- ⚠ ${f.text}`);
  }
  const item = (f: Fix, when: string) => {
    out.push(`- [ ] **${f.title}** (${f.difficulty}${when})`);
    if (f.commands?.length) out.push('', '  ```sh', ...f.commands.map((c) => `  ${c}`), '  ```', '');
    if (f.verify) out.push(`  Then check: ${f.verify}`);
  };
  if (report.thin) {
    out.push('', '### Thin evidence', '', report.thin.summary, '');
    for (const f of report.thin.steps) item(f, '');
  }
  const fixes = report.causes.slice(0, 2).flatMap((c) => c.fixes.map((f) => ({ cause: c.id, ...f })));
  if (fixes.length) {
    out.push('', '### What to try', '');
    for (const f of fixes) item(f, `, if \`${f.cause}\``);
  }
  if (report.probes.length) {
    out.push('', '### Probes', '', '| probe | request | status | meaning |', '|---|---|---|---|');
    for (const p of report.probes) {
      const change = probeChange(p);
      out.push(
        `| ${p.name} | ${esc(`${p.request?.method ?? ''} ${change}`.trim())} | ${p.status ?? '—'} | ${esc(p.meaning)} |`,
      );
    }
    if (report.probing)
      out.push(
        '',
        `${report.probing.sent} of ${report.probing.budget} probe requests sent${report.probing.stopped ? `; stopped: ${report.probing.stopped}` : ''}.`,
      );
  }
  if (report.notes.length) {
    out.push('', '### Notes', '');
    for (const n of report.notes) out.push(`- ${n}`);
  }
  out.push(
    '',
    `<sub>why403 · ${report.schema} · source: ${report.source.kind} ${report.source.name}${report.source.index !== undefined ? ` #${report.source.index + 1}` : ''}</sub>`,
    '',
  );
  return out.join('\n');
}
