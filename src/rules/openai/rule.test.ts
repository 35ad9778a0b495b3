import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { claimsNothing, claimsOf } from '../_lib/cases.ts';

const claims = claimsOf('openai');

const fx = (
  name: string,
  status: number,
  body: string,
  url = 'https://api.openai.com/v1/chat/completions',
  headers: Record<string, string> = {},
) =>
  unitCase(name, {
    request: { method: 'POST', url, headers: { Authorization: 'Bearer sk-REDACTED' } },
    response: { status, headers, body },
  });
// Body verbatim from https://github.com/OthersideAI/self-operating-computer/issues/29 and others.
const QUOTA =
  '{"error":{"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}';

testRule(rule, import.meta.dirname, [
  claims(
    '429 insufficient_quota is billing (account-state), not a rate limit',
    fx('quota', 429, QUOTA),
    'account-state',
  ),
  claims(
    '429 rate_limit_exceeded is a rate limit',
    fx(
      'rpm',
      429,
      '{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}',
      'https://api.openai.com/v1/chat/completions',
      { 'openai-organization': 'user-abc', 'x-ratelimit-reset-requests': '1s' },
    ),
    'rate-limited',
  ),
  claimsNothing(
    'an OpenAI-compatible gateway copying the code on another host is not claimed confidently',
    fx(
      'compat',
      403,
      '{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":"","code":"unsupported_country_region_territory"}}',
      'https://oneapi.example.com/v1/chat/completions',
    ),
  ),
]);

test('openai: missing scopes become the gap', () => {
  const out = runRule(
    rule,
    fx(
      'scopes',
      401,
      '{"error":"You have insufficient permissions for this operation. Missing scopes: api.responses.write. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Viewer, Member, Owner), and if you\'re using a restricted API key, that it has the necessary scopes."}',
    ),
  );
  assert.deepEqual(out!.causes![0].gap, { required: ['api.responses.write'], held: [] });
});

test('openai: insufficient_quota never reads as rate-limited', () => {
  const out = runRule(rule, fx('quota2', 429, QUOTA));
  assert.equal(
    out!.causes!.some((c) => c.id === 'rate-limited'),
    false,
  );
});
