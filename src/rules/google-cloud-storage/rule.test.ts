import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { claimsOf, commandsOf, ownFixtures } from '../_lib/cases.ts';

const claims = claimsOf('google-cloud-storage');
const run = ownFixtures(rule, import.meta.dirname);

// The JSON API's 403: the message twice, at the top and in errors[].
const json = (message: string, url: string) =>
  unitCase('json-api', {
    request: { method: 'GET', url, headers: { Authorization: 'Bearer ya29.REDACTED' } },
    response: {
      status: 403,
      headers: {},
      body: JSON.stringify({
        error: { code: 403, message, errors: [{ message, domain: 'global', reason: 'forbidden' }] },
      }),
    },
  });
const missingGet = json(
  "sa@p.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).",
  'https://storage.googleapis.com/storage/v1/b/my-bucket/o/a.txt?alt=media',
);

testRule(rule, import.meta.dirname, [
  claims('JSON API: a principal without storage.objects.get → insufficient-role', missingGet, 'insufficient-role'),
]);

test('google-cloud-storage: the grant and the Policy Troubleshooter check name the bucket and permission', () => {
  const out = runRule(rule, missingGet);
  const c = out!.causes![0];
  assert.deepEqual(c.gap, { required: ['storage.objects.get on gs://my-bucket/a.txt'], held: [] });
  assert.ok(
    commandsOf(c).includes(
      'gcloud storage buckets add-iam-policy-binding gs://my-bucket --member=user:EMAIL   # or serviceAccount:SA_EMAIL --role=roles/storage.objectViewer',
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
  const out = run('xml-anonymous-access-denied.json');
  assert.deepEqual(
    out!.causes!.map((c) => c.id),
    ['insufficient-role', 'credential-missing'],
  );
});
