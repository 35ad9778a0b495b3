// Turns what credential inspection observed into the report's findings: each
// observation is judged by the first rule that says what it means. The
// engine only orders and records; the causes and weights are the rules'.
import type { CredentialFinding, CredentialInspection, CredentialReport } from '../model/credential.ts';
import type { Rule } from '../model/rule.ts';

export function judgeCredential(rules: readonly Rule[], inspection: CredentialInspection): CredentialReport {
  const { observations, clock, ...found } = inspection;
  const findings: CredentialFinding[] = observations.map((o) => {
    let verdict;
    for (const rule of rules) if ((verdict = rule.judge?.(o))) break;
    // An observation no rule speaks for stays in the report, as a fact with no weight.
    const { cause, weight } = verdict ?? { cause: 'unknown', weight: 0 };
    return { id: o.id, cause, weight, text: o.text, source: o.source };
  });
  // Strongest first; observations of equal weight keep the order they were made in.
  return { ...found, findings: findings.sort((a, b) => b.weight - a.weight), clock };
}
