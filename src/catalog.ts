// What the installed rule set knows: every producer and cause, with the
// layer and the number of real fixtures behind each (`why403 rules`).
import { join } from 'node:path';
import { loadRules, rulesDir } from './rules/registry.ts';
import { loadFixtures } from './rules/_lib/fixtures.ts';
import { CAUSE_IDS, type CauseId, type Layer, type Product } from './model/vocabulary.ts';

export interface CatalogProducer {
  product: Product;
  layers: Layer[];
  rule: string;
  fixtures: number;
  description: string;
}

export interface CatalogCause {
  id: CauseId;
  /** Rules that may conclude it. */
  rules: string[];
  /** Fixtures labelled with it. */
  fixtures: number;
}

export interface Catalog {
  producers: CatalogProducer[];
  causes: CatalogCause[];
  fixtures: number;
}

export async function ruleCatalog(): Promise<Catalog> {
  const rules = await loadRules();
  const producers: CatalogProducer[] = [];
  const causeRules = new Map<CauseId, string[]>();
  const causeFixtures = new Map<CauseId, number>();
  let total = 0;
  for (const rule of rules) {
    const fixtures = loadFixtures(join(rulesDir(), rule.meta.id, 'fixtures'));
    total += fixtures.length;
    for (const fx of fixtures) causeFixtures.set(fx.label.cause, (causeFixtures.get(fx.label.cause) ?? 0) + 1);
    for (const c of rule.meta.causes) causeRules.set(c, [...(causeRules.get(c) ?? []), rule.meta.id]);
    if (rule.meta.kind === 'producer' && rule.meta.product && rule.meta.product !== 'unknown') {
      const layers = [...new Set([rule.meta.layer!, ...fixtures.filter((f) => f.label.product === rule.meta.product).map((f) => f.label.layer)])];
      producers.push({ product: rule.meta.product, layers, rule: rule.meta.id, fixtures: fixtures.length, description: rule.meta.description });
    }
  }
  producers.sort((a, b) => a.product.localeCompare(b.product));
  const causes = CAUSE_IDS.filter((c) => c !== 'unknown').map((id) => ({ id, rules: causeRules.get(id) ?? [], fixtures: causeFixtures.get(id) ?? 0 }));
  return { producers, causes, fixtures: total };
}
