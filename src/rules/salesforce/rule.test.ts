import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, type Fixture } from '../_lib/fixtures.ts';

const unit = (
  name: string,
  url: string,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(
    {
      request: { method: 'GET', url, headers: { Authorization: 'Bearer 00D_REDACTED' } },
      response: { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) },
    },
    name,
  ),
});

// https://developer.salesforce.com/docs/atlas.en-us.230.0.api_rest.meta/api/errorcodes.htm: "If the error code is REQUEST_LIMIT_EXCEEDED, you’ve exceeded API request limits in your org."
const limit = unit(
  'limit',
  'https://acme.my.salesforce.com/services/data/v60.0/query?q=SELECT+Id+FROM+Account',
  403,
  [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
  { 'Sforce-Limit-Info': 'api-usage=15000/15000' },
);

testRule(rule, import.meta.dirname, [
  {
    name: 'REQUEST_LIMIT_EXCEEDED is the org’s API allowance, not a permission',
    fixture: limit,
    product: 'salesforce',
    causes: ['rate-limited'],
  },
  {
    name: 'INSUFFICIENT_ACCESS_OR_READONLY → insufficient-role',
    fixture: unit('ro', 'https://acme.my.salesforce.com/services/data/v60.0/sobjects/Account/001x', 403, [
      { message: 'insufficient access rights on object id', errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY' },
    ]),
    product: 'salesforce',
    causes: ['insufficient-role'],
  },
  {
    name: 'an array of {message, errorCode} from another API is not Salesforce',
    fixture: unit('other', 'https://api.example.com/x', 403, [{ message: 'nope', errorCode: 'DENIED' }]),
  },
]);

test('salesforce: the limit fix reads /limits and the summary names the daily allowance', () => {
  const out = runRule(rule, limit);
  const c = out?.causes?.find((x) => x.id === 'rate-limited');
  assert.match(c!.summary, /daily API limit, not a missing permission/);
  assert.ok(c?.evidence.some((e) => e.source === 'header:sforce-limit-info'));
  assert.ok(
    c?.fixes?.[0].commands?.includes(
      'curl -s -H "Authorization: Bearer $SF_TOKEN" https://acme.my.salesforce.com/services/data/v60.0/limits | jq .DailyApiRequests',
    ),
  );
  assert.equal(
    out?.causes?.some((x) => x.id === 'insufficient-role'),
    false,
  );
});
