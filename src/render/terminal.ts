// The terminal view: who said no, why, what now — readable at 80 columns.
import type { Cause, Fix, Report } from '../model/report.ts';
import { clip, noStyle, probeChange, wrap, type Style } from './text.ts';

export interface TerminalOptions {
  width?: number;
  style?: Style;
  /** How many causes to show in full (the rest get one line each). */
  detailed?: number;
}

function causeLine(c: Cause, i: number, s: Style): string {
  const tag =
    c.likelihood === 'high'
      ? s.red(c.likelihood)
      : c.likelihood === 'medium'
        ? s.yellow(c.likelihood)
        : s.dim(c.likelihood);
  return `  ${i + 1}. ${s.bold(c.id)}  ${tag} ${c.score.toFixed(2)}`;
}

export function renderTerminal(report: Report, opts: TerminalOptions = {}): string {
  const width = Math.max(40, Math.min(opts.width ?? 80, 120));
  const s = opts.style ?? noStyle;
  const detailed = opts.detailed ?? 2;
  const lines: string[] = [];
  const denied = report.outcome === 'denied' || report.outcome === 'unauthenticated';
  const mark = denied ? s.red('✗') : report.outcome === 'allowed' ? s.green('✓') : s.yellow('•');
  lines.push(
    `${mark} ${s.bold(`${report.status} ${report.statusText ?? ''}`.trim())}  ${clip(`${report.request.method} ${report.request.url}`, width - 12)}`,
  );
  if (report.source.kind === 'har' && report.source.index !== undefined)
    lines.push(s.dim(`  ${clip(`entry #${report.source.index + 1} of ${report.source.name}`, width - 2)}`));
  lines.push(wrap(report.headline, width, '  '));
  if (report.statusMismatch) lines.push(s.yellow(wrap(`! ${report.statusMismatch}`, width, '    ', '  ')));

  if (report.deniedBy) {
    const d = report.deniedBy;
    lines.push('', s.bold('Who said no'));
    const guess = !d.guessed
      ? ''
      : d.product === 'unknown'
        ? ' (a guess: no product recognised)'
        : ` (a guess: the response reads like ${d.product}’s, but nothing in it only ${d.product} sends)`;
    lines.push(`  ${s.cyan(d.product)} · ${d.layer} · confidence ${d.confidence.toFixed(2)}${guess}`);
    for (const e of d.evidence.slice(0, 3)) lines.push(s.dim(`    ${clip(`${e.source}  ${e.text}`, width - 4)}`));
  }

  if (report.causes.length) {
    lines.push('', s.bold('Why'));
    report.causes.forEach((c, i) => {
      lines.push(causeLine(c, i, s));
      if (i >= detailed) return;
      lines.push(wrap(c.summary, width, '     '));
      for (const e of c.evidence.slice(0, 4)) lines.push(s.dim(`     · ${clip(`${e.source}: ${e.text}`, width - 7)}`));
      if (c.gap) {
        lines.push(wrap(`required: ${c.gap.required.join(', ') || '(unknown)'}`, width, '       ', '     '));
        lines.push(wrap(`held:     ${c.gap.held.join(', ') || '(none)'}`, width, '       ', '     '));
      }
    });
  }

  const fixLines = (f: Fix) => {
    lines.push(wrap(`[${f.difficulty}] ${f.title}`, width, '         ', '  '));
    // Commands are never cut: a clipped command cannot be pasted.
    for (const cmd of f.commands ?? []) for (const line of cmd.split('\n')) lines.push(s.cyan(`      $ ${line}`));
    if (f.verify) lines.push(s.dim(wrap(`then check: ${f.verify}`, width, '        ', '      ')));
  };
  if (report.thin) {
    lines.push('', s.bold('Thin evidence'), wrap(report.thin.summary, width, '  ', '  '));
    report.thin.steps.forEach(fixLines);
  }
  const withFixes = report.causes.filter((c, i) => i < detailed && c.fixes.length);
  if (withFixes.length) {
    lines.push('', s.bold('What now'));
    for (const c of withFixes) {
      if (withFixes.length > 1) lines.push(s.dim(`  if ${c.id}:`));
      c.fixes.slice(0, 3).forEach(fixLines);
    }
  }

  const cred = report.credential;
  if (cred.items.length || cred.findings.length) {
    lines.push('', s.bold('Credential'));
    for (const item of cred.items.slice(0, 4)) {
      const bits = [item.kind, item.location, item.display];
      if (item.subject) bits.push(`sub=${item.subject}`);
      // The expiry is what this line is often about: when the line is too
      // long, the display and subject are clipped, never the expiry.
      const expires = item.expiresAt ? `  expires ${item.expiresAt}` : '';
      lines.push(`  ${clip(bits.join('  '), Math.max(12, width - 2 - expires.length))}${expires}`);
      const grants = [...(item.scopes ?? []), ...(item.roles ?? [])];
      if (grants.length) lines.push(s.dim(wrap(`grants: ${grants.join(' ')}`, width, '          ', '    ')));
    }
    for (const f of cred.findings) lines.push(wrap(`! ${f.text}`, width, '    ', '  '));
    if (cred.clock.skewSeconds !== undefined)
      lines.push(
        s.dim(`  clock: server ${cred.clock.server} vs local ${cred.clock.local} (skew ${cred.clock.skewSeconds} s)`),
      );
  } else if (denied && report.request.url) {
    lines.push('', s.dim('Credential: none found in the request.'));
  }

  if (report.probes.length || report.probing) {
    lines.push('', s.bold('Probes'));
    for (const p of report.probes) {
      const change = probeChange(p);
      lines.push(
        `  ${p.name.padEnd(19)} ${String(p.status ?? '—').padEnd(4)} ${clip(`${p.request?.method ?? ''} ${change}${p.reused ? ` (not sent again: ${p.reused}'s answer)` : ''}`.trim(), width - 27)}`,
      );
      lines.push(s.dim(wrap(p.meaning, width, '      ', '      ')));
      const verdict = [...(p.confirms ?? []).map((c) => `+${c}`), ...(p.rulesOut ?? []).map((c) => `−${c}`)].join(' ');
      if (verdict) lines.push(s.dim(wrap(verdict, width, '      ', '      ')));
    }
    const pr = report.probing;
    if (pr) {
      lines.push(s.dim(`  ${pr.sent} of ${pr.budget} probe requests sent`));
      if (pr.stopped) lines.push(s.yellow(wrap(`stopped: ${pr.stopped}`, width, '    ', '  ')));
    }
  }

  const t = report.trace;
  if (t) {
    lines.push('', s.bold('Trace'));
    if (t.redirects.length > 1) for (const r of t.redirects) lines.push(`  ${r.status} ${clip(r.url, width - 8)}`);
    const remote = t.remoteAddress ? `${t.remoteAddress}${t.remotePort ? ':' + t.remotePort : ''}` : 'unknown';
    lines.push(
      `  remote ${remote}${t.tls?.protocol ? `  ${t.tls.protocol}` : ''}${t.tls?.subject ? `  cert ${t.tls.subject}` : ''}`,
    );
    if (t.proxy)
      lines.push(
        wrap(`proxy: ${t.proxy.used ? `used ${t.proxy.url}` : 'not used'} (${t.proxy.reason})`, width, '    ', '  '),
      );
    const tm = t.timings;
    const parts = [
      tm.connect !== undefined ? `connect ${tm.connect} ms` : '',
      tm.tls !== undefined ? `tls ${tm.tls} ms` : '',
      tm.firstByte !== undefined ? `first byte ${tm.firstByte} ms` : '',
      `total ${tm.total} ms`,
    ].filter(Boolean);
    lines.push(s.dim(`  ${parts.join(' · ')}`));
  }

  if (report.notes.length) {
    lines.push('', s.bold('Notes'));
    for (const n of report.notes) lines.push(wrap(`- ${n}`, width, '    ', '  '));
  }
  return lines.join('\n') + '\n';
}
