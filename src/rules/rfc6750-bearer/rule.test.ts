import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, type Fixture } from '../_lib/fixtures.ts';
import { buildContext } from '../../engine/context.ts';
import type { CredentialReport } from '../../model/credential.ts';

const fx = (name: string, raw: Record<string, unknown>): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson(raw, name),
});
const challenge = (status: number, www: string, request?: object) => ({
  ...(request ? { request } : {}),
  response: { status, headers: { 'WWW-Authenticate': www }, body: '' },
});

testRule(rule, import.meta.dirname, [
  // RFC 6750 section 3, first example: no authentication in the request.
  {
    name: 'RFC 6750 §3: bare challenge → credential-missing',
    fixture: fx('rfc-bare', challenge(401, 'Bearer realm="example"')),
    causes: ['credential-missing'],
  },
  // RFC 6750 section 3, second example.
  {
    name: 'RFC 6750 §3: invalid_token "The access token expired" → credential-expired',
    fixture: fx(
      'rfc-expired',
      challenge(401, 'Bearer realm="example", error="invalid_token", error_description="The access token expired"'),
    ),
    causes: ['credential-expired'],
  },
  {
    name: 'bare challenge after a request without Authorization → credential-missing',
    fixture: fx(
      'no-auth',
      challenge(401, 'Bearer', { method: 'GET', url: 'https://api.example.test/items', headers: {} }),
    ),
    causes: ['credential-missing'],
  },
  {
    name: 'bare challenge after a non-Bearer Authorization → credential-malformed',
    fixture: fx(
      'wrong-scheme',
      challenge(401, 'Bearer realm="api"', {
        method: 'GET',
        url: 'https://api.example.test/items',
        headers: { Authorization: 'Token abc123' },
      }),
    ),
    causes: ['credential-malformed'],
  },
  {
    name: 'invalid_request on 401 → credential-malformed',
    fixture: fx(
      'invalid-request-401',
      challenge(
        401,
        'Bearer error="invalid_request", error_description="Multiple methods used to include access token"',
      ),
    ),
    causes: ['credential-malformed'],
  },
  // Spring Security's JwtTimestampValidator wording.
  {
    name: 'Spring-style "Jwt expired at" → credential-expired',
    fixture: fx(
      'jwt-expired',
      challenge(
        401,
        'Bearer error="invalid_token", error_description="An error occurred while attempting to decode the Jwt: Jwt expired at 2023-01-01T07:00:00Z", error_uri="https://tools.ietf.org/html/rfc6750#section-3.1"',
      ),
    ),
    causes: ['credential-expired'],
  },
  {
    name: 'aud in description → wrong-audience',
    fixture: fx('aud', challenge(401, 'Bearer error="invalid_token", error_description="The aud claim is not valid"')),
    causes: ['wrong-audience'],
  },
  {
    name: 'issuer in description → wrong-audience',
    fixture: fx(
      'iss',
      challenge(401, 'Bearer error="invalid_token", error_description="unexpected \\"iss\\" claim value"'),
    ),
    causes: ['wrong-audience'],
  },
  {
    name: 'nbf in description → credential-not-yet-valid',
    fixture: fx(
      'nbf',
      challenge(401, 'Bearer error="invalid_token", error_description="\\"nbf\\" claim timestamp check failed"'),
    ),
    causes: ['credential-not-yet-valid'],
  },
  {
    name: 'signature in description → credential-invalid',
    fixture: fx(
      'sig',
      challenge(401, 'Bearer error="invalid_token", error_description="signature verification failed"'),
    ),
    causes: ['credential-invalid'],
  },
  {
    name: 'invalid_token without description → credential-invalid first, expired second',
    fixture: fx('bare-invalid', challenge(401, 'Bearer error="invalid_token"')),
    causes: ['credential-invalid', 'credential-expired'],
  },
  {
    name: 'insufficient_scope → insufficient-scope',
    fixture: fx('scope', challenge(403, 'Bearer error="insufficient_scope", scope="orders:write"')),
    causes: ['insufficient-scope'],
  },
  // Microsoft identity platform claims challenge.
  {
    name: 'insufficient_claims → conditional-access',
    fixture: fx(
      'claims',
      challenge(
        401,
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZX19fQ=="',
      ),
    ),
    causes: ['conditional-access'],
  },
]);

test('rfc6750-bearer: a 400 invalid_request is not a denial and is left alone', () => {
  const ex = exchangeFromFixtureJson(challenge(400, 'Bearer error="invalid_request"'), 'bad-request');
  const ctx = buildContext(ex, { scheme: 'none', items: [], findings: [], clock: { local: new Date().toISOString() } });
  assert.equal(rule.run(ctx), undefined);
});

test('rfc6750-bearer: a Basic challenge is not read', () => {
  const ex = exchangeFromFixtureJson(challenge(401, 'Basic realm="x"'), 'basic');
  const ctx = buildContext(ex, { scheme: 'none', items: [], findings: [], clock: { local: new Date().toISOString() } });
  assert.equal(rule.run(ctx), undefined);
});

test('rfc6750-bearer: an error_description without an error code is not the standard shape', () => {
  const ex = exchangeFromFixtureJson(challenge(401, 'Bearer error_code="invalid_token", error_description="x"'), 'odd');
  const ctx = buildContext(ex, { scheme: 'none', items: [], findings: [], clock: { local: new Date().toISOString() } });
  assert.equal(rule.run(ctx), undefined);
});

test('rfc6750-bearer: insufficient_scope names the near miss against the scopes the token held', () => {
  const ex = exchangeFromFixtureJson(
    challenge(403, 'Bearer error="insufficient_scope", scope="orders:read orders:write"', {
      method: 'POST',
      url: 'https://api.example.test/orders',
      headers: { Authorization: 'Bearer eyJ.fake.token' },
    }),
    'gap',
  );
  const credential: CredentialReport = {
    scheme: 'bearer-jwt',
    items: [
      { kind: 'bearer-jwt', location: 'header:authorization', display: 'eyJ…', scopes: ['orders:read', 'profile'] },
    ],
    findings: [],
    clock: { local: new Date().toISOString() },
  };
  const out = rule.run(buildContext(ex, credential));
  const claim = out?.causes?.find((c) => c.id === 'insufficient-scope');
  assert.deepEqual(claim?.gap, { required: ['orders:write'], held: ['orders:read', 'profile'] });
  assert.ok(claim?.evidence.some((e) => e.source === 'credential:scope'));
});
