import { join } from 'node:path';
import defaultRule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { loadFixture, type Fixture } from '../_lib/fixtures.ts';

const captured = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', name));
const withResponse = (
  fx: Fixture,
  edit: (r: Fixture['exchange']['response']) => Fixture['exchange']['response'],
): Fixture => ({
  ...fx,
  exchange: { ...fx.exchange, response: edit(fx.exchange.response) },
});

testRule(defaultRule, import.meta.dirname, [
  {
    // `server.tag = ""` drops the Server header; the built-in page still names lighttpd.
    name: 'recognises its page without a Server header',
    fixture: withResponse(captured('access-deny-suffix.json'), (r) => ({
      ...r,
      headers: r.headers.filter((h) => h.name.toLowerCase() !== 'server'),
    })),
    product: 'lighttpd',
    causes: ['path-forbidden'],
  },
  {
    // An application behind lighttpd answered with its own body: the header alone proves little, so no product claim and no cause.
    name: 'a Server header over another page is not enough',
    fixture: withResponse(captured('ip-rule.json'), (r) => ({
      ...r,
      content: { mimeType: 'application/json', text: '{"error":"forbidden"}' },
    })),
    product: undefined,
  },
]);
