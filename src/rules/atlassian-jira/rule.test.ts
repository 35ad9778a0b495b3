import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { requestCases } from '../_lib/unit-case.ts';
import { claimsOf } from '../_lib/cases.ts';

const claims = claimsOf('atlassian-jira');

const issue = { method: 'GET', url: 'https://acme.atlassian.net/rest/api/3/issue/PROJ-12' };
const fx = requestCases({ ...issue, headers: { Authorization: 'Basic dTpw' } });
const anonymous = requestCases({ ...issue, headers: {} });

testRule(rule, import.meta.dirname, [
  claims(
    'CAPTCHA_CHALLENGE → account-state',
    fx('captcha', 403, {
      'X-Seraph-LoginReason': 'AUTHENTICATION_DENIED',
      'X-Authentication-Denied-Reason': 'CAPTCHA_CHALLENGE; login-url=https://jira.example.com/login.jsp',
    }),
    'account-state',
  ),
  claims(
    'anonymous "Client must be authenticated" → credential-missing',
    anonymous('anon', 401, {}, '{"message":"Client must be authenticated to access this resource.","status-code":401}'),
    'credential-missing',
  ),
  claims(
    'a plain-text "XSRF check failed" on an atlassian.net host → csrf',
    fx('x', 403, {}, 'XSRF check failed'),
    'csrf',
  ),
]);

test('jira: a permission message points at mypermissions for the issue', () => {
  const out = runRule(
    rule,
    fx(
      'perm',
      401,
      { 'X-AREQUESTID': '1' },
      '{"errorMessages":["You do not have the permission to see the specified issue."],"errors":{}}',
    ),
  );
  const claim = out!.causes!.find((c) => c.id === 'insufficient-role')!;
  assert.deepEqual(claim.gap, {
    required: ['BROWSE_PROJECTS on PROJ-12 (or the permission the action needs)'],
    held: [],
  });
  assert.match(claim.fixes![0].verify!, /mypermissions\?permissions=BROWSE_PROJECTS&issueKey=PROJ-12/);
});

test('atlassian-jira: an Atlassian Cloud host is Jira, except Confluence’s paths on it', () => {
  const on = (url: string) =>
    runRule(
      rule,
      requestCases({ method: 'GET', url, headers: {} })('host', 401, { 'Content-Type': 'application/json' }, '{}'),
    )?.producer?.product;
  assert.equal(on('https://acme.atlassian.net/rest/api/3/myself'), 'atlassian-jira');
  assert.notEqual(on('https://acme.atlassian.net/wiki/rest/api/space'), 'atlassian-jira');
  assert.notEqual(on('https://api.atlassian.com/ex/confluence/0000/wiki/rest/api/space'), 'atlassian-jira');
  assert.equal(on('https://api.atlassian.com/ex/jira/0000/rest/api/3/myself'), 'atlassian-jira');
  assert.notEqual(on('https://api.atlassian.com/admin/v1/orgs'), 'atlassian-jira');
});
