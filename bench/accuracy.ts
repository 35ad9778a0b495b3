// Accuracy on labelled denials, each labelled from its source (what the
// product, its documentation or the thread's resolution says the denial was),
// never from what why403 concludes.
//   npm run bench:accuracy [-- --json] [-- --held-out] [-- --held-out-2] [-- --held-out-3] [-- --held-out-4]
//
// 1. Products with a rule: every rule fixture, diagnosed with every rule; and
//    the fixtures captured on real servers again, with the lines the error
//    log gained during the capture given as `explain --log` gives them.
// 2. Products without a rule, several ways:
//    a. leave-one-product-out: each rule fixture again, without the rules
//       that recognise its labelled product, and with base rates counted
//       without that product's fixtures;
//    b. bench/unseen/dev: real denials from products why403 has no rule for
//       (public threads and docs; see bench/unseen/README.md);
//    c. bench/unseen/held-out: a fifth of those, split off by a hash of the
//       file name before any rule was written against them, and scored only
//       with --held-out, so that tuning never sees them;
//    d. bench/unseen/held-out-2: a fresh set from other products, collected
//       after c had been seen, scored only with --held-out-2;
//    e, f. bench/unseen/held-out-3 and held-out-4: fresh sets again, each
//       collected after the one before had been seen, scored only with
//       --held-out-3 and --held-out-4;
//    and bench/frameworks: the default denial answers of frameworks and auth
//       libraries, from the response alone (a seen set).
// Top-1 and top-3 cause, the layer, and "named another product with
// confidence ≥ 0.5" (the worst answer: a wrong product, stated firmly).
// Raise a score by fixing rules, never labels.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRules } from '../src/rules/registry.ts';
import { ruleFolders, rulesDir } from '../src/rules/_lib/folders.ts';
import { loadFixtures, type Fixture } from '../src/rules/_lib/fixtures.ts';
import { diagnoseWith } from '../src/engine/diagnose.ts';
import type { Rule } from '../src/model/rule.ts';
import type { Exchange } from '../src/model/exchange.ts';
import requestContext, { withBaseRates } from '../src/rules/request-context/rule.ts';
import { countBaseRates } from '../scripts/generate-base-rates.ts';
import { reasonsFromLines } from '../src/logs/match.ts';

interface Miss {
  file: string;
  label: string;
  got: string;
}

interface Score {
  exchanges: number;
  /** False for a set whose layer is not labelled. */
  layerLabelled?: boolean;
  top1: number;
  top3: number;
  layer: number;
  /** Named the labelled product (only where the product has a rule). */
  producer?: number;
  confidentWrong: Miss[];
  misses: { top1: Miss[]; top3: Miss[]; layer: Miss[]; producer: Miss[] };
}

const root = join(import.meta.dirname, '..');
const rel = (file: string) => file.slice(root.length + 1);

function score(fixtures: Fixture[], rulesFor: (fx: Fixture) => readonly Rule[], namesProduct: boolean): Score {
  const s: Score = {
    exchanges: fixtures.length,
    top1: 0,
    top3: 0,
    layer: 0,
    ...(namesProduct ? { producer: 0 } : {}),
    confidentWrong: [],
    misses: { top1: [], top3: [], layer: [], producer: [] },
  };
  for (const fx of fixtures) {
    const report = diagnoseWith(rulesFor(fx), fx.exchange, { now: fx.now });
    const ranked = report.causes.map((c) => c.id);
    const file = rel(fx.file);
    const got = ranked
      .slice(0, 3)
      .map((id, i) => `${id}:${report.causes[i].score}`)
      .join(', ');
    if (ranked[0] === fx.label.cause) s.top1++;
    else s.misses.top1.push({ file, label: fx.label.cause, got });
    if (ranked.slice(0, 3).includes(fx.label.cause)) s.top3++;
    else s.misses.top3.push({ file, label: fx.label.cause, got });
    if (report.deniedBy?.layer === fx.label.layer) s.layer++;
    else s.misses.layer.push({ file, label: fx.label.layer, got: report.deniedBy?.layer ?? '(none)' });
    const named = report.deniedBy?.product ?? 'unknown';
    const want = fx.productHidden || !namesProduct ? 'unknown' : fx.label.product;
    if (namesProduct) {
      if (named === want) s.producer!++;
      else s.misses.producer.push({ file, label: want, got: named });
    }
    if (named !== 'unknown' && named !== want && (report.deniedBy?.confidence ?? 0) >= 0.5)
      s.confidentWrong.push({ file, label: want, got: `${named} (${report.deniedBy?.confidence})` });
  }
  return s;
}

const rules = await loadRules();
const ruleFixtures = ruleFolders().flatMap((f) => loadFixtures(join(rulesDir(), f, 'fixtures')));
const withRule = score(ruleFixtures, () => rules, true);

// Left out as a product is left out of the base rates too: request-context
// counts them again without that product's fixtures.
const withoutProduct = new Map<string, Rule[]>();
const leaveOneOut = score(
  ruleFixtures.filter((fx) => !fx.productHidden),
  (fx) => {
    const p = fx.label.product;
    if (!withoutProduct.has(p)) {
      const rates = countBaseRates(ruleFixtures.filter((other) => other.label.product !== p));
      withoutProduct.set(
        p,
        rules
          .filter((r) => r.meta.product !== p)
          .map((r) => (r.meta.id === requestContext.meta.id ? withBaseRates(rates) : r)),
      );
    }
    return withoutProduct.get(p)!;
  },
  false,
);

// Products with a rule, given the server's log (explain --log): the captured
// fixtures whose capture recorded the lines the error log gained, scored
// without and with those lines as evidence.
const captured = ruleFixtures.filter((fx) => fx.capturedLog?.some((l) => l.trim()));
const withoutLog = score(captured, () => rules, true);
const withLog = score(
  captured.map((fx) => {
    const logs = reasonsFromLines([{ file: 'error.log', lines: fx.capturedLog! }], fx.exchange);
    return logs.length ? { ...fx, exchange: { ...fx.exchange, logs } } : fx;
  }),
  () => rules,
  true,
);

const unseenDir = join(root, 'bench', 'unseen');
const unseen = (split: string) => (existsSync(join(unseenDir, split)) ? loadFixtures(join(unseenDir, split)) : []);
const dev = unseen('dev');
const devScore = score(dev, () => rules, false);
// Held-out sets, each scored only when its flag is given (--held-out,
// --held-out-2, …): the folder, its JSON key and its letter in the report.
const HELD_OUT = [
  { folder: 'held-out', key: 'unseenHeldOut', letter: 'c' },
  { folder: 'held-out-2', key: 'unseenHeldOut2', letter: 'd' },
  { folder: 'held-out-3', key: 'unseenHeldOut3', letter: 'e' },
  { folder: 'held-out-4', key: 'unseenHeldOut4', letter: 'f' },
] as const;
const heldOutScores: ((typeof HELD_OUT)[number] & { fixtures?: Fixture[]; score?: Score })[] = HELD_OUT.map((set) => {
  if (!process.argv.includes(`--${set.folder}`)) return { ...set };
  const fixtures = unseen(set.folder);
  return { ...set, fixtures, score: score(fixtures, () => rules, false) };
});

// Framework and library defaults (bench/frameworks): each 401/403 answer from
// the response alone, without the rules that name the entry's own framework.
interface FrameworkDefault {
  framework: string;
  status: number;
  contentType: string | null;
  wwwAuthenticate: string | null;
  body: string;
  cause?: string;
  causes?: string[];
}
const FRAMEWORK_PRODUCTS: [RegExp, string][] = [
  [/\bexpress\b|express-jwt|csurf/i, 'express'],
  [/fastify/i, 'fastify'],
  [/django/i, 'django'],
  [/laravel/i, 'laravel'],
  [/\brails\b|devise|pundit|cancancan|doorkeeper/i, 'rails'],
  [/spring/i, 'spring-security'],
  [/asp\.net/i, 'aspnetcore'],
  [/postgrest/i, 'supabase-postgrest'],
];
function scoreFrameworks(): Score & { seen: true } {
  const entries = (
    JSON.parse(readFileSync(join(root, 'bench', 'frameworks', 'catalogue.json'), 'utf8')) as FrameworkDefault[]
  ).filter((e) => e.status === 401 || e.status === 403);
  const s: Score & { seen: true } = {
    seen: true,
    layerLabelled: false,
    exchanges: entries.length,
    top1: 0,
    top3: 0,
    layer: 0,
    confidentWrong: [],
    misses: { top1: [], top3: [], layer: [], producer: [] },
  };
  for (const e of entries) {
    const own = FRAMEWORK_PRODUCTS.filter(([re]) => re.test(e.framework)).map(([, p]) => p);
    const headers = [
      ...(e.contentType ? [{ name: 'Content-Type', value: e.contentType }] : []),
      ...(e.wwwAuthenticate ? [{ name: 'WWW-Authenticate', value: e.wwwAuthenticate }] : []),
    ];
    const exchange: Exchange = {
      source: { kind: 'raw', name: 'bench/frameworks/catalogue.json' },
      response: { status: e.status, statusText: '', headers, content: { text: e.body, mimeType: e.contentType ?? '' } },
    };
    const report = diagnoseWith(
      rules.filter((r) => !own.includes(r.meta.product ?? '')),
      exchange,
    );
    const want = e.causes ?? [e.cause ?? 'unknown'];
    const ranked = report.causes.map((c) => c.id);
    const miss = {
      file: e.framework,
      label: want.join('|'),
      got: report.causes
        .slice(0, 3)
        .map((c) => `${c.id}:${c.score}`)
        .join(', '),
    };
    if (want.includes(ranked[0])) s.top1++;
    else s.misses.top1.push(miss);
    if (ranked.slice(0, 3).some((c) => want.includes(c))) s.top3++;
    else s.misses.top3.push(miss);
    const named = report.deniedBy?.product ?? 'unknown';
    if (named !== 'unknown' && (report.deniedBy?.confidence ?? 0) >= 0.5)
      s.confidentWrong.push({ ...miss, label: 'unknown', got: `${named} (${report.deniedBy?.confidence})` });
  }
  return s;
}
const frameworks = scoreFrameworks();

const result = {
  withRule: { ...withRule, producers: new Set(ruleFixtures.map((f) => f.label.product)).size },
  serverLog: { withoutLog, withLog },
  withoutRule: {
    leaveOneProductOut: leaveOneOut,
    unseenDev: devScore,
    frameworkDefaults: frameworks,
    ...Object.fromEntries(heldOutScores.flatMap((h) => (h.score ? [[h.key, h.score]] : []))),
  },
};

if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
else {
  const lines: string[] = [];
  const pct = (k: number, n: number) => `${n ? ((100 * k) / n).toFixed(1) : '0.0'}%`.padStart(6);
  const block = (title: string, s: Score, misses: boolean) => {
    const n = s.exchanges;
    lines.push(
      title,
      `  top-1 cause   ${pct(s.top1, n)}  (${s.top1}/${n})`,
      `  top-3 cause   ${pct(s.top3, n)}  (${s.top3}/${n})`,
      ...(s.producer !== undefined ? [`  producer      ${pct(s.producer, n)}  (${s.producer}/${n})`] : []),
      ...(s.layerLabelled === false ? [] : [`  layer         ${pct(s.layer, n)}  (${s.layer}/${n})`]),
      `  another product named with confidence ≥ 0.5: ${s.confidentWrong.length}`,
    );
    for (const m of s.confidentWrong) lines.push(`    ${m.file}: ${m.label}; got ${m.got}`);
    if (!misses) return;
    for (const [kind, list] of Object.entries(s.misses)) {
      if (!list.length) continue;
      lines.push(`  ${kind} misses:`);
      for (const m of list) lines.push(`    ${m.file}: labelled ${m.label}; got ${m.got}`);
    }
  };
  const products = (fx: Fixture[]) => new Set(fx.map((f) => f.productName ?? f.label.product)).size;
  block(
    `Products with a rule: ${withRule.exchanges} labelled exchanges (every rule fixture), ${result.withRule.producers} producers`,
    withRule,
    true,
  );
  lines.push('');
  block(
    `Captured on real servers, with the lines their error log gained (explain --log): ${withLog.exchanges} exchanges`,
    withLog,
    process.argv.includes('--verbose'),
  );
  lines.push(
    `  (the same ${withoutLog.exchanges} without the log: top-1 ${pct(withoutLog.top1, withoutLog.exchanges).trim()}, top-3 ${pct(withoutLog.top3, withoutLog.exchanges).trim()})`,
  );
  lines.push('');
  block(
    `Products without a rule, a: the same ${leaveOneOut.exchanges} exchanges, each without the rules for its own product`,
    leaveOneOut,
    process.argv.includes('--verbose'),
  );
  lines.push('');
  block(
    `Products without a rule, b: bench/unseen/dev, ${dev.length} real denials from ${products(dev)} products no rule names`,
    devScore,
    true,
  );
  lines.push('');
  block(
    `Products without a rule, framework and library defaults (bench/frameworks, seen): ${frameworks.exchanges} answers, from the response alone`,
    frameworks,
    process.argv.includes('--verbose'),
  );
  lines.push('');
  for (const h of heldOutScores) {
    if (!h.score || !h.fixtures) {
      lines.push(`(bench/unseen/${h.folder} is scored only with --${h.folder})`);
      continue;
    }
    block(
      `Products without a rule, ${h.letter}: bench/unseen/${h.folder}, ${h.fixtures.length} denials from ${products(h.fixtures)} products`,
      h.score,
      true,
    );
    lines.push('');
  }
  process.stdout.write(lines.join('\n') + '\n');
}
