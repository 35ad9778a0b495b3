import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';
import { claimsNothing, claimsOf, commandsOf } from '../_lib/cases.ts';

const claims = claimsOf('google-apis');

// A 403 whose body is Google's {"error": …}, with the request's URL when the case needs one.
const fx = (name: string, error: object, url?: string) =>
  unitCase(name, {
    request: url ? { method: 'GET', url, headers: {} } : undefined,
    response: { status: 403, headers: {}, body: JSON.stringify({ error }) },
  });
const info = (reason: string, metadata: object = {}) => ({
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason,
  domain: 'googleapis.com',
  metadata,
});
// The current form: PERMISSION_DENIED with one detail (an ErrorInfo).
const denied = (name: string, message: string, detail: object) =>
  fx(name, { code: 403, message, status: 'PERMISSION_DENIED', details: [detail] });
// The legacy form: an errors[] entry in the usageLimits domain.
const usageLimits = (name: string, reason: string, message: string) =>
  fx(name, { errors: [{ domain: 'usageLimits', reason, message }], code: 403, message });

testRule(rule, import.meta.dirname, [
  claims(
    'ACCESS_TOKEN_SCOPE_INSUFFICIENT → insufficient-scope',
    denied(
      'scope',
      'Request had insufficient authentication scopes.',
      info('ACCESS_TOKEN_SCOPE_INSUFFICIENT', {
        service: 'storage.googleapis.com',
        method: 'google.storage.v1.Storage.GetObject',
      }),
    ),
    'insufficient-scope',
  ),
  claims(
    'legacy dailyLimitExceeded → rate-limited',
    usageLimits('daily', 'dailyLimitExceeded', 'Daily Limit Exceeded'),
    'rate-limited',
  ),
  claims(
    'API_KEY_IP_ADDRESS_BLOCKED → ip-restricted',
    denied(
      'ip',
      'The caller does not have permission',
      info('API_KEY_IP_ADDRESS_BLOCKED', { consumer: 'projects/123', service: 'storage.googleapis.com' }),
    ),
    'ip-restricted',
  ),
  claims(
    'API_KEY_SERVICE_BLOCKED → wrong-audience',
    denied(
      'svc',
      'Requests to this API are blocked.',
      info('API_KEY_SERVICE_BLOCKED', { consumer: 'projects/123', service: 'storage.googleapis.com' }),
    ),
    'wrong-audience',
  ),
  claimsNothing('a bare {"error":{"message"}} is not Google’s', fx('bare', { message: 'nope' })),
]);

test('google-apis: SERVICE_DISABLED yields the gcloud services enable command for that project', () => {
  const out = runRule(
    rule,
    denied(
      'svc-disabled',
      'x',
      info('SERVICE_DISABLED', { consumer: 'projects/123', service: 'pubsub.googleapis.com' }),
    ),
  );
  const claim = out!.causes![0];
  assert.equal(claim.id, 'feature-disabled');
  assert.ok(commandsOf(claim).includes('gcloud services enable pubsub.googleapis.com --project=123'));
});

test('google-apis: legacy accessNotConfigured reads service and project from the message', () => {
  const msg =
    'Service Usage API has not been used in project 1021909506549 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/serviceusage.googleapis.com/overview?project=1021909506549 then retry.';
  const out = runRule(rule, usageLimits('legacy', 'accessNotConfigured', msg));
  assert.ok(
    commandsOf(out!.causes![0]).includes('gcloud services enable serviceusage.googleapis.com --project=1021909506549'),
  );
});

test('google-apis: IAM_PERMISSION_DENIED names the permission and the troubleshooter command', () => {
  const out = runRule(
    rule,
    denied('iam', "Permission 'logging.buckets.create' denied on resource (or it may not exist).", {
      ...info('IAM_PERMISSION_DENIED', { permission: 'logging.buckets.create' }),
      domain: 'iam.googleapis.com',
    }),
  );
  const claim = out!.causes![0];
  assert.deepEqual(claim.gap, { required: ['logging.buckets.create'], held: [] });
  assert.ok(
    commandsOf(claim).some(
      (c) =>
        c.startsWith('gcloud policy-intelligence troubleshoot-policy iam ') &&
        c.includes('--permission=logging.buckets.create'),
    ),
  );
});

test('google-apis: a storage.googleapis.com host leaves room for a Cloud Storage rule', async () => {
  const gcs = fx(
    'gcs',
    {
      code: 403,
      message: 'x does not have storage.objects.get access to the Google Cloud Storage object.',
      errors: [{ domain: 'global', reason: 'forbidden', message: 'x' }],
    },
    'https://storage.googleapis.com/storage/v1/b/bucket/o/key',
  );
  assert.ok(rule.meta.yieldsTo?.includes('google-cloud-storage'));
  const report = diagnoseWith(await loadRules(), gcs.exchange);
  assert.equal(report.deniedBy?.product, 'google-cloud-storage');
});

test('google-apis: a Firebase host keeps the guess below naming a product', () => {
  const url = 'https://firebasestorage.googleapis.com/v0/b/app.appspot.com/o/a.png';
  const out = runRule(
    rule,
    fx('firebase', { code: 403, message: 'Permission denied.', status: 'PERMISSION_DENIED' }, url),
  );
  assert.ok(out!.producer!.confidence < 0.5);
});
