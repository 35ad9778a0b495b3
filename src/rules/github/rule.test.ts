import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, type Fixture } from '../_lib/fixtures.ts';

const fx = (
  name: string,
  status: number,
  headers: Record<string, string>,
  message: string,
  url = 'https://api.github.com/repos/octo/repo',
): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(
    {
      request: { method: 'PUT', url, headers: { Authorization: 'Bearer ghp_REDACTED' } },
      response: {
        status,
        headers,
        body: JSON.stringify({ message, documentation_url: 'https://docs.github.com/rest' }),
      },
    },
    name,
  ),
});

testRule(rule, import.meta.dirname, [
  {
    name: '"Must have admin rights to Repository." → insufficient-role',
    fixture: fx('admin', 403, { 'x-github-request-id': 'A:B:C' }, 'Must have admin rights to Repository.'),
    product: 'github',
    causes: ['insufficient-role'],
  },
  {
    name: '"Repository was archived so is read-only." → resource-state',
    fixture: fx('archived', 403, {}, 'Repository was archived so is read-only.'),
    product: 'github',
    causes: ['resource-state'],
  },
  {
    name: 'a 404 (how GitHub hides private resources) is recognised as GitHub but argues no cause',
    fixture: fx('scopes', 404, { 'x-accepted-oauth-scopes': 'repo', 'x-oauth-scopes': 'read:user, gist' }, 'Not Found'),
    product: 'github',
  },
  {
    name: 'fine-grained PAT → insufficient-scope',
    fixture: fx(
      'pat',
      403,
      { 'x-accepted-github-permissions': 'contents=write' },
      'Resource not accessible by personal access token',
    ),
    product: 'github',
    causes: ['insufficient-scope'],
  },
]);

test('github: x-accepted-github-permissions becomes the gap; alternatives stay separate', () => {
  const out = runRule(
    rule,
    fx(
      'alt',
      403,
      { 'x-accepted-github-permissions': 'pull_requests=write,contents=read; issues=write,contents=read' },
      'Resource not accessible by integration',
    ),
  );
  const claim = out?.causes?.find((c) => c.id === 'insufficient-scope');
  assert.deepEqual(claim?.gap, { required: ['pull_requests=write', 'contents=read'], held: [] });
  assert.match(claim!.summary, /pull_requests=write \+ contents=read, or issues=write \+ contents=read/);
});

test('github: classic scope gap compares accepted with held scopes', () => {
  const out = runRule(
    rule,
    fx('classic', 403, { 'x-accepted-oauth-scopes': 'admin:org, write:org', 'x-oauth-scopes': 'repo' }, 'Forbidden'),
  );
  const claim = out?.causes?.find((c) => c.id === 'insufficient-scope');
  assert.deepEqual(claim?.gap, { required: ['admin:org', 'write:org'], held: ['repo'] });
});

test('github: a held hierarchical scope is not called missing', () => {
  const out = runRule(
    rule,
    fx('held', 403, { 'x-accepted-oauth-scopes': 'repo, public_repo', 'x-oauth-scopes': 'repo' }, 'Forbidden'),
  );
  assert.equal(
    out?.causes?.find((c) => c.id === 'insufficient-scope'),
    undefined,
  );
});

test('github: the reset time is read from x-ratelimit-reset', () => {
  const out = runRule(
    rule,
    fx(
      'reset',
      403,
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1377013266', 'x-ratelimit-resource': 'core' },
      'API rate limit exceeded for user ID 1.',
    ),
  );
  assert.match(out!.causes![0].summary, /2013-08-20T15:41:06\.000Z/);
});
