// What the installed rule set knows: every producer and cause, with the
// layer and the number of real fixtures behind each (`why403 rules`).
import { loadRules } from './rules/registry.ts';
import { FIXTURE_COUNTS } from './rules/index.generated.ts';
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
    // Counted when the index was generated: the package ships no fixtures.
    const counts = FIXTURE_COUNTS[rule.meta.id] ?? { total: 0, causes: {}, productLayers: [] };
    total += counts.total;
    for (const [cause, n] of Object.entries(counts.causes))
      causeFixtures.set(cause as CauseId, (causeFixtures.get(cause as CauseId) ?? 0) + n);
    for (const c of rule.meta.causes) causeRules.set(c, [...(causeRules.get(c) ?? []), rule.meta.id]);
    if (rule.meta.kind === 'producer' && rule.meta.product && rule.meta.product !== 'unknown') {
      const layers = [...new Set([rule.meta.layer!, ...(counts.productLayers as Layer[])])];
      producers.push({
        product: rule.meta.product,
        layers,
        rule: rule.meta.id,
        fixtures: counts.total,
        description: rule.meta.description,
      });
    }
  }
  producers.sort((a, b) => a.product.localeCompare(b.product));
  const causes = CAUSE_IDS.filter((c) => c !== 'unknown').map((id) => ({
    id,
    rules: causeRules.get(id) ?? [],
    fixtures: causeFixtures.get(id) ?? 0,
  }));
  return { producers, causes, fixtures: total };
}
