// Rules are discovered from their folders: adding a producer is adding a
// folder `src/rules/<id>/` with `rule.ts`, fixtures and a test; nothing else
// needs to know about it. Folders starting with "_" are not rules.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Rule } from './define.ts';

let cached: Promise<Rule[]> | undefined;

export function rulesDir(): string {
  return import.meta.dirname;
}

export function ruleFolders(): string[] {
  return readdirSync(rulesDir(), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_') && existsSync(join(rulesDir(), d.name, 'rule.ts')))
    .map((d) => d.name)
    .sort();
}

export function loadRules(): Promise<Rule[]> {
  cached ??= Promise.all(
    ruleFolders().map(async (name) => {
      const mod = (await import(pathToFileURL(join(rulesDir(), name, 'rule.ts')).href)) as { default: Rule };
      if (!mod.default?.meta) throw new Error(`src/rules/${name}/rule.ts has no default-exported rule`);
      if (mod.default.meta.id !== name) throw new Error(`rule id "${mod.default.meta.id}" does not match its folder "${name}"`);
      return mod.default;
    }),
  );
  return cached;
}
