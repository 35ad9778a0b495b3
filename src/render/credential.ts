// Terminal view of a credential inspection (`why403 token`).
import type { CredentialReport } from '../model/credential.ts';
import { noStyle, wrap, type Style } from './text.ts';

export function renderCredential(report: CredentialReport, opts: { style?: Style; width?: number } = {}): string {
  const s = opts.style ?? noStyle;
  const width = opts.width ?? 80;
  const lines: string[] = [];
  if (!report.items.length) lines.push('No credential recognised.');
  for (const item of report.items) {
    lines.push(`${s.bold(item.kind)}  ${item.location}  ${item.display}`);
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
    for (const [k, v] of facts) if (v) lines.push(wrap(v, width, ' '.repeat(14), `  ${k.padEnd(11)} `));
    if (item.header) lines.push(s.dim(wrap(JSON.stringify(item.header), width, ' '.repeat(14), `  ${'header'.padEnd(11)} `)));
    if (item.claims) lines.push(s.dim(wrap(JSON.stringify(item.claims), width, ' '.repeat(14), `  ${'claims'.padEnd(11)} `)));
  }
  for (const f of report.findings) lines.push(s.yellow(wrap(`! ${f.text} (${f.cause})`, width, '    ', '  ')));
  lines.push(s.dim(`clock: local ${report.clock.local}${report.clock.server ? `, server ${report.clock.server}` : ''}`));
  return lines.join('\n') + '\n';
}
