import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { claimedCause, claimsNothing, claimsOf, commandsOf } from '../_lib/cases.ts';

const claims = claimsOf('kubernetes');

const fx = (name: string, code: number, body: string): Fixture =>
  unitCase(name, { response: { status: code, headers: { 'Content-Type': 'application/json' }, body } });
// The API server's refusal: a 403 Status object with reason Forbidden.
const forbidden = (name: string, message: string, details: object = {}): Fixture =>
  fx(
    name,
    403,
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: 'Forbidden',
      details,
      code: 403,
    }),
  );

testRule(rule, import.meta.dirname, [
  claims(
    'system:anonymous → credential-missing',
    forbidden(
      'anon',
      'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "infra"',
      { kind: 'pods' },
    ),
    'credential-missing',
  ),
  claims(
    'non-resource path → insufficient-role',
    forbidden('path', 'forbidden: User "alice" cannot get path "/metrics"'),
    'insufficient-role',
  ),
  claims(
    'admission webhook denial → explicit-deny',
    forbidden(
      'webhook',
      'admission webhook "validation.gatekeeper.sh" denied the request: [must-have-owner] you must provide labels: {"owner"}',
    ),
    'explicit-deny',
  ),
  claimsNothing('not a Status object → no claim', fx('other', 403, '{"kind":"PodList","items":[]}')),
]);

test('kubernetes: the RBAC message becomes the gap and kubectl commands for that identity', () => {
  const message =
    'pods is forbidden: User "system:serviceaccount:ns:sa" cannot list resource "pods" in API group "" in the namespace "default"';
  const claim = claimedCause(rule, forbidden('sa', message, { kind: 'pods' }));
  assert.equal(claim.id, 'insufficient-role');
  assert.deepEqual(claim.gap, { required: ['list pods in namespace default'], held: [] });
  const commands = commandsOf(claim);
  assert.ok(
    commands.includes('kubectl auth can-i list pods -n default --as=system:serviceaccount:ns:sa'),
    commands.join('\n'),
  );
  assert.ok(commands.includes('kubectl create role list-pods --verb=list --resource=pods -n default'));
  assert.ok(
    commands.includes('kubectl create rolebinding list-pods --role=list-pods --serviceaccount=ns:sa -n default'),
  );
});

test('kubernetes: cluster scope and API group go into a ClusterRole', () => {
  const message =
    'clusterroles.rbac.authorization.k8s.io "router" is forbidden: User "bob" cannot get resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope';
  const commands = commandsOf(claimedCause(rule, forbidden('cluster', message)));
  assert.ok(
    commands.includes(
      'kubectl create clusterrole get-clusterroles --verb=get --resource=clusterroles.rbac.authorization.k8s.io',
    ),
    commands.join('\n'),
  );
  assert.ok(
    commands.includes('kubectl create clusterrolebinding get-clusterroles --clusterrole=get-clusterroles --user=bob'),
  );
});
