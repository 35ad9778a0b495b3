import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, type Fixture } from '../_lib/fixtures.ts';
import { buildContext } from '../../engine/context.ts';

const fx = (name: string, raw: Record<string, unknown>): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(raw, name),
});
const problem = (status: number, body: object, contentType = 'application/problem+json') => ({
  response: { status, headers: { 'Content-Type': contentType }, body: JSON.stringify(body) },
});

testRule(rule, import.meta.dirname, [
  {
    name: 'X API unsupported-authentication type → x-api, credential-malformed',
    fixture: fx(
      'x-unsupported',
      problem(
        403,
        {
          title: 'Unsupported Authentication',
          detail:
            'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].',
          type: 'https://api.twitter.com/2/problems/unsupported-authentication',
          status: 403,
        },
        'application/json',
      ),
    ),
    product: 'x-api',
    causes: ['credential-malformed'],
  },
]);

test('problem-json: a plain {"error": …} JSON body is not problem details', () => {
  const ex = exchangeFromFixtureJson(
    {
      response: {
        status: 403,
        headers: { 'Content-Type': 'application/json' },
        body: '{"error":"forbidden","message":"nope"}',
      },
    },
    'plain',
  );
  const ctx = buildContext(ex, { scheme: 'none', items: [], findings: [], clock: { local: new Date().toISOString() } });
  assert.equal(rule.run(ctx), undefined);
});

test('problem-json: an unknown type namespace names no product, and its words are left to denial-words', () => {
  const ex = exchangeFromFixtureJson(
    problem(403, { type: 'https://api.example.test/problems/x', title: 'Forbidden', status: 403 }),
    'anon',
  );
  const ctx = buildContext(ex, { scheme: 'none', items: [], findings: [], clock: { local: new Date().toISOString() } });
  const out = rule.run(ctx);
  assert.equal(out?.producer, undefined);
  assert.equal(out?.causes?.length ?? 0, 0);
});
