// Scaffolds a producer rule, like knip's create-new-plugin:
//
//   npm run new-rule NAME [-- --layer LAYER]
//
// writes src/rules/NAME/rule.ts and texts.json from src/rules/_template/, a
// rule.test.ts that runs the rule tester, and fixtures/README.md saying what a
// fixture must hold; adds NAME to the producer slugs in
// src/model/vocabulary.ts when it is new; then regenerates the rule index and
// the docs. The tests fail until the folder holds two real fixtures, each
// naming its source — by design: a rule is only as good as what it was shown.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { LAYERS } from '../src/model/vocabulary.ts';

const FIXTURE_README = `# Fixtures for NAME

One JSON file per real exchange: captured from the running product (\`"source": "captured: …"\`)
or copied from the product's own documentation (\`"source": "https://…"\`). The label is what the
source says the denial means, never what the rule answers:

    {
      "source": "https://… or captured: product x.y on 127.0.0.1 …",
      "label": { "product": "NAME", "layer": "LAYER", "cause": "insufficient-role" },
      "request": { "method": "GET", "url": "https://…", "headers": { "Authorization": "Bearer <redacted>" } },
      "response": { "status": 403, "headers": { "Content-Type": "application/json" }, "body": "…" }
    }

Secrets are fake or redacted. At least two fixtures; see src/rules/_lib/fixtures.ts for every field.
`;

export interface NewRuleOptions {
  name: string;
  layer: string;
  /** The checkout to write into (tests use a copy). */
  root: string;
}

export function newRule({ name, layer, root }: NewRuleOptions): string[] {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name))
    throw new Error(`NAME must be kebab-case (lower-case words joined by "-"), got "${name}"`);
  if (!(LAYERS as readonly string[]).includes(layer))
    throw new Error(`--layer must be one of ${LAYERS.join(', ')}, got "${layer}"`);
  const dir = join(root, 'src/rules', name);
  if (existsSync(dir)) throw new Error(`src/rules/${name} already exists`);
  const template = readFileSync(join(root, 'src/rules/_template/rule.ts'), 'utf8');
  const rule = template
    .replace(/^\/\/ TEMPLATE: copied by[^\n]*\n\/\/ /, '// TODO: ')
    .replace("id: 'template'", `id: '${name}'`)
    .replace("product: 'unknown'", `product: '${name}'`)
    .replace("layer: 'application'", `layer: '${layer}'`);
  mkdirSync(join(dir, 'fixtures'), { recursive: true });
  const written = [
    join(dir, 'rule.ts'),
    join(dir, 'texts.json'),
    join(dir, 'rule.test.ts'),
    join(dir, 'fixtures/README.md'),
  ];
  writeFileSync(written[0]!, rule);
  writeFileSync(written[1]!, readFileSync(join(root, 'src/rules/_template/texts.json'), 'utf8'));
  writeFileSync(
    written[2]!,
    "import rule from './rule.ts';\nimport { testRule } from '../_lib/tester.ts';\n\ntestRule(rule, import.meta.dirname);\n",
  );
  writeFileSync(written[3]!, FIXTURE_README.replaceAll('NAME', name).replaceAll('LAYER', layer));
  const vocabulary = join(root, 'src/model/vocabulary.ts');
  const text = readFileSync(vocabulary, 'utf8');
  if (!text.includes(`'${name}'`)) {
    writeFileSync(
      vocabulary,
      text.replace("  'why403',\n  'unknown',\n] as const;", `  '${name}',\n  'why403',\n  'unknown',\n] as const;`),
    );
    written.push(vocabulary);
  }
  return written;
}

if (import.meta.main) {
  try {
    const { positionals, values } = parseArgs({
      allowPositionals: true,
      options: { layer: { type: 'string', default: 'application' } },
    });
    if (positionals.length !== 1) throw new Error('usage: npm run new-rule NAME [-- --layer LAYER]');
    const root = join(import.meta.dirname, '..');
    const files = newRule({ name: positionals[0]!, layer: values.layer, root });
    execFileSync(process.execPath, [join(root, 'scripts/generate-indexes.ts')], { stdio: 'inherit' });
    execFileSync(process.execPath, [join(root, 'scripts/generate-docs.ts')], { stdio: 'inherit' });
    process.stdout.write(
      `${files.map((f) => `wrote ${f.slice(root.length + 1)}`).join('\n')}\nNext: add two real fixtures under src/rules/${positionals[0]}/fixtures/, fill in the TODOs in rule.ts, then npm test.\n`,
    );
  } catch (err) {
    process.stderr.write(`new-rule: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
