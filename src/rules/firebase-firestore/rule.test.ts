import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, type Fixture } from '../_lib/fixtures.ts';

const URL = 'https://firestore.googleapis.com/v1/projects/demo/databases/(default)/documents/users/alice';
const fx = (name: string, status: number, error: object, headers: Record<string, string> = {}, url = URL): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(
    { request: { method: 'GET', url, headers }, response: { status, headers: {}, body: JSON.stringify({ error }) } },
    name,
  ),
});

testRule(rule, import.meta.dirname, [
  {
    name: '401 UNAUTHENTICATED with a bearer token → credential-invalid',
    fixture: fx(
      'unauth',
      401,
      {
        code: 401,
        message:
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        status: 'UNAUTHENTICATED',
      },
      { Authorization: 'Bearer expired-id-token' },
    ),
    product: 'firebase-firestore',
    causes: ['credential-invalid'],
  },
  {
    name: 'IAM wording (not the Security Rules one) → insufficient-role',
    fixture: fx(
      'iam',
      403,
      { code: 403, message: 'Permission denied on resource project demo.', status: 'PERMISSION_DENIED' },
      { Authorization: 'Bearer ya29.fake' },
    ),
    product: 'firebase-firestore',
    causes: ['insufficient-role'],
  },
  {
    name: 'the same body from another Google host is not Firestore’s',
    fixture: fx(
      'other',
      403,
      { code: 403, message: 'Missing or insufficient permissions.', status: 'PERMISSION_DENIED' },
      {},
      'https://example.googleapis.com/v1/x',
    ),
  },
]);
