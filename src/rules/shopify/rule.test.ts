import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, loadFixture, type Fixture } from '../_lib/fixtures.ts';

const load = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', name));
const unit = (
  name: string,
  url: string,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(
    {
      request: { method: 'POST', url, headers: { 'X-Shopify-Access-Token': 'shpat_REDACTED' } },
      response: { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) },
    },
    name,
  ),
});

testRule(rule, import.meta.dirname, [
  {
    name: 'GraphQL ACCESS_DENIED (answered 200) still names the required scope',
    fixture: unit(
      'gql',
      'https://shop.myshopify.com/admin/api/2024-10/graphql.json',
      200,
      {
        errors: [
          {
            message: 'Access denied for orders field. Required access: `read_orders` access scope.',
            extensions: {
              code: 'ACCESS_DENIED',
              documentation: 'https://shopify.dev/api/usage/access-scopes',
              requiredAccess: '`read_orders` access scope.',
            },
          },
        ],
        data: null,
      },
      { 'X-Shopify-API-Version': '2024-10' },
    ),
    product: 'shopify',
    causes: ['insufficient-scope'],
  },
  {
    name: 'an {"errors": "…"} body without "[API]" or a store host is not Shopify',
    fixture: unit('other', 'https://api.example.com/x', 403, { errors: 'Forbidden' }),
  },
]);

test('shopify: the scope in "requires merchant approval for … scope" is the gap, and verify reads access_scopes.json', () => {
  const c = runRule(rule, load('merchant-approval-read-locations.json'))?.causes?.find(
    (x) => x.id === 'insufficient-scope',
  );
  assert.deepEqual(c?.gap, { required: ['read_locations'], held: [] });
  assert.equal(
    c?.fixes?.[0].verify,
    'curl -s -H "X-Shopify-Access-Token: $TOKEN" https://example-store.myshopify.com/admin/oauth/access_scopes.json lists read_locations.',
  );
});
