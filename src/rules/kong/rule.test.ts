import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { responseCase } from '../_lib/unit-case.ts';
import { claimsNothing, claimsOf } from '../_lib/cases.ts';

const claims = claimsOf('kong');

// Wordings from the plugins' handlers (kong/plugins/ip-restriction, rate-limiting).
testRule(rule, import.meta.dirname, [
  claims(
    'ip-restriction → ip-restricted',
    responseCase(
      'ip',
      403,
      { Server: 'kong/2.8.1', 'X-Kong-Response-Latency': '0' },
      '{"message":"Your IP address is not allowed"}',
    ),
    'ip-restricted',
  ),
  claims(
    'rate-limiting → rate-limited',
    responseCase('rl', 429, { 'X-Kong-Response-Latency': '1' }, '{\n  "message":"API rate limit exceeded"\n}'),
    'rate-limited',
  ),
  claimsNothing(
    'the shared auth wording alone names no product',
    responseCase('bare', 401, {}, '{"message":"Invalid authentication credentials"}'),
  ),
  claimsNothing(
    'Via: kong on an upstream’s own 403 is weak evidence',
    responseCase('upstream', 403, { Via: 'kong/3.4.0', 'X-Kong-Upstream-Latency': '12' }, '{"detail":"nope"}'),
  ),
]);
