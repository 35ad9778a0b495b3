import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { jsonApiCases } from '../_lib/unit-case.ts';
import { claimsNothing, claimsOf } from '../_lib/cases.ts';

const claims = claimsOf('salesforce');

const unit = jsonApiCases('GET', { Authorization: 'Bearer 00D_REDACTED' });

// https://developer.salesforce.com/docs/atlas.en-us.230.0.api_rest.meta/api/errorcodes.htm: "If the error code is REQUEST_LIMIT_EXCEEDED, you’ve exceeded API request limits in your org."
const limit = unit(
  'limit',
  'https://acme.my.salesforce.com/services/data/v60.0/query?q=SELECT+Id+FROM+Account',
  403,
  [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
  { 'Sforce-Limit-Info': 'api-usage=15000/15000' },
);

testRule(rule, import.meta.dirname, [
  claims('REQUEST_LIMIT_EXCEEDED is the org’s API allowance, not a permission', limit, 'rate-limited'),
  claims(
    'INSUFFICIENT_ACCESS_OR_READONLY → insufficient-role',
    unit('ro', 'https://acme.my.salesforce.com/services/data/v60.0/sobjects/Account/001x', 403, [
      { message: 'insufficient access rights on object id', errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY' },
    ]),
    'insufficient-role',
  ),
  claimsNothing(
    'an array of {message, errorCode} from another API is not Salesforce',
    unit('other', 'https://api.example.com/x', 403, [{ message: 'nope', errorCode: 'DENIED' }]),
  ),
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
