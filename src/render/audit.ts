// `why403 audit` for a person and a CI log (terminal) and for a PR comment
// (Markdown): who was asked as whom, the matrix of what each identity got,
// each unexpected answer with its diagnosis, and what was skipped, sent
// unsafely or changed since the baseline. Pure: (AuditResult, options) →
// string. Everything in the result came from a server or a file, so every
// string is made printable (no terminal control, no bidi override) before it
// is laid out, and every URL is redacted once more if it was not already.
import type { AuditCell, AuditFinding, AuditResult, BaselineChange, FindingKind, GrantsFrom } from '../audit/model.ts';
import type { Gap } from '../model/report.ts';
import { redactUrl } from '../credentials/redact.ts';
import { printable } from '../errors.ts';
import { clip, displayWidth, noStyle, wrap, type Style } from './text.ts';

type Identity = AuditResult['identities'][number];
type Operation = AuditResult['operations'][number];

/** Narrower than this, the layout cannot keep an operation and one identity on a line. */
const MIN_WIDTH = 40;
/** An identity's column is at most this wide; a longer name is clipped. */
const MAX_IDENTITY_COLUMN = 24;
/** Between two columns of the matrix. */
const GAP = '  ';

/** A fact, a note or a reason longer than this is cut: a server's message is not a page of the report. */
const MAX_TEXT = 600;

const REDACTED = /…\(\d+ chars\)/;

/** Text from the result as it may be shown: printable, one line, bounded. */
const bounded = (s: string) => clip(printable(s), MAX_TEXT);

/** A URL as it may be shown: redacted, unless it already was (redacting twice would miscount the length). */
export function shownUrl(url: string): string {
  return printable(REDACTED.test(url) ? url : redactUrl(url));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const statusText = (status: number | null) => (status === null ? 'no answer' : String(status));

/** `s` on one line, at most `max` columns wide (wide characters count two), with an ellipsis when cut. */
export function clipColumns(s: string, max: number): string {
  const one = clip(printable(s), Number.MAX_SAFE_INTEGER);
  return displayWidth(one) <= max ? one : headColumns(one, max - 1) + '…';
}

/** The first `max` columns of `s`, cut between characters. */
function headColumns(s: string, max: number): string {
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = displayWidth(ch);
    if (w + cw > max) break;
    out += ch;
    w += cw;
  }
  return out;
}

/**
 * `s` on one line, at most `max` columns, cut in the middle when too long:
 * the end of a path or a name ("…/secrets/{id}", "…-12") is what tells two
 * of them apart, so both ends stay.
 */
export function clipMiddle(s: string, max: number): string {
  const one = clip(printable(s), Number.MAX_SAFE_INTEGER);
  if (displayWidth(one) <= max) return one;
  const head = headColumns(one, Math.floor((max - 1) * 0.4));
  const chars = [...one].reverse().join('');
  const tail = [...headColumns(chars, max - 1 - displayWidth(head))].reverse().join('');
  return `${head}…${tail}`;
}

const padColumns = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - displayWidth(s)));

/** What a finding is, in words a reviewer reads first. */
export function findingTitle(f: AuditFinding): string {
  const titles: Record<FindingKind, string> = {
    open: 'OPEN: allowed, expected denied (broken access control)',
    regression: 'REGRESSION: denied, expected allowed',
    hidden: 'HIDDEN: answered 404 to an identity that may not see it',
    'denied-with-success': `DENIED WITH ${statusText(f.status)}: refused in the body, the status says success`,
    'not-found': 'NOT FOUND: 404 for every identity, expected allowed (nothing to judge)',
    error: f.status === null ? 'ERROR: no answer' : `ERROR: answered ${f.status}, which is neither an allow nor a deny`,
  };
  return titles[f.kind];
}

function gapText(gap: Gap | undefined): string | undefined {
  if (!gap) return undefined;
  return `${gap.required.join(', ') || '(unknown)'}; held: ${gap.held.join(', ') || '(none)'}`;
}

/** A finding's detail as labelled one-line facts, shared by every renderer (the JUnit one too). */
export function findingFacts(f: AuditFinding): { label: string; text: string }[] {
  const facts: { label: string; text: string }[] = [];
  const add = (label: string, text: string | undefined) => {
    if (text) facts.push({ label, text: bounded(text) });
  };
  const report = f.report;
  const top = report?.causes[0];
  add('request', `${f.method} ${shownUrl(f.url)} as ${f.identity} → ${statusText(f.status)}`);
  add('summary', f.summary);
  add(`expected ${f.expected}`, f.expectedWhy);
  add('required', gapText(f.gap ?? top?.gap));
  add('error', f.error);
  if (top) add('top cause', `${top.id} (${top.score.toFixed(2)}) — ${top.summary}`);
  if (report?.deniedBy)
    add(
      'said by',
      `${report.deniedBy.product} (${report.deniedBy.layer})${report.deniedBy.guessed ? ', a guess' : ''}`,
    );
  const fix = top?.fixes[0] ?? report?.thin?.steps[0];
  if (fix) add('fix', fix.commands?.length ? `${fix.title} — $ ${fix.commands[0]}` : fix.title);
  return facts;
}

/** Failing findings first, then warnings; in the order the audit found them within each. */
/**
 * With a baseline, the cells whose verdict changed (by cellKey), and how;
 * undefined without one. A report against a baseline shows only these.
 */
export function changedCells(r: AuditResult): Map<string, BaselineChange['change']> | undefined {
  if (!r.baseline) return undefined;
  return new Map(r.baseline.changes.map((c) => [cellKey(c.operation, c.identity), c.change]));
}

/** Failing findings first; against a baseline, only those of cells that changed. */
export function orderedFindings(r: AuditResult): AuditFinding[] {
  const changed = changedCells(r);
  const shown = changed ? r.findings.filter((f) => changed.has(cellKey(f.operation, f.identity))) : r.findings;
  return [...shown.filter((f) => f.severity === 'fail'), ...shown.filter((f) => f.severity === 'warn')];
}

type CellTone = 'ok' | 'fail' | 'warn' | 'dim';

/** A cell as text (`✓ 403`, `✗ 200`, `! 404`, `– skip`, `? 200`, `✗ ERR`) and how it is coloured. */
export function cellText(cell: AuditCell | undefined, r: AuditResult): { text: string; tone: CellTone } {
  if (!cell || cell.verdict === 'skipped') return { text: '– skip', tone: 'dim' };
  const status = cell.status === null ? 'ERR' : String(cell.status);
  const finding = cell.finding !== undefined ? r.findings[cell.finding] : undefined;
  if (finding?.severity === 'fail' || (!finding && cell.holds === false)) return { text: `✗ ${status}`, tone: 'fail' };
  if (finding?.severity === 'warn') return { text: `! ${status}`, tone: 'warn' };
  if (cell.holds === true) return { text: `✓ ${status}`, tone: 'ok' };
  return { text: `? ${status}`, tone: 'dim' };
}

function toned(text: string, tone: CellTone, s: Style): string {
  if (tone === 'ok') return s.green(text);
  if (tone === 'fail') return s.red(text);
  if (tone === 'warn') return s.yellow(text);
  return s.dim(text);
}

export const cellKey = (operation: string, identity: string) => `${operation}\u0000${identity}`;

export function cellIndex(r: AuditResult): Map<string, AuditCell> {
  return new Map(r.cells.map((c) => [cellKey(c.operation, c.identity), c]));
}

export const operationLabel = (op: { method: string; path: string }) => printable(`${op.method} ${op.path}`);

function grantsFrom(from: GrantsFrom): string {
  if (from === 'token') return 'from the token';
  if (from === 'declared') return 'declared';
  if (from === 'none') return 'none held';
  return 'unknown: an opaque token and nothing declared';
}

/** "read:orders, write:orders (from the token)", "(unknown: …)". */
export function grantsValue(held: string[], from: GrantsFrom): string {
  return held.length ? `${held.join(', ')} (${grantsFrom(from)})` : `(${grantsFrom(from)})`;
}

function identityLine(i: Identity): string {
  return bounded(
    `${i.name}: ${i.credential ? `${i.credential} (${i.origin})` : 'no credential'}; scopes ${grantsValue(i.scopes, i.scopesFrom)}; roles ${grantsValue(i.roles, i.rolesFrom)}`,
  );
}

export function describeSource(r: AuditResult): string {
  const kind = r.source.kind === 'openapi' ? 'OpenAPI' : 'audit file';
  return printable(`${kind} ${r.source.name}${r.source.title ? ` (${r.source.title})` : ''}`);
}

export function summaryLine(r: AuditResult): string {
  const s = r.summary;
  return `${plural(s.cells, 'cell')}: ${s.holds} hold, ${s.failing} failing, ${plural(s.warnings, 'warning')}, ${s.unjudged} unjudged, ${s.skipped} skipped · ${plural(r.requests.sent, 'request')}`;
}

export const LEGEND = '✓ holds · ✗ failing · ! warning · ? nothing expected · – skipped · ERR no answer';

interface MatrixLayout {
  operationWidth: number;
  columnWidths: number[];
  /** Identity indexes, one list per block of columns that fits the width. */
  blocks: number[][];
}

/**
 * Widths and blocks for the matrix: the operation column keeps its full
 * width when every identity fits beside it, and is clipped (to no less than
 * about two fifths of the line) before identities are split into blocks.
 */
function layoutMatrix(r: AuditResult, width: number, labels: string[]): MatrixLayout {
  const columnWidths = r.identities.map((i) =>
    Math.max(6, Math.min(MAX_IDENTITY_COLUMN, displayWidth(printable(i.name)))),
  );
  const widest = Math.max(9, ...labels.map(displayWidth));
  const allColumns = columnWidths.reduce((a, w) => a + GAP.length + w, 0);
  const widestColumn = Math.max(0, ...columnWidths);
  let operationWidth = Math.min(widest, Math.max(width - allColumns, Math.floor(width * 0.4)));
  operationWidth = Math.max(1, Math.min(operationWidth, width - GAP.length - widestColumn));
  const blocks: number[][] = [];
  let block: number[] = [];
  let used = operationWidth;
  columnWidths.forEach((w, i) => {
    if (block.length && used + GAP.length + w > width) {
      blocks.push(block);
      block = [];
      used = operationWidth;
    }
    block.push(i);
    used += GAP.length + w;
  });
  if (block.length) blocks.push(block);
  return { operationWidth, columnWidths, blocks };
}

function matrixLines(r: AuditResult, width: number, s: Style): string[] {
  if (!r.operations.length || !r.identities.length) return ['  (no operation was sent as any identity)'];
  const labels = r.operations.map(operationLabel);
  const { operationWidth, columnWidths, blocks } = layoutMatrix(r, width, labels);
  const cells = cellIndex(r);
  const changed = changedCells(r);
  // Against a baseline, only the operations with a changed cell.
  const rows = r.operations
    .map((op, o) => ({ op, o }))
    .filter(({ op }) => !changed || r.identities.some((i) => changed.has(cellKey(op.id, i.name))));
  if (!rows.length) return ['  No cell changed against the baseline.'];
  const out: string[] = [];
  blocks.forEach((block, b) => {
    if (blocks.length > 1) {
      const first = block[0]! + 1;
      const last = block[block.length - 1]! + 1;
      if (b > 0) out.push('');
      out.push(s.dim(clipColumns(`identities ${first}–${last} of ${r.identities.length}`, width)));
    }
    const head = block
      .map((i) => padColumns(clipMiddle(r.identities[i]!.name, columnWidths[i]!), columnWidths[i]!))
      .join(GAP);
    out.push(s.bold(`${padColumns('operation', operationWidth)}${GAP}${head}`.trimEnd()));
    rows.forEach(({ op, o }) => {
      const row = block.map((i) => {
        const { text, tone } = cellText(cells.get(cellKey(op.id, r.identities[i]!.name)), r);
        return toned(padColumns(text, columnWidths[i]!), tone, s);
      });
      out.push(`${padColumns(clipMiddle(labels[o]!, operationWidth), operationWidth)}${GAP}${row.join(GAP)}`.trimEnd());
    });
  });
  return out;
}

/** "GET /orders/{id}", with the operation's id when it is a name of its own. */
function findingOperation(f: AuditFinding, operations: Map<string, Operation>): string {
  const op = operations.get(f.operation);
  if (!op) return printable(f.operation);
  const label = operationLabel(op);
  return op.id === `${op.method} ${op.path}` ? label : `${label} (${printable(op.id)})`;
}

function findingLines(f: AuditFinding, operations: Map<string, Operation>, width: number, s: Style): string[] {
  const mark = f.severity === 'fail' ? s.red('✗') : s.yellow('!');
  const title = findingTitle(f);
  const out = [wrap(`${mark} ${s.bold(f.severity === 'fail' ? s.red(title) : s.yellow(title))}`, width, '    ', '  ')];
  out.push(wrap(`operation ${findingOperation(f, operations)}`, width, '      ', '    ', { breakLong: true }));
  for (const fact of findingFacts(f)) {
    const text = fact.label === 'summary' ? fact.text : `${fact.label}: ${fact.text}`;
    out.push(wrap(text, width, '      ', '    ', { breakLong: true }));
  }
  return out;
}

function baselineLine(c: BaselineChange): string {
  return printable(`${c.operation} as ${c.identity}: ${c.before} → ${c.after}`);
}

/** The baseline changes, grouped: newly open first, since that is what a reviewer must see. */
export function baselineGroups(r: AuditResult): { title: string; changes: BaselineChange[] }[] {
  const changes = r.baseline?.changes ?? [];
  return [
    { title: 'newly open (denied before, allowed now)', changes: changes.filter((c) => c.change === 'newly-open') },
    {
      title: 'newly denied (allowed before, denied now)',
      changes: changes.filter((c) => c.change === 'newly-denied'),
    },
    { title: 'other changes', changes: changes.filter((c) => c.change === 'other') },
  ].filter((g) => g.changes.length);
}

function tailLines(r: AuditResult, width: number, s: Style): string[] {
  const out: string[] = [];
  const item = (text: string) => out.push(wrap(bounded(text), width, '      ', '    ', { breakLong: true }));
  if (r.skipped.length) {
    out.push('', s.bold(`Skipped operations (${r.skipped.length})`));
    for (const k of r.skipped) item(`${k.method} ${k.path} — ${k.reason}`);
  }
  if (r.requests.unsafe.length) {
    out.push('', s.bold(s.yellow(`Unsafe requests sent (${r.requests.unsafe.length})`)));
    for (const u of r.requests.unsafe)
      item(`${u.method} ${shownUrl(u.url)} as ${u.identity} → ${statusText(u.status)}`);
  }
  if (r.requests.stopped)
    out.push('', s.yellow(wrap(`Sending stopped early: ${printable(r.requests.stopped)}`, width, '  ', '')));
  if (r.baseline) {
    const b = r.baseline;
    out.push('', s.bold(clipColumns(`Against the baseline ${b.file}`, width)));
    out.push(
      `  ${b.newlyOpen} newly open, ${b.newlyDenied} newly denied, ${plural(b.changes.length, 'change')} in all`,
    );
    for (const g of baselineGroups(r)) {
      out.push(`  ${g.title}:`);
      for (const c of g.changes) item(baselineLine(c));
    }
  }
  if (r.notes.length) {
    out.push('', s.bold('Notes'));
    for (const n of r.notes) item(n);
  }
  return out;
}

export function renderAuditTerminal(r: AuditResult, opts: { width?: number; style?: Style } = {}): string {
  const width = Math.max(MIN_WIDTH, opts.width ?? 80);
  const s = opts.style ?? noStyle;
  const out: string[] = [];
  out.push(s.bold(clipColumns(`Audit of ${describeSource(r)}`, width)));
  out.push(wrap(`base URL ${shownUrl(r.baseUrl)}`, width, '    ', '  ', { breakLong: true }));
  for (const i of r.identities) out.push(wrap(identityLine(i), width, '      ', '  as ', { breakLong: true }));
  out.push('');
  out.push(...matrixLines(r, width, s));
  out.push(s.dim(wrap(LEGEND, width)));
  const findings = orderedFindings(r);
  if (findings.length) {
    const failing = findings.filter((f) => f.severity === 'fail').length;
    out.push('', s.bold(`Findings: ${failing} failing, ${plural(findings.length - failing, 'warning')}`));
    const operations = new Map(r.operations.map((o) => [o.id, o]));
    for (const f of findings) out.push('', ...findingLines(f, operations, width, s));
  } else out.push('', s.green(wrap('No findings: every cell that was judged holds.', width, '  ', '')));
  out.push(...tailLines(r, width, s));
  const line = wrap(summaryLine(r), width, '  ', '');
  out.push('', r.summary.failing ? s.red(line) : r.summary.warnings ? s.yellow(line) : s.green(line));
  return out.join('\n') + '\n';
}

/** Text for a Markdown table cell or list item: one bounded line, `|` escaped, no raw HTML. */
export function mdText(s: string): string {
  return bounded(s).replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

/**
 * A code span that holds any text: the fence is longer than any run of
 * backticks inside. In a table cell `|` is escaped too (GitHub reads the
 * escape inside code spans there, and only there).
 */
export function mdCode(s: string, inTable = false): string {
  const text = inTable ? printable(s).replace(/\|/g, '\\|') : printable(s);
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function markdownFinding(f: AuditFinding, operations: Map<string, Operation>): string[] {
  const out = [
    `- ${f.severity === 'fail' ? '✗' : '!'} **${mdText(findingTitle(f))}** — ${mdCode(findingOperation(f, operations))} as **${mdText(f.identity)}** → ${statusText(f.status)}`,
  ];
  for (const fact of findingFacts(f)) {
    if (fact.label === 'request') out.push(`  - request: ${mdCode(fact.text)}`);
    else if (fact.label === 'summary') out.push(`  - ${mdText(fact.text)}`);
    else out.push(`  - ${fact.label}: ${mdText(fact.text)}`);
  }
  return out;
}

export function renderAuditMarkdown(r: AuditResult): string {
  const out: string[] = [`## why403 audit: ${mdText(describeSource(r))}`, ''];
  out.push(`Base URL ${mdCode(shownUrl(r.baseUrl))}`, '');
  if (r.identities.length) {
    out.push('| identity | credential | scopes | roles |', '|---|---|---|---|');
    for (const i of r.identities)
      out.push(
        `| ${mdText(i.name)} | ${mdText(i.credential ? `${i.credential} (${i.origin})` : 'none')} | ${mdText(grantsValue(i.scopes, i.scopesFrom))} | ${mdText(grantsValue(i.roles, i.rolesFrom))} |`,
      );
    out.push('');
  }
  out.push('### Matrix', '');
  if (r.operations.length && r.identities.length) {
    const cells = cellIndex(r);
    out.push(
      `| operation | ${r.identities.map((i) => mdText(i.name)).join(' | ')} |`,
      `|---|${r.identities.map(() => '---').join('|')}|`,
    );
    const changed = changedCells(r);
    const rows = changed
      ? r.operations.filter((op) => r.identities.some((i) => changed.has(cellKey(op.id, i.name))))
      : r.operations;
    if (!rows.length) out.push('| _no cell changed against the baseline_ |');
    for (const op of rows)
      out.push(
        `| ${mdCode(`${op.method} ${op.path}`, true)} | ${r.identities.map((i) => cellText(cells.get(cellKey(op.id, i.name)), r).text).join(' | ')} |`,
      );
    out.push('', `<sub>${LEGEND}</sub>`, '');
  } else out.push('No operation was sent as any identity.', '');
  const findings = orderedFindings(r);
  const operations = new Map(r.operations.map((o) => [o.id, o]));
  if (findings.length) {
    const failing = findings.filter((f) => f.severity === 'fail').length;
    out.push(`### Findings: ${failing} failing, ${plural(findings.length - failing, 'warning')}`, '');
    for (const f of findings) out.push(...markdownFinding(f, operations));
    out.push('');
  } else out.push('### Findings', '', 'None: every cell that was judged holds.', '');
  if (r.skipped.length) {
    out.push('### Skipped operations', '');
    for (const k of r.skipped) out.push(`- ${mdCode(`${k.method} ${k.path}`)} — ${mdText(k.reason)}`);
    out.push('');
  }
  if (r.requests.unsafe.length) {
    out.push('### Unsafe requests sent', '');
    for (const u of r.requests.unsafe)
      out.push(`- ${mdCode(`${u.method} ${shownUrl(u.url)}`)} as **${mdText(u.identity)}** → ${statusText(u.status)}`);
    out.push('');
  }
  if (r.requests.stopped) out.push(`> Sending stopped early: ${mdText(r.requests.stopped)}`, '');
  if (r.baseline) {
    const b = r.baseline;
    out.push(`### Against the baseline ${mdCode(b.file)}`, '');
    out.push(
      `${b.newlyOpen} newly open, ${b.newlyDenied} newly denied, ${plural(b.changes.length, 'change')} in all.`,
      '',
    );
    for (const g of baselineGroups(r)) {
      out.push(`- ${g.title}:`);
      for (const c of g.changes) out.push(`  - ${mdText(baselineLine(c))}`);
    }
    out.push('');
  }
  if (r.notes.length) {
    out.push('### Notes', '');
    for (const n of r.notes) out.push(`- ${mdText(n)}`);
    out.push('');
  }
  out.push(`**${summaryLine(r)}**`, '');
  return out.join('\n');
}
