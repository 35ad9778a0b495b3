import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { runRule, testRule, type ExtraCase } from '../_lib/tester.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { SignJWT } from 'jose';

const claims = (name: string, fixture: ExtraCase['fixture'], ...causes: string[]): ExtraCase => ({
  name,
  fixture,
  causes,
});
const exchange = (
  name: string,
  method: string,
  headers: Record<string, string>,
  status: number,
  resHeaders: Record<string, string> = {},
  body = '',
) =>
  unitCase(name, {
    request: { method, url: 'https://api.example.test/orders/7', headers },
    response: { status, headers: resHeaders, body },
  });

testRule(rule, import.meta.dirname, [
  claims(
    'a 401 to a request with no credential → credential-missing',
    exchange('none401', 'GET', {}, 401),
    'credential-missing',
  ),
  claims(
    'a wrong Basic password: 401 asking again for Basic → credential-invalid',
    exchange('basic', 'GET', { Authorization: 'Basic dXNlcjp3cm9uZw==' }, 401, {
      'WWW-Authenticate': 'Basic realm="x"',
    }),
    'credential-invalid',
  ),
]);

/** The rule's claims from evidence; its base rates are tested on their own. */
const ids = (out: ReturnType<typeof runRule>) =>
  (out?.causes ?? []).filter((c) => !c.prior).map((c) => `${c.id}:${c.weight}`);

test('request-context: nothing sent cannot be wrong, expired or malformed', () => {
  const out = runRule(rule, exchange('none', 'POST', {}, 403));
  assert.deepEqual(ids(out), [
    'credential-missing:0.25',
    'credential-invalid:-0.6',
    'credential-expired:-0.6',
    'credential-not-yet-valid:-0.6',
    'credential-malformed:-0.6',
    'insufficient-scope:-0.3',
  ]);
});

test('request-context: a token valid by the clock argues against expiry; a GET against the method', async () => {
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ sub: 'u' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(now + 3600)
    .sign(new Uint8Array(32));
  const out = runRule(
    rule,
    exchange(
      'valid',
      'GET',
      { Authorization: `Bearer ${jwt}` },
      403,
      { 'Content-Type': 'application/json' },
      '{"message":"no"}',
    ),
  );
  assert.deepEqual(ids(out), ['credential-expired:-0.6', 'method-not-allowed:-0.6']);
});

test('request-context: a response that mentions the method keeps method-not-allowed open', () => {
  const out = runRule(
    rule,
    exchange('m', 'GET', { Authorization: 'Bearer abcdefabcdef' }, 403, {}, 'Method GET is not allowed here'),
  );
  assert.ok(!ids(out).some((c) => c.startsWith('method-not-allowed')));
});

test('request-context: a server that asks again for the scheme it was given read the credential', () => {
  const out = runRule(
    rule,
    exchange('again', 'GET', { Authorization: 'Basic dXNlcjp3cm9uZw==' }, 401, {
      'WWW-Authenticate': 'Basic realm="x"',
    }),
  );
  assert.ok(ids(out).includes('credential-missing:-0.6'), ids(out).join(' '));
});

test('request-context: a sanitised export says nothing about what was sent', () => {
  const fx = exchange('stripped', 'GET', {}, 401);
  fx.exchange.credentialsStripped = true;
  assert.equal(runRule(rule, fx), undefined);
});

test('request-context: base rates for the context, as priors that only order causes something else supports', () => {
  const out = runRule(rule, exchange('rates', 'GET', { Authorization: 'Basic dXNlcjp3cm9uZw==' }, 401));
  const priors = (out?.causes ?? []).filter((c) => c.prior);
  const weight = (id: string) => priors.find((c) => c.id === id)?.weight ?? 0;
  // In the labelled fixtures, a refused credential is the commonest 401 to a request that carried one.
  assert.ok(weight('credential-invalid') > weight('credential-expired'));
  assert.ok(weight('credential-expired') > weight('csrf'));
  assert.ok(priors.every((c) => c.weight > 0 && c.weight <= 0.16));
  assert.match(priors.find((c) => c.id === 'credential-invalid')!.evidence[0].text, /of \d+ labelled 401s/);
});

test('request-context: base-rates.json is current (npm run generate rewrites it)', async () => {
  const { baseRatesSource, BASE_RATES } = await import('../../../scripts/generate-base-rates.ts');
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(BASE_RATES, 'utf8'), baseRatesSource(), 'run npm run generate');
});

test('request-context: a request that carried only cookies is still read for its method', () => {
  const out = runRule(rule, exchange('cookies', 'GET', { Cookie: 'session=abc' }, 403));
  assert.ok(ids(out).includes('method-not-allowed:-0.6'), ids(out).join(' '));
  assert.ok(!ids(out).some((c) => c.startsWith('credential-invalid')), 'a cookie may be a session that is wrong');
});
