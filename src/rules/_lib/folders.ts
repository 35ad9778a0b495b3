// Where the rules live in a checkout: one folder a rule, src/rules/<id>/ with
// rule.ts, its fixtures and its test. Used by the tester, the generator of
// src/rules/index.generated.ts and the benchmarks — never at run time, where
// the generated index is all there is (a built package has no rule folders).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function rulesDir(): string {
  return join(import.meta.dirname, '..');
}

/** Rule folder names, sorted; folders starting with "_" are helpers, not rules. */
export function ruleFolders(): string[] {
  return readdirSync(rulesDir(), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_') && existsSync(join(rulesDir(), d.name, 'rule.ts')))
    .map((d) => d.name)
    .sort();
}
