import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { claimsNothing } from '../_lib/cases.ts';

/** A registry API answer to a manifest pull without a credential: the errors envelope and any headers. */
const pull = (host: string, errors: unknown, headers: Record<string, string> = {}) =>
  unitCase(host, {
    request: { method: 'GET', url: `https://${host}/v2/team/app/manifests/latest` },
    response: {
      status: 401,
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ errors }),
    },
  });

// Every registry speaks the API (Quay, Harbor, GHCR, ECR…): its envelope alone is the protocol, not the product.
testRule(rule, import.meta.dirname, [
  claimsNothing(
    'the registry API’s envelope alone stays below 0.5',
    pull('registry.example.com', [
      { code: 'UNAUTHORIZED', message: 'access to the requested resource is not authorized' },
    ]),
  ),
]);

test('docker-registry: the envelope alone still reads its code', () => {
  const out = runRule(
    rule,
    pull('registry.example.com', [
      { code: 'UNAUTHORIZED', message: 'access to the requested resource is not authorized' },
    ]),
  );
  assert.equal(out?.causes?.[0]?.id, 'credential-missing');
});

test('docker-registry: the reference registry’s access record or Docker Hub proves it', () => {
  const record = pull('registry.example.com', [
    {
      code: 'UNAUTHORIZED',
      message: 'authentication required',
      detail: [{ Type: 'repository', Class: '', Name: 'team/app', Action: 'pull' }],
    },
  ]);
  assert.ok((runRule(rule, record)?.producer?.confidence ?? 0) >= 0.9);
  const hub = pull('registry-1.docker.io', [{ code: 'UNAUTHORIZED', message: 'authentication required' }]);
  assert.ok((runRule(rule, hub)?.producer?.confidence ?? 0) >= 0.9);
});

test('docker-registry: an anonymous pull refused may be a name that does not exist; a catalog request is not a pull', () => {
  const out = runRule(
    rule,
    pull('quay.example.com', [{ code: 'UNAUTHORIZED', message: 'access to the requested resource is not authorized' }]),
  );
  const name = out?.causes?.find((c) => c.id === 'wrong-endpoint');
  assert.equal(name?.weight, 0.5);
  assert.match(name!.summary, /team\/app may simply not exist on quay\.example\.com/);
  assert.ok((out?.causes?.[0]?.weight ?? 0) > name!.weight, 'the missing credential stays first');
  const catalog = runRule(
    rule,
    unitCase('catalog', {
      request: { method: 'GET', url: 'https://quay.example.com/v2/_catalog' },
      response: {
        status: 401,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }),
      },
    }),
  );
  assert.ok(!catalog?.causes?.some((c) => c.id === 'wrong-endpoint'));
});
