import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineWeights, diagnoseWith, likelihoodOf } from './diagnose.ts';
import type { Rule } from '../model/rule.ts';
import type { Exchange } from '../model/exchange.ts';
import type { CauseId, Difficulty } from '../model/vocabulary.ts';
import { secretsOf } from './scrub.ts';

/** The engine's contract is the Rule shape itself; these rules are written by hand. */
const rule = (r: Rule): Rule => r;

/** A hand-written cause rule: only its id, description, causes and run differ from one test to the next. */
const causeRule = (id: string, description: string, causes: CauseId[], run: Rule['run']): Rule =>
  rule({ meta: { id, kind: 'cause', description, docs: ['https://example.test'], causes }, run });

const exchange = (
  status: number,
  reqHeaders: { name: string; value: string }[] = [],
  url = 'https://api.example.test/items?api_key=abcdef123456',
): Exchange => ({
  request: { method: 'GET', url, headers: reqHeaders },
  response: {
    status,
    statusText: '',
    headers: [{ name: 'Content-Type', value: 'application/json' }],
    content: { text: '{"error":"forbidden"}' },
  },
  source: { kind: 'json', name: 'test' },
});

test('weights combine as a noisy-OR and negative evidence scales down', () => {
  assert.equal(combineWeights([0.5, 0.5]), 0.75);
  assert.equal(combineWeights([0.8, -0.5]), 0.4);
  assert.equal(combineWeights([]), 0);
  assert.equal(likelihoodOf(0.7), 'high');
  assert.equal(likelihoodOf(0.4), 'medium');
  assert.equal(likelihoodOf(0.39), 'low');
});

test('causes are merged per id, ranked by score, fixes sorted easy first', () => {
  // Two rules claim the same cause, each with its own weight, summary, evidence and fix.
  const role = (weight: number, summary: string, source: string, text: string, difficulty: Difficulty) => ({
    id: 'insufficient-role' as const,
    weight,
    summary,
    evidence: [{ source, text }],
    fixes: [{ title: `${difficulty} fix`, difficulty }],
  });
  const a = causeRule('a', 'test rule a', ['insufficient-role', 'csrf'], () => ({
    causes: [role(0.5, 'weak', 'body', 'x', 'hard'), { id: 'csrf', weight: 0.6, summary: 'csrf', evidence: [] }],
  }));
  const b = causeRule('b', 'test rule b', ['insufficient-role'], () => ({
    causes: [role(0.6, 'strong', 'header:x', 'y', 'easy')],
  }));
  const r = diagnoseWith([a, b], exchange(403));
  assert.deepEqual(
    r.causes.map((c) => c.id),
    ['insufficient-role', 'csrf'],
  );
  assert.equal(r.causes[0].score, 0.8);
  assert.equal(r.causes[0].summary, 'strong');
  assert.deepEqual(
    r.causes[0].fixes.map((f) => f.title),
    ['easy fix', 'hard fix'],
  );
  assert.equal(r.causes[0].evidence.length, 2);
});

test('no rule speaks: one "unknown" cause, and non-denials carry no causes', () => {
  const r = diagnoseWith([], exchange(403));
  assert.deepEqual(
    r.causes.map((c) => c.id),
    ['unknown'],
  );
  const ok = diagnoseWith([], exchange(200));
  assert.equal(ok.outcome, 'allowed');
  assert.deepEqual(ok.causes, []);
  assert.equal(diagnoseWith([], exchange(404)).outcome, 'not-found');
  assert.equal(diagnoseWith([], exchange(429)).outcome, 'rate-limited');
});

test('a 403 whose likeliest cause is authentication is called out as a should-be 401', () => {
  const x = causeRule('x', 'test rule x', ['credential-expired', 'insufficient-scope'], (ctx) => ({
    causes: [
      {
        id: ctx.status === 403 ? 'credential-expired' : 'insufficient-scope',
        weight: 0.8,
        summary: 's',
        evidence: [],
      },
    ],
  }));
  assert.match(diagnoseWith([x], exchange(403)).statusMismatch ?? '', /should have been a 401/);
  assert.match(diagnoseWith([x], exchange(401)).statusMismatch ?? '', /really a permission problem/);
});

test('secrets the request carried never reach the report', () => {
  const leaky = causeRule('leaky', 'echoes the request', ['credential-invalid'], (ctx) => ({
    causes: [
      {
        id: 'credential-invalid',
        weight: 0.9,
        summary: `token ${ctx.requestHeader('authorization')} cookie ${ctx.requestHeader('cookie')}`,
        evidence: [{ source: 'request:url', text: ctx.exchange.request!.url }],
      },
    ],
  }));
  const ex = exchange(401, [
    { name: 'Authorization', value: 'Bearer s3cr3t-token-value-1234' },
    { name: 'Cookie', value: 'sessionid=abcdefghijkl; theme=dark' },
  ]);
  const text = JSON.stringify(diagnoseWith([leaky], ex));
  for (const secret of ['s3cr3t-token-value-1234', 'abcdefghijkl', 'abcdef123456'])
    assert.ok(!text.includes(secret), `${secret} leaked`);
  assert.ok(secretsOf(ex).includes('s3cr3t-token-value-1234'));
  const shown = JSON.stringify(diagnoseWith([leaky], ex, { showSecrets: true }));
  assert.ok(shown.includes('s3cr3t-token-value-1234'), '--show-secrets shows them');
});

test('a rule that yields to a recognised product steps aside with everything it claimed', () => {
  const proxy = rule({
    meta: {
      id: 'proxy',
      kind: 'producer',
      product: 'envoy',
      layer: 'service-mesh',
      description: 'test proxy',
      docs: ['https://example.test'],
      causes: ['explicit-deny'],
      yieldsTo: ['istio'],
    },
    run: () => ({
      producer: { product: 'envoy', layer: 'service-mesh', confidence: 0.9, evidence: [] },
      causes: [{ id: 'explicit-deny', weight: 0.9, summary: 'proxy says', evidence: [] }],
    }),
  });
  const mesh = rule({
    meta: {
      id: 'mesh',
      kind: 'producer',
      product: 'istio',
      layer: 'service-mesh',
      description: 'test mesh',
      docs: ['https://example.test'],
      causes: ['resource-policy'],
    },
    run: (ctx) =>
      ctx.header('x-mesh')
        ? {
            producer: { product: 'istio', layer: 'service-mesh', confidence: 0.6, evidence: [] },
            causes: [{ id: 'resource-policy', weight: 0.5, summary: 'mesh says', evidence: [] }],
          }
        : undefined,
  });
  const plain = diagnoseWith([proxy, mesh], exchange(403));
  assert.equal(plain.deniedBy?.product, 'envoy');
  const withMesh: Exchange = {
    ...exchange(403),
    response: { ...exchange(403).response, headers: [{ name: 'x-mesh', value: '1' }] },
  };
  const r = diagnoseWith([proxy, mesh], withMesh);
  assert.equal(r.deniedBy?.product, 'istio', 'the less confident rule wins because the other yields to it');
  assert.deepEqual(
    r.causes.map((c) => c.id),
    ['resource-policy'],
    'the yielding rule’s causes go with it',
  );
});

test('base rates order what the evidence supports, and speak alone only when nothing else does', () => {
  const prior = (id: CauseId, weight: number) => ({
    id,
    weight,
    summary: `${id} is common`,
    evidence: [{ source: 'base-rate', text: `${id} count` }],
    prior: true,
  });
  const rates = causeRule('rates', 'base rates', ['insufficient-scope', 'insufficient-role', 'csrf', 'cors'], () => ({
    causes: [
      prior('insufficient-role', 0.04),
      prior('insufficient-scope', 0.06),
      prior('csrf', 0.02),
      prior('cors', 0.011),
    ],
  }));
  // Nothing else speaks: the three likeliest by base rate, flagged as no more than that.
  const alone = diagnoseWith([rates], exchange(403));
  assert.deepEqual(
    alone.causes.map((c) => [c.id, c.score]),
    [
      ['insufficient-scope', 0.06],
      ['insufficient-role', 0.04],
      ['csrf', 0.02],
    ],
  );
  assert.equal(alone.causes[0].summary, 'insufficient-scope is common');
  assert.match(alone.thin!.summary, /no more\.$/);
  // One cause with evidence: base rates no longer raise any other.
  const said = causeRule('said', 'words', ['insufficient-role'], () => ({
    causes: [{ id: 'insufficient-role', weight: 0.3, summary: 'the words say so', evidence: [] }],
  }));
  const supported = diagnoseWith([rates, said], exchange(403));
  assert.deepEqual(
    supported.causes.map((c) => c.id),
    ['insufficient-role'],
  );
  assert.equal(supported.causes[0].summary, 'the words say so');
  assert.doesNotMatch(supported.thin?.summary ?? '', /no more/);
});
