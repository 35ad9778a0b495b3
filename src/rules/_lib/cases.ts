// Builders for a rule test's extra cases (see ExtraCase in tester.ts): what the
// rule must claim, said once per rule, and its own fixture files run directly.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CauseClaim, Rule, RuleOutput } from '../define.ts';
import type { ExchangeRequest } from '../../model/exchange.ts';
import { loadFixture, type Fixture } from './fixtures.ts';
import { runRule, type ExtraCase } from './tester.ts';

/**
 * Extra cases in which the rule names `product`: `claims(name, fixture, ...causes)`, the causes strongest
 * first; with none, the case checks the product alone.
 */
export function claimsOf(product: string): (name: string, fixture: Fixture, ...causes: string[]) => ExtraCase {
  return (name, fixture, ...causes) => ({ name, fixture, product, ...(causes.length ? { causes } : {}) });
}

/** An extra case in which the rule must name no product. */
export function claimsNothing(name: string, fixture: Fixture): ExtraCase {
  return { name, fixture };
}

/**
 * The rule run on one of its own fixture files (`fixtures/<file>` beside the test), the recorded request
 * replaced by `request` when one is given.
 */
export function ownFixtures(
  rule: Rule,
  dir: string,
): (file: string, request?: ExchangeRequest) => RuleOutput | undefined {
  return (file, request) => {
    const fx = loadFixture(join(dir, 'fixtures', file));
    if (request) fx.exchange.request = request;
    return runRule(rule, fx);
  };
}

/** Every command the fixes of a claimed cause offer, in order. */
export function commandsOf(cause: CauseClaim | undefined): string[] {
  return (cause?.fixes ?? []).flatMap((f) => f.commands ?? []);
}

/**
 * The cause the rule claims on `fixture`: the one with `id`, or without one the first it lists. The test
 * fails when there is no such claim.
 */
export function claimedCause(rule: Rule, fixture: Fixture, id?: string): CauseClaim {
  const causes = runRule(rule, fixture)?.causes ?? [];
  const cause = id === undefined ? causes[0] : causes.find((c) => c.id === id);
  assert.ok(cause, `${rule.meta.id} claims ${id ?? 'a cause'} on ${fixture.file}`);
  return cause;
}
