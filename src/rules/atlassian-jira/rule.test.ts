import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';

const fx = (
  name: string,
  status: number,
  headers: Record<string, string>,
  body: string,
  reqHeaders: Record<string, string> = { Authorization: 'Basic dTpw' },
): Fixture =>
  unitCase(name, {
    request: { method: 'GET', url: 'https://acme.atlassian.net/rest/api/3/issue/PROJ-12', headers: reqHeaders },
    response: { status, headers, body },
  });

testRule(rule, import.meta.dirname, [
  {
    name: 'CAPTCHA_CHALLENGE → account-state',
    fixture: fx(
      'captcha',
      403,
      {
        'X-Seraph-LoginReason': 'AUTHENTICATION_DENIED',
        'X-Authentication-Denied-Reason': 'CAPTCHA_CHALLENGE; login-url=https://jira.example.com/login.jsp',
      },
      '',
    ),
    product: 'atlassian-jira',
    causes: ['account-state'],
  },
  {
    name: 'anonymous "Client must be authenticated" → credential-missing',
    fixture: fx(
      'anon',
      401,
      {},
      '{"message":"Client must be authenticated to access this resource.","status-code":401}',
      {},
    ),
    product: 'atlassian-jira',
    causes: ['credential-missing'],
  },
  {
    name: 'a plain-text "XSRF check failed" on an atlassian.net host → csrf',
    fixture: fx('x', 403, {}, 'XSRF check failed'),
    product: 'atlassian-jira',
    causes: ['csrf'],
  },
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
