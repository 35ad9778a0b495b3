// The rule tester: every rule is run on its own fixtures (it must recognise
// them as labelled) and on every other rule's fixtures (it must not claim a
// product it did not see). Modelled on ESLint's RuleTester: the cases are
// data, the assertions are shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Rule } from '../define.ts';
import { loadFixtures, type Fixture } from './fixtures.ts';
import { buildContext } from '../../engine/context.ts';
import { inspectExchangeCredentials } from '../../inspect.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';
import { ruleFolders, rulesDir } from './folders.ts';
import type { RuleOutput } from '../define.ts';

export function runRule(rule: Rule, fx: Fixture): RuleOutput | undefined {
  const ctx = buildContext(fx.exchange, inspectExchangeCredentials(fx.exchange, { now: fx.now }));
  return rule.run(ctx);
}

export interface ExtraCase {
  name: string;
  fixture: Fixture;
  /** Expected product claim (undefined = must claim none). */
  product?: string;
  /** Causes the rule must claim, strongest first at index 0. */
  causes?: string[];
}

export function testRule(rule: Rule, folder: string, extra: ExtraCase[] = []): void {
  const own = loadFixtures(join(folder, 'fixtures'));
  const id = rule.meta.id;

  test(`${id}: meta is complete`, () => {
    assert.ok(rule.meta.description.length > 10, 'meta.description');
    assert.ok(
      rule.meta.docs.length > 0 && rule.meta.docs.every((d) => /^https:\/\//.test(d)),
      'meta.docs holds https URLs',
    );
    if (rule.meta.kind === 'producer')
      assert.ok(rule.meta.product && rule.meta.layer, 'a producer rule names product and layer');
    for (const [messageId, text] of Object.entries(rule.meta.messages ?? {}))
      assert.ok(text.trim().length > 10, `message ${messageId} says something`);
    assert.ok(own.length >= 1, `${id} has at least one fixture in fixtures/`);
  });

  for (const fx of own) {
    const name = fx.file.slice(fx.file.lastIndexOf('/') + 1);
    test(`${id}: ${name} (${fx.label.product}, ${fx.label.cause})`, async () => {
      const out = runRule(rule, fx);
      assert.ok(out, `${id} produced nothing for its own fixture`);
      for (const c of out.causes ?? []) {
        assert.ok(rule.meta.causes.includes(c.id), `${id} concluded "${c.id}", not listed in meta.causes`);
        assert.doesNotMatch(
          c.summary,
          /\{\{\s*\w+\s*\}\}/,
          `${id}: message "${c.message}" left a placeholder unfilled`,
        );
        for (const f of c.fixes ?? [])
          assert.doesNotMatch(
            JSON.stringify(f),
            /\{\{\s*\w+\s*\}\}/,
            `${id}: fix "${f.title}" left a placeholder unfilled`,
          );
      }
      if (rule.meta.kind === 'producer' && fx.label.product === rule.meta.product && !fx.productHidden) {
        assert.equal(out.producer?.product, rule.meta.product, 'recognises its product');
        assert.equal(out.producer?.layer, fx.label.layer, 'names the labelled layer');
      }
      // The whole engine, all rules together, must agree with the label.
      const report = diagnoseWith(await loadRules(), fx.exchange, { now: fx.now });
      if (fx.productHidden) {
        assert.equal(
          report.deniedBy?.product,
          'unknown',
          `nothing names the product, so the engine must not guess one (${fx.source})`,
        );
        assert.equal(report.deniedBy?.layer, fx.label.layer, 'engine names the labelled layer');
      } else assert.equal(report.deniedBy?.product, fx.label.product, `engine names the producer (${fx.source})`);
      const ranked = report.causes.map((c) => `${c.id}:${c.score}`).join(', ');
      if (fx.ambiguous?.length) {
        const top = report.causes.slice(0, 1 + fx.ambiguous.length).map((c) => c.id);
        assert.ok(
          top.includes(fx.label.cause),
          `engine ranks the labelled cause among the ${top.length} it cannot tell apart; got ${ranked}`,
        );
        for (const id of top)
          assert.ok(
            id === fx.label.cause || fx.ambiguous.includes(id),
            `only the declared look-alikes rank beside the label; got ${ranked}`,
          );
      } else {
        assert.equal(report.causes[0]?.id, fx.label.cause, `engine ranks the labelled cause first; got ${ranked}`);
      }
    });
  }

  test(`${id}: claims no wrong product on any rule's fixtures`, () => {
    // Any rule may name a producer (a cause rule may recognise a product from
    // a problem type URI); wherever it does, it must be the labelled one.
    for (const folder of ruleFolders()) {
      for (const fx of loadFixtures(join(rulesDir(), folder, 'fixtures'))) {
        // A rule that yields to the labelled product is set aside by the engine there.
        if (rule.meta.yieldsTo?.includes(fx.label.product)) continue;
        const out = runRule(rule, fx);
        // "unknown" names no product, so it is never a wrong one.
        const wrong =
          out?.producer &&
          out.producer.product !== 'unknown' &&
          out.producer.product !== fx.label.product &&
          out.producer.confidence >= 0.5;
        assert.ok(
          !wrong,
          `${id} claims ${out?.producer?.product} (${out?.producer?.confidence}) on ${fx.file}, labelled ${fx.label.product}`,
        );
      }
    }
  });

  for (const c of extra) {
    test(`${id}: ${c.name}`, () => {
      const out = runRule(rule, c.fixture);
      if (c.product === undefined) assert.ok(!out?.producer || out.producer.confidence < 0.5, 'claims no product');
      else assert.equal(out?.producer?.product, c.product);
      if (c.causes) {
        const got = [...(out?.causes ?? [])].sort((a, b) => b.weight - a.weight).map((x) => x.id);
        for (const want of c.causes) assert.ok(got.includes(want as never), `claims ${want}; got ${got.join(', ')}`);
        assert.equal(got[0], c.causes[0], 'strongest claim');
      }
    });
  }
}
