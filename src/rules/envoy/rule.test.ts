import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';

const fx = (name: string, status: number, headers: Record<string, string>, body: string) =>
  unitCase(name, { response: { status, headers, body } });

// jwt_authn's wordings are those of jwt_verify_lib's status.cc, which Envoy returns verbatim as the 401 body.
testRule(rule, import.meta.dirname, [
  {
    name: 'jwt_authn "Jwt is expired" → credential-expired',
    fixture: fx(
      'expired',
      401,
      { server: 'envoy', 'www-authenticate': 'Bearer realm="http://x/", error="invalid_token"' },
      'Jwt is expired',
    ),
    product: 'envoy',
    causes: ['credential-expired'],
  },
  {
    name: 'jwt_authn "Jwt is missing" → credential-missing',
    fixture: fx('missing', 401, { server: 'envoy' }, 'Jwt is missing'),
    product: 'envoy',
    causes: ['credential-missing'],
  },
  {
    name: 'jwt_authn "Jwt issuer is not configured" → wrong-audience',
    fixture: fx('issuer', 401, { server: 'envoy' }, 'Jwt issuer is not configured'),
    product: 'envoy',
    causes: ['wrong-audience'],
  },
  {
    name: 'an application’s own 403 behind Envoy is not an Envoy denial',
    fixture: fx('app', 403, { server: 'envoy', 'x-envoy-upstream-service-time': '3' }, '{"error":"forbidden"}'),
  },
]);

// The envoy rule reads an Istio proxy's reply too; it yields to Istio (meta.yieldsTo), so the engine sets it aside.
test('envoy: the same body from an Istio proxy is left to the istio rule', async () => {
  const report = diagnoseWith(
    await loadRules(),
    fx('istio', 403, { server: 'istio-envoy' }, 'RBAC: access denied').exchange,
  );
  assert.equal(report.deniedBy?.product, 'istio');
});
