import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { unitCase } from '../_lib/unit-case.ts';

const fx = (name: string, status: number, headers: Record<string, string>, body: string) =>
  unitCase(name, { response: { status, headers, body } });

// Wordings from the plugins' handlers (kong/plugins/ip-restriction, rate-limiting).
testRule(rule, import.meta.dirname, [
  {
    name: 'ip-restriction → ip-restricted',
    fixture: fx(
      'ip',
      403,
      { Server: 'kong/2.8.1', 'X-Kong-Response-Latency': '0' },
      '{"message":"Your IP address is not allowed"}',
    ),
    product: 'kong',
    causes: ['ip-restricted'],
  },
  {
    name: 'rate-limiting → rate-limited',
    fixture: fx('rl', 429, { 'X-Kong-Response-Latency': '1' }, '{\n  "message":"API rate limit exceeded"\n}'),
    product: 'kong',
    causes: ['rate-limited'],
  },
  {
    name: 'the shared auth wording alone names no product',
    fixture: fx('bare', 401, {}, '{"message":"Invalid authentication credentials"}'),
  },
  {
    name: 'Via: kong on an upstream’s own 403 is weak evidence',
    fixture: fx('upstream', 403, { Via: 'kong/3.4.0', 'X-Kong-Upstream-Latency': '12' }, '{"detail":"nope"}'),
  },
]);
