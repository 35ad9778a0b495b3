import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { responseCase } from '../_lib/unit-case.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';
import { claimsNothing, claimsOf } from '../_lib/cases.ts';

const claims = claimsOf('envoy');
/** An answer Envoy wrote itself: its Server header, the body and any further headers. */
const fromEnvoy = (name: string, status: number, body: string, headers: Record<string, string> = {}) =>
  responseCase(name, status, { server: 'envoy', ...headers }, body);

// jwt_authn's wordings are those of jwt_verify_lib's status.cc, which Envoy returns verbatim as the 401 body.
testRule(rule, import.meta.dirname, [
  claims(
    'jwt_authn "Jwt is expired" → credential-expired',
    fromEnvoy('expired', 401, 'Jwt is expired', {
      'www-authenticate': 'Bearer realm="http://x/", error="invalid_token"',
    }),
    'credential-expired',
  ),
  claims(
    'jwt_authn "Jwt is missing" → credential-missing',
    fromEnvoy('missing', 401, 'Jwt is missing'),
    'credential-missing',
  ),
  claims(
    'jwt_authn "Jwt issuer is not configured" → wrong-audience',
    fromEnvoy('issuer', 401, 'Jwt issuer is not configured'),
    'wrong-audience',
  ),
  claimsNothing(
    'an application’s own 403 behind Envoy is not an Envoy denial',
    fromEnvoy('app', 403, '{"error":"forbidden"}', { 'x-envoy-upstream-service-time': '3' }),
  ),
]);

// The envoy rule reads an Istio proxy's reply too; it yields to Istio (meta.yieldsTo), so the engine sets it aside.
test('envoy: the same body from an Istio proxy is left to the istio rule', async () => {
  const report = diagnoseWith(
    await loadRules(),
    responseCase('istio', 403, { server: 'istio-envoy' }, 'RBAC: access denied').exchange,
  );
  assert.equal(report.deniedBy?.product, 'istio');
});

// An application's JSON passed on by Envoy (x-envoy-upstream-service-time: the upstream answered): the
// application is the producer, Envoy only a hop in the evidence.
test('envoy: an application’s JSON error behind Envoy names the application, not Envoy', async () => {
  const report = diagnoseWith(
    await loadRules(),
    fromEnvoy('app', 403, '{"message":"You do not have permission to view this order"}', {
      'x-envoy-upstream-service-time': '12',
      'content-type': 'application/json',
    }).exchange,
  );
  assert.equal(report.deniedBy?.product, 'unknown');
  assert.equal(report.deniedBy?.layer, 'application');
  assert.ok(report.deniedBy?.evidence.some((e) => e.source === 'header:server' && /envoy/.test(e.text)));
});

test('envoy: its own local reply still names Envoy', async () => {
  const report = diagnoseWith(await loadRules(), fromEnvoy('rbac', 403, 'RBAC: access denied').exchange);
  assert.equal(report.deniedBy?.product, 'envoy');
});
