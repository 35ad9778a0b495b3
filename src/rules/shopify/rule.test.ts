import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { jsonApiCases } from '../_lib/unit-case.ts';
import { claimsNothing, claimsOf, ownFixtures } from '../_lib/cases.ts';

const claims = claimsOf('shopify');

const run = ownFixtures(rule, import.meta.dirname);
const unit = jsonApiCases('POST', { 'X-Shopify-Access-Token': 'shpat_REDACTED' });

testRule(rule, import.meta.dirname, [
  claims(
    'GraphQL ACCESS_DENIED (answered 200) still names the required scope',
    unit(
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
    'insufficient-scope',
  ),
  claimsNothing(
    'an {"errors": "…"} body without "[API]" or a store host is not Shopify',
    unit('other', 'https://api.example.com/x', 403, { errors: 'Forbidden' }),
  ),
]);

test('shopify: the scope in "requires merchant approval for … scope" is the gap, and verify reads access_scopes.json', () => {
  const c = run('merchant-approval-read-locations.json')?.causes?.find((x) => x.id === 'insufficient-scope');
  assert.deepEqual(c?.gap, { required: ['read_locations'], held: [] });
  assert.equal(
    c?.fixes?.[0].verify,
    'curl -s -H "X-Shopify-Access-Token: $TOKEN" https://example-store.myshopify.com/admin/oauth/access_scopes.json lists read_locations.',
  );
});
