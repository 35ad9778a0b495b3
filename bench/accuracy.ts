// Accuracy of the rule set on its labelled exchanges: every rule fixture,
// labelled from its source (what the product or its documentation says the
// denial is), never from what the rules conclude.
//   npm run bench:accuracy [-- --json]
// Prints top-1 and top-3 cause accuracy, producer and layer accuracy, and
// every miss. Raise the score by fixing rules, never labels.
//
// Then the same exchanges as if their product were unknown to why403: each is
// diagnosed again without the rules that recognise its labelled product. A
// graceful answer names no product (or one below 0.5 confidence) and still
// gives the right layer; naming another product with confidence is a miss.
import { join } from 'node:path';
import { loadRules } from '../src/rules/registry.ts';
import { ruleFolders, rulesDir } from '../src/rules/_lib/folders.ts';
import { loadFixtures, type Fixture } from '../src/rules/_lib/fixtures.ts';
import { diagnoseWith } from '../src/engine/diagnose.ts';

interface Miss {
  file: string;
  label: string;
  got: string;
}

const rules = await loadRules();
const fixtures: Fixture[] = ruleFolders().flatMap((f) => loadFixtures(join(rulesDir(), f, 'fixtures')));
const misses = { top1: [] as Miss[], top3: [] as Miss[], producer: [] as Miss[], layer: [] as Miss[] };
let top1 = 0;
let top3 = 0;
let producer = 0;
let layer = 0;
for (const fx of fixtures) {
  const report = diagnoseWith(rules, fx.exchange, { now: fx.now });
  const ranked = report.causes.map((c) => c.id);
  const file = fx.file.slice(rulesDir().length + 1);
  const got = ranked
    .slice(0, 3)
    .map((id, i) => `${id}:${report.causes[i].score}`)
    .join(', ');
  if (ranked[0] === fx.label.cause) top1++;
  else misses.top1.push({ file, label: fx.label.cause, got });
  if (ranked.slice(0, 3).includes(fx.label.cause)) top3++;
  else misses.top3.push({ file, label: fx.label.cause, got });
  const wantProduct = fx.productHidden ? 'unknown' : fx.label.product;
  if (report.deniedBy?.product === wantProduct) producer++;
  else misses.producer.push({ file, label: wantProduct, got: report.deniedBy?.product ?? '(none)' });
  if (report.deniedBy?.layer === fx.label.layer) layer++;
  else misses.layer.push({ file, label: fx.label.layer, got: report.deniedBy?.layer ?? '(none)' });
}

// Leave-one-product-out.
const unknown = { graceful: 0, layer: 0, total: 0, confidentWrong: [] as Miss[], layerMisses: [] as Miss[] };
const withoutProduct = new Map<string, typeof rules>();
for (const fx of fixtures) {
  if (fx.productHidden) continue;
  const p = fx.label.product;
  if (!withoutProduct.has(p))
    withoutProduct.set(
      p,
      rules.filter((r) => r.meta.product !== p),
    );
  const report = diagnoseWith(withoutProduct.get(p)!, fx.exchange, { now: fx.now });
  const file = fx.file.slice(rulesDir().length + 1);
  unknown.total++;
  const named = report.deniedBy?.product;
  const confident = named && named !== 'unknown' && named !== p && (report.deniedBy?.confidence ?? 0) >= 0.5;
  if (confident)
    unknown.confidentWrong.push({ file, label: `${p} hidden`, got: `${named} (${report.deniedBy?.confidence})` });
  else unknown.graceful++;
  if (report.deniedBy?.layer === fx.label.layer) unknown.layer++;
  else unknown.layerMisses.push({ file, label: fx.label.layer, got: report.deniedBy?.layer ?? '(none)' });
}

const n = fixtures.length;
const pct = (k: number) => `${((100 * k) / n).toFixed(1)}%`;
const result = {
  exchanges: n,
  producers: new Set(fixtures.map((f) => f.label.product).filter((p) => p !== 'unknown')).size,
  top1: top1 / n,
  top3: top3 / n,
  producer: producer / n,
  layer: layer / n,
  misses,
  productUnknown: {
    exchanges: unknown.total,
    graceful: unknown.graceful / unknown.total,
    layer: unknown.layer / unknown.total,
    confidentWrong: unknown.confidentWrong,
    layerMisses: unknown.layerMisses,
  },
};
if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
else {
  const lines = [
    `${n} labelled exchanges (every rule fixture), ${result.producers} producers`,
    `  top-1 cause   ${pct(top1).padStart(6)}  (${top1}/${n})`,
    `  top-3 cause   ${pct(top3).padStart(6)}  (${top3}/${n})`,
    `  producer      ${pct(producer).padStart(6)}  (${producer}/${n})`,
    `  layer         ${pct(layer).padStart(6)}  (${layer}/${n})`,
  ];
  for (const [kind, list] of Object.entries(misses)) {
    if (!list.length) continue;
    lines.push('', `${kind} misses:`);
    for (const m of list) lines.push(`  ${m.file}: labelled ${m.label}; got ${m.got}`);
  }
  const u = unknown.total;
  const upct = (k: number) => `${((100 * k) / u).toFixed(1)}%`;
  lines.push(
    '',
    `The same ${u} exchanges with the rules for their own product left out (an unknown producer):`,
    `  no product named with confidence  ${upct(unknown.graceful).padStart(6)}  (${unknown.graceful}/${u})`,
    `  layer still right                 ${upct(unknown.layer).padStart(6)}  (${unknown.layer}/${u})`,
  );
  if (unknown.confidentWrong.length) {
    lines.push('', 'named another product with confidence:');
    for (const m of unknown.confidentWrong) lines.push(`  ${m.file}: ${m.label}; got ${m.got}`);
  }
  if (unknown.layerMisses.length) {
    lines.push('', 'layer missed without the product rule:');
    for (const m of unknown.layerMisses) lines.push(`  ${m.file}: labelled ${m.label}; got ${m.got}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
