import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { type Fixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { claimedCause, claimsNothing, claimsOf } from '../_lib/cases.ts';

const claims = claimsOf('elasticsearch');

const envelope = (status: number, reason: string) =>
  JSON.stringify({
    error: { root_cause: [{ type: 'security_exception', reason }], type: 'security_exception', reason },
    status,
  });
const fx = (name: string, status: number, body: string, headers: Record<string, string> = {}): Fixture =>
  unitCase(name, {
    request: {
      method: 'GET',
      url: 'https://es.example.com:9200/logs/_search',
      headers: { Authorization: 'Basic dTpw' },
    },
    response: { status, headers, body },
  });
// A 403 security_exception, as Elasticsearch refuses an action.
const refused = (name: string, reason: string): Fixture => fx(name, 403, envelope(403, reason));

testRule(rule, import.meta.dirname, [
  claims('x-elastic-product alone names Elasticsearch', fx('hdr', 403, '{}', { 'X-elastic-product': 'Elasticsearch' })),
  claims(
    'a cluster privilege refusal → insufficient-role',
    refused(
      'cluster',
      'action [cluster:admin/xpack/security/user/get] is unauthorized for user [monuser] with effective roles [monitor_only], this action is granted by the cluster privileges [read_security,manage_security,all]',
    ),
    'insufficient-role',
  ),
  claimsNothing('an unrelated JSON error names nothing', fx('other', 403, '{"error":"forbidden","status":403}')),
  // OpenSearch (an Elasticsearch fork) answers in the same envelope with its security plugin's own wording.
  claimsNothing(
    'the envelope with another product’s wording recognises the protocol only, below 0.5',
    refused(
      'opensearch',
      'no permissions for [cluster:monitor/health] and User [name=logstash, backend_roles=[], requestedTenant=null]',
    ),
  ),
]);

test('elasticsearch: its own security wording in the envelope proves Elasticsearch', () => {
  const out = runRule(
    rule,
    refused('own', 'action [indices:data/read/search] is unauthorized for user [reader] with effective roles [viewer]'),
  );
  assert.ok((out?.producer?.confidence ?? 0) >= 0.9, `confidence ${out?.producer?.confidence}`);
});

test('elasticsearch: required privileges vs effective roles become the gap', () => {
  const reason =
    'action [indices:admin/auto_create] is unauthorized for user [logstash_internal] with effective roles [logstash_writer] on indices [network-juniper-2026.01], this action is granted by the index privileges [auto_configure,create_index,manage,all]';
  const claim = claimedCause(rule, refused('gap', reason), 'insufficient-role');
  assert.deepEqual(claim.gap, {
    required: ['auto_configure or create_index or manage or all (index privilege) on index network-juniper-2026.01'],
    held: ['role logstash_writer'],
  });
  assert.match(claim.fixes![0].verify!, /_has_privileges.*"privileges":\["auto_configure"\]/);
});

test('elasticsearch: roles that were not found are called out', () => {
  const reason =
    'action [indices:data/read/search] is unauthorized for user [zeebe] with effective roles [] (assigned roles [zeebe_app] were not found), this action is granted by the index privileges [read,all]';
  assert.match(claimedCause(rule, refused('missing', reason)).summary, /\[zeebe_app\] it is assigned do not exist/);
});
