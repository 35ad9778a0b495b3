import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const withToken = () => {
  const fx = loadFixture(join(fixtures, 'service-to-service-no-token.json'));
  fx.exchange.request = {
    method: 'GET',
    url: 'https://billing-1234567890.europe-west1.run.app/charge',
    headers: [{ name: 'Authorization', value: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.REDACTED' }],
  };
  return fx;
};

testRule(rule, import.meta.dirname, [
  {
    name: 'the same page with a bearer token → insufficient-role (run.invoker)',
    fixture: withToken(),
    product: 'google-cloud-run',
    causes: ['insufficient-role', 'wrong-audience'],
  },
]);

test('google-cloud-run: the invoker grant and its check name the service and region from the URL', () => {
  const c = runRule(rule, withToken())!.causes![0];
  const grant = (c.fixes ?? []).find((f) => f.title.startsWith('Grant roles/run.invoker'));
  assert.ok(
    grant?.commands?.[0].startsWith(
      'gcloud run services add-iam-policy-binding billing --region=europe-west1 --member=',
    ),
  );
  assert.match(grant?.verify ?? '', /^gcloud run services get-iam-policy billing --region=europe-west1/);
  const token = (c.fixes ?? []).find((f) => f.title.startsWith('Send an ID token'));
  assert.ok(
    token?.commands?.[0].includes(
      'gcloud auth print-identity-token --audiences=https://billing-1234567890.europe-west1.run.app',
    ),
  );
});
