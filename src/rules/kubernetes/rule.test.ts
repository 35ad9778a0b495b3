import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';

const status = (code: number, reason: string, message: string, details: object = {}) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code });
const fx = (name: string, code: number, body: string): Fixture =>
  unitCase(name, { response: { status: code, headers: { 'Content-Type': 'application/json' }, body } });

testRule(rule, import.meta.dirname, [
  {
    name: 'system:anonymous → credential-missing',
    fixture: fx(
      'anon',
      403,
      status(
        403,
        'Forbidden',
        'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "infra"',
        { kind: 'pods' },
      ),
    ),
    product: 'kubernetes',
    causes: ['credential-missing'],
  },
  {
    name: 'non-resource path → insufficient-role',
    fixture: fx('path', 403, status(403, 'Forbidden', 'forbidden: User "alice" cannot get path "/metrics"')),
    product: 'kubernetes',
    causes: ['insufficient-role'],
  },
  {
    name: 'admission webhook denial → explicit-deny',
    fixture: fx(
      'webhook',
      403,
      status(
        403,
        'Forbidden',
        'admission webhook "validation.gatekeeper.sh" denied the request: [must-have-owner] you must provide labels: {"owner"}',
      ),
    ),
    product: 'kubernetes',
    causes: ['explicit-deny'],
  },
  { name: 'not a Status object → no claim', fixture: fx('other', 403, '{"kind":"PodList","items":[]}') },
]);

test('kubernetes: the RBAC message becomes the gap and kubectl commands for that identity', () => {
  const out = runRule(
    rule,
    fx(
      'sa',
      403,
      status(
        403,
        'Forbidden',
        'pods is forbidden: User "system:serviceaccount:ns:sa" cannot list resource "pods" in API group "" in the namespace "default"',
        { kind: 'pods' },
      ),
    ),
  );
  const claim = out!.causes![0];
  assert.equal(claim.id, 'insufficient-role');
  assert.deepEqual(claim.gap, { required: ['list pods in namespace default'], held: [] });
  const commands = (claim.fixes ?? []).flatMap((f) => f.commands ?? []);
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
  const out = runRule(
    rule,
    fx(
      'cluster',
      403,
      status(
        403,
        'Forbidden',
        'clusterroles.rbac.authorization.k8s.io "router" is forbidden: User "bob" cannot get resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope',
      ),
    ),
  );
  const commands = (out!.causes![0].fixes ?? []).flatMap((f) => f.commands ?? []);
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
