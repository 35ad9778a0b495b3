// extra/ holds Discord's documented 429 (global rate limit): Discord's, but
// not a denial to the engine (401/403/407 are); the rule must still read it.
import { join } from 'node:path';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

testRule(rule, import.meta.dirname, [
  {
    name: 'documented global rate limit (429) → rate-limited',
    fixture: loadFixture(join(import.meta.dirname, 'extra', 'global-rate-limit.json')),
    product: 'discord',
    causes: ['rate-limited'],
  },
]);
