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
  // RFC 9457 section 3's example, answered 403: a credit balance, i.e. a quota.
  {
    name: 'RFC 9457 §3 out-of-credit example → rate-limited (quota), no product',
    fixture: fx(
      'rfc9457',
      problem(403, {
        type: 'https://example.com/probs/out-of-credit',
        title: 'You do not have enough credit.',
        detail: 'Your current balance is 30, but that costs 50.',
        instance: '/account/12345/msgs/abc',
        balance: 30,
        accounts: ['/account/12345', '/account/67890'],
      }),
    ),
    causes: ['rate-limited'],
  },
  {
    name: 'scope keyword → insufficient-scope',
    fixture: fx(
      'scope',
      problem(403, {
        type: 'https://api.example.test/problems/insufficient-scope',
        title: 'Insufficient scope',
        status: 403,
        required_scopes: ['invoices:write'],
      }),
    ),
    causes: ['insufficient-scope'],
  },
  {
    name: 'csrf keyword → csrf',
    fixture: fx('csrf', problem(403, { title: 'Forbidden', status: 403, detail: 'CSRF token missing or invalid' })),
    causes: ['csrf'],
  },
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

test('problem-json: required_scopes becomes the gap', () => {
  const ex = exchangeFromFixtureJson(
    problem(403, {
      type: 'https://api.example.test/problems/insufficient-scope',
      title: 'Insufficient scope',
      status: 403,
      required_scopes: ['invoices:write'],
    }),
    'gap',
  );
  const ctx = buildContext(ex, { scheme: 'none', items: [], findings: [], clock: { local: new Date().toISOString() } });
  const claim = rule.run(ctx)?.causes?.find((c) => c.id === 'insufficient-scope');
  assert.deepEqual(claim?.gap, { required: ['invoices:write'], held: [] });
});

test('problem-json: an unknown type namespace names no product', () => {
  const ex = exchangeFromFixtureJson(
    problem(403, { type: 'https://api.example.test/problems/x', title: 'Forbidden', status: 403 }),
    'anon',
  );
  const ctx = buildContext(ex, { scheme: 'none', items: [], findings: [], clock: { local: new Date().toISOString() } });
  assert.equal(rule.run(ctx)?.producer, undefined);
});
