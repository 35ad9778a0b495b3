// Terminal view of a credential inspection (`why403 token`). Every line fits
// `width` columns: long values (a claim, a URL, an id) are cut across lines,
// never left to run past the edge — except the credential itself, shown whole
// with --show-secrets.
import type { CredentialReport } from '../model/credential.ts';
import { noStyle, wrap, type Style } from './text.ts';

/** Narrower than this, lines would be mostly indent: render as if this wide. */
const MIN_WIDTH = 40;
const LABEL = 14;

export function renderCredential(report: CredentialReport, opts: { style?: Style; width?: number } = {}): string {
  const s = opts.style ?? noStyle;
  const width = Math.max(MIN_WIDTH, opts.width ?? 80);
  const lines: string[] = [];
  const fact = (label: string, value: string) =>
    wrap(value, width, ' '.repeat(LABEL), `  ${label.padEnd(LABEL - 3)} `, { breakLong: true });
  if (!report.items.length) lines.push('No credential recognised.');
  for (const item of report.items) {
    // The kind is styled after wrapping, so colour codes do not count as columns.
    // The display is wrapped between words only: with --show-secrets it is
    // the credential itself, which must stay whole to be copied.
    const head = wrap(item.display, width, '    ', `${item.kind}  ${item.location}  `);
    lines.push(s.bold(item.kind) + head.slice(item.kind.length));
    const facts: [string, string | undefined][] = [
      ['principal', item.principal],
      ['subject', item.subject],
      ['issuer', item.issuer],
      ['audience', item.audience?.join(', ')],
      ['tenant', item.tenant],
      ['issued', item.issuedAt],
      ['not before', item.notBefore],
      ['expires', item.expiresAt],
      ['scopes', item.scopes?.join(' ')],
      ['roles', item.roles?.join(' ')],
    ];
    for (const [k, v] of facts) if (v) lines.push(fact(k, v));
    if (item.header) lines.push(s.dim(fact('header', JSON.stringify(item.header))));
    if (item.claims) {
      // One claim a line, its value as JSON; a long value continues below it.
      const claims = Object.entries(item.claims).map(([k, v], i) =>
        wrap(
          `${k}: ${JSON.stringify(v) ?? String(v)}`,
          width,
          ' '.repeat(LABEL + 2),
          i ? ' '.repeat(LABEL) : `  ${'claims'.padEnd(LABEL - 3)} `,
          { breakLong: true },
        ),
      );
      if (claims.length) lines.push(s.dim(claims.join('\n')));
    }
  }
  for (const f of report.findings)
    lines.push(s.yellow(wrap(`! ${f.text} (${f.cause})`, width, '    ', '  ', { breakLong: true })));
  lines.push(
    s.dim(
      wrap(
        `clock: local ${report.clock.local}${report.clock.server ? `, server ${report.clock.server}` : ''}`,
        width,
        '       ',
        '',
      ),
    ),
  );
  return lines.join('\n') + '\n';
}
