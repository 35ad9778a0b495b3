import defaultRule from './rule.ts';
import { testRule, type ExtraCase } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, type Fixture } from '../_lib/fixtures.ts';

// Look-alikes from their products' own documentation: the rule must not call
// them Fastify. Boom (hapi) sends the very same {statusCode, error, message}
// keys in the same order, so only a weak claim is allowed without Fastify's
// Keep-Alive default beside it; NestJS orders its keys differently.
function documented(
  source: string,
  body: string,
  headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' },
): Fixture {
  const file = `documented:${source}`;
  return {
    file,
    source,
    label: { product: 'unknown', layer: 'application', cause: 'unknown' },
    exchange: exchangeFromFixtureJson(
      {
        request: { method: 'GET', url: 'http://127.0.0.1/x' },
        response: { status: 403, statusText: 'Forbidden', headers, body },
      },
      file,
    ),
  };
}

const extra: ExtraCase[] = [
  {
    name: 'hapi Boom.forbidden payload: no confident Fastify claim',
    fixture: documented(
      'https://socket.dev/npm/package/boom/overview/2.2.1',
      '{"statusCode":403,"error":"Forbidden","message":"your message"}',
    ),
  },
  {
    name: 'NestJS guard refusal (message before error): not Fastify',
    fixture: documented(
      'https://raw.githubusercontent.com/nestjs/docs.nestjs.com/64337657a90bccbfac26f346a84203d2d304178b/content/guards.md',
      '{"statusCode":403,"message":"Forbidden resource","error":"Forbidden"}',
    ),
  },
];

testRule(defaultRule, import.meta.dirname, extra);
