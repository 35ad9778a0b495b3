// The rules this version knows. Adding a producer is `npm run new-rule NAME`
// (a folder `src/rules/<id>/` with rule.ts, fixtures and a test), then `npm run
// generate`, which lists it in index.generated.ts (a test fails while the
// index is stale). The index is static so a bundle can hold every rule — a
// built package has no folders to read — and loaded on first use, so commands
// that diagnose nothing never parse it (`token` loads only credential-validity,
// whose verdicts judge the credential; see src/inspect.ts).
import type { Rule } from '../model/rule.ts';

let cached: Promise<Rule[]> | undefined;

export function loadRules(): Promise<Rule[]> {
  cached ??= import('./index.generated.ts').then(({ RULES }) => {
    const rules = [...RULES];
    for (const rule of rules)
      if (!rule?.meta) throw new Error('a rule in src/rules/index.generated.ts has no default-exported rule');
    return rules;
  });
  return cached;
}
