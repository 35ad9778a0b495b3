// Compares src/model/vocabulary.ts with the design notes the project was
// started from (../shared/design.md section 2), when they sit beside the
// checkout: every documented cause, layer and producer slug must exist here.
// The tests do not depend on that file (a clone elsewhere has no ../shared);
// .ci/run calls this script where it is present.
//   node scripts/check-design-vocabulary.ts [path/to/design.md]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAUSE_IDS, LAYERS, PRODUCTS } from '../src/model/vocabulary.ts';

const file = process.argv[2] ?? join(import.meta.dirname, '../../shared/design.md');
if (!existsSync(file)) {
  process.stdout.write(`no ${file}: nothing to compare\n`);
  process.exit(0);
}
const text = readFileSync(file, 'utf8');
const section = text.slice(text.indexOf('## 2.'), text.indexOf('## 3.'));
const causes = [
  ...section.slice(section.indexOf('### Causes'), section.indexOf('### Layers')).matchAll(/^\| ([a-z-]+) \|/gm),
]
  .map((m) => m[1])
  .filter((c) => c !== 'id');
const layers = [
  ...section.slice(section.indexOf('### Layers'), section.indexOf('### Producers')).matchAll(/`([a-z-]+)`/g),
].map((m) => m[1]);
const producers = [...section.slice(section.indexOf('### Producers')).matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]);
const examples = new Set(['bitbucket', 'hugging-face']);
const problems = [
  ...causes
    .filter((c) => !(CAUSE_IDS as readonly string[]).includes(c))
    .map((c) => `cause ${c} is in the design notes, not in vocabulary.ts`),
  ...CAUSE_IDS.filter((c) => !causes.includes(c)).map((c) => `cause ${c} is in vocabulary.ts, not in the design notes`),
  ...layers
    .filter((l) => !(LAYERS as readonly string[]).includes(l))
    .map((l) => `layer ${l} is missing from vocabulary.ts`),
  ...producers
    .filter((p) => !examples.has(p) && !(PRODUCTS as readonly string[]).includes(p))
    .map((p) => `producer ${p} is missing from vocabulary.ts`),
];
if (!causes.length || !layers.length || !producers.length) problems.push(`could not read section 2 of ${file}`);
for (const p of problems) process.stderr.write(`${p}\n`);
process.stdout.write(
  problems.length
    ? ''
    : `vocabulary matches ${file} (${causes.length} causes, ${layers.length} layers, ${producers.length} producers)\n`,
);
process.exit(problems.length ? 1 : 0);
