import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, type Fixture } from '../_lib/fixtures.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';

const fx = (name: string, status: number, error: object, url?: string): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(
    {
      ...(url ? { request: { method: 'GET', url, headers: {} } } : {}),
      response: { status, headers: {}, body: JSON.stringify({ error }) },
    },
    name,
  ),
});
const info = (reason: string, metadata: object = {}) => ({
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason,
  domain: 'googleapis.com',
  metadata,
});

testRule(rule, import.meta.dirname, [
  {
    name: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT → insufficient-scope',
    fixture: fx('scope', 403, {
      code: 403,
      message: 'Request had insufficient authentication scopes.',
      status: 'PERMISSION_DENIED',
      details: [
        info('ACCESS_TOKEN_SCOPE_INSUFFICIENT', {
          service: 'storage.googleapis.com',
          method: 'google.storage.v1.Storage.GetObject',
        }),
      ],
    }),
    product: 'google-apis',
    causes: ['insufficient-scope'],
  },
  {
    name: 'legacy dailyLimitExceeded → rate-limited',
    fixture: fx('daily', 403, {
      errors: [{ domain: 'usageLimits', reason: 'dailyLimitExceeded', message: 'Daily Limit Exceeded' }],
      code: 403,
      message: 'Daily Limit Exceeded',
    }),
    product: 'google-apis',
    causes: ['rate-limited'],
  },
  {
    name: 'API_KEY_IP_ADDRESS_BLOCKED → ip-restricted',
    fixture: fx('ip', 403, {
      code: 403,
      message: 'The caller does not have permission',
      status: 'PERMISSION_DENIED',
      details: [info('API_KEY_IP_ADDRESS_BLOCKED', { consumer: 'projects/123', service: 'storage.googleapis.com' })],
    }),
    product: 'google-apis',
    causes: ['ip-restricted'],
  },
  {
    name: 'API_KEY_SERVICE_BLOCKED → wrong-audience',
    fixture: fx('svc', 403, {
      code: 403,
      message: 'Requests to this API are blocked.',
      status: 'PERMISSION_DENIED',
      details: [info('API_KEY_SERVICE_BLOCKED', { consumer: 'projects/123', service: 'storage.googleapis.com' })],
    }),
    product: 'google-apis',
    causes: ['wrong-audience'],
  },
  { name: 'a bare {"error":{"message"}} is not Google’s', fixture: fx('bare', 403, { message: 'nope' }) },
]);

test('google-apis: SERVICE_DISABLED yields the gcloud services enable command for that project', () => {
  const out = runRule(
    rule,
    fx('svc-disabled', 403, {
      code: 403,
      message: 'x',
      status: 'PERMISSION_DENIED',
      details: [info('SERVICE_DISABLED', { consumer: 'projects/123', service: 'pubsub.googleapis.com' })],
    }),
  );
  const claim = out!.causes![0];
  assert.equal(claim.id, 'feature-disabled');
  assert.ok(
    (claim.fixes ?? [])
      .flatMap((f) => f.commands ?? [])
      .includes('gcloud services enable pubsub.googleapis.com --project=123'),
  );
});

test('google-apis: legacy accessNotConfigured reads service and project from the message', () => {
  const msg =
    'Service Usage API has not been used in project 1021909506549 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/serviceusage.googleapis.com/overview?project=1021909506549 then retry.';
  const out = runRule(
    rule,
    fx('legacy', 403, {
      errors: [{ domain: 'usageLimits', reason: 'accessNotConfigured', message: msg }],
      code: 403,
      message: msg,
    }),
  );
  assert.ok(
    (out!.causes![0].fixes ?? [])
      .flatMap((f) => f.commands ?? [])
      .includes('gcloud services enable serviceusage.googleapis.com --project=1021909506549'),
  );
});

test('google-apis: IAM_PERMISSION_DENIED names the permission and the troubleshooter command', () => {
  const out = runRule(
    rule,
    fx('iam', 403, {
      code: 403,
      message: "Permission 'logging.buckets.create' denied on resource (or it may not exist).",
      status: 'PERMISSION_DENIED',
      details: [
        { ...info('IAM_PERMISSION_DENIED', { permission: 'logging.buckets.create' }), domain: 'iam.googleapis.com' },
      ],
    }),
  );
  const claim = out!.causes![0];
  assert.deepEqual(claim.gap, { required: ['logging.buckets.create'], held: [] });
  assert.ok(
    (claim.fixes ?? []).some((f) =>
      (f.commands ?? []).some(
        (c) =>
          c.startsWith('gcloud policy-intelligence troubleshoot-policy iam ') &&
          c.includes('--permission=logging.buckets.create'),
      ),
    ),
  );
});

test('google-apis: a storage.googleapis.com host leaves room for a Cloud Storage rule', async () => {
  const gcs = fx(
    'gcs',
    403,
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
    fx('firebase', 403, { code: 403, message: 'Permission denied.', status: 'PERMISSION_DENIED' }, url),
  );
  assert.ok(out!.producer!.confidence < 0.5);
});
