import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, loadFixture, type Fixture } from '../_lib/fixtures.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const json = (message: string, url: string): Fixture => ({
  file: 'json-api',
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(
    {
      request: { method: 'GET', url, headers: { Authorization: 'Bearer ya29.REDACTED' } },
      response: {
        status: 403,
        headers: {},
        body: JSON.stringify({
          error: { code: 403, message, errors: [{ message, domain: 'global', reason: 'forbidden' }] },
        }),
      },
    },
    'json-api',
  ),
});

testRule(rule, import.meta.dirname, [
  {
    name: 'JSON API: a principal without storage.objects.get → insufficient-role',
    fixture: json(
      "sa@p.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).",
      'https://storage.googleapis.com/storage/v1/b/my-bucket/o/a.txt?alt=media',
    ),
    product: 'google-cloud-storage',
    causes: ['insufficient-role'],
  },
]);

test('google-cloud-storage: the grant and the Policy Troubleshooter check name the bucket and permission', () => {
  const out = runRule(
    rule,
    json(
      "sa@p.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).",
      'https://storage.googleapis.com/storage/v1/b/my-bucket/o/a.txt?alt=media',
    ),
  );
  const c = out!.causes![0];
  assert.deepEqual(c.gap, { required: ['storage.objects.get on gs://my-bucket/a.txt'], held: [] });
  assert.ok(
    (c.fixes ?? []).some((f) =>
      f.commands?.includes(
        'gcloud storage buckets add-iam-policy-binding gs://my-bucket --member=user:EMAIL   # or serviceAccount:SA_EMAIL --role=roles/storage.objectViewer',
      ),
    ),
  );
  assert.ok(
    (c.fixes ?? []).some((f) =>
      f.verify?.startsWith(
        'gcloud policy-troubleshoot iam //storage.googleapis.com/projects/_/buckets/my-bucket --principal-email=EMAIL --permission=storage.objects.get',
      ),
    ),
  );
  assert.ok(out!.notes!.some((n) => /may simply not exist/.test(n)));
});

test('google-cloud-storage: the anonymous caller also argues a missing credential', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'xml-anonymous-access-denied.json')));
  assert.deepEqual(
    out!.causes!.map((c) => c.id),
    ['insufficient-role', 'credential-missing'],
  );
});
