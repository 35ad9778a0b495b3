import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { requestCases } from '../_lib/unit-case.ts';
import { claimsOf } from '../_lib/cases.ts';

const claims = claimsOf('github');

const api = requestCases({
  method: 'PUT',
  url: 'https://api.github.com/repos/octo/repo',
  headers: { Authorization: 'Bearer ghp_REDACTED' },
});
// GitHub's error body: the message and a link to the REST docs; the headers say the rest.
const fx = (name: string, status: number, message: string, headers: Record<string, string> = {}) =>
  api(name, status, headers, JSON.stringify({ message, documentation_url: 'https://docs.github.com/rest' }));

testRule(rule, import.meta.dirname, [
  claims(
    '"Must have admin rights to Repository." → insufficient-role',
    fx('admin', 403, 'Must have admin rights to Repository.', { 'x-github-request-id': 'A:B:C' }),
    'insufficient-role',
  ),
  claims(
    '"Repository was archived so is read-only." → resource-state',
    fx('archived', 403, 'Repository was archived so is read-only.'),
    'resource-state',
  ),
  claims(
    'a 404 (how GitHub hides private resources) is recognised as GitHub but argues no cause',
    fx('scopes', 404, 'Not Found', { 'x-accepted-oauth-scopes': 'repo', 'x-oauth-scopes': 'read:user, gist' }),
  ),
  claims(
    'fine-grained PAT → insufficient-scope',
    fx('pat', 403, 'Resource not accessible by personal access token', {
      'x-accepted-github-permissions': 'contents=write',
    }),
    'insufficient-scope',
  ),
]);

test('github: x-accepted-github-permissions becomes the gap; alternatives stay separate', () => {
  const out = runRule(
    rule,
    fx('alt', 403, 'Resource not accessible by integration', {
      'x-accepted-github-permissions': 'pull_requests=write,contents=read; issues=write,contents=read',
    }),
  );
  const claim = out?.causes?.find((c) => c.id === 'insufficient-scope');
  assert.deepEqual(claim?.gap, { required: ['pull_requests=write', 'contents=read'], held: [] });
  assert.match(claim!.summary, /pull_requests=write \+ contents=read, or issues=write \+ contents=read/);
});

test('github: classic scope gap compares accepted with held scopes', () => {
  const out = runRule(
    rule,
    fx('classic', 403, 'Forbidden', { 'x-accepted-oauth-scopes': 'admin:org, write:org', 'x-oauth-scopes': 'repo' }),
  );
  const claim = out?.causes?.find((c) => c.id === 'insufficient-scope');
  assert.deepEqual(claim?.gap, { required: ['admin:org', 'write:org'], held: ['repo'] });
});

test('github: a held hierarchical scope is not called missing', () => {
  const out = runRule(
    rule,
    fx('held', 403, 'Forbidden', { 'x-accepted-oauth-scopes': 'repo, public_repo', 'x-oauth-scopes': 'repo' }),
  );
  assert.equal(
    out?.causes?.find((c) => c.id === 'insufficient-scope'),
    undefined,
  );
});

test('github: the reset time is read from x-ratelimit-reset', () => {
  const out = runRule(
    rule,
    fx('reset', 403, 'API rate limit exceeded for user ID 1.', {
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '1377013266',
      'x-ratelimit-resource': 'core',
    }),
  );
  assert.match(out!.causes![0].summary, /2013-08-20T15:41:06\.000Z/);
});
