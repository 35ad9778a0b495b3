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

test('request-context: a sanitised export, or an answer without its request, leaves only the status to speak', () => {
  const fx = exchange('stripped', 'GET', {}, 401);
  fx.exchange.credentialsStripped = true;
  const stripped = runRule(rule, fx)?.causes ?? [];
  // Nothing is said of what was sent: no "nothing sent", no "still valid", only priors for a 401.
  assert.ok(stripped.length > 0);
  assert.ok(
    stripped.every((c) => c.prior && c.message === 'statusRate' && c.weight > 0),
    JSON.stringify(stripped),
  );
  const weight = (causes: typeof stripped, id: string) => causes.find((c) => c.id === id)?.weight ?? 0;
  // In the labelled fixtures a 401 is mostly a missing or refused credential, hardly ever a CSRF check.
  assert.ok(weight(stripped, 'credential-invalid') > weight(stripped, 'credential-expired'));
  assert.equal(weight(stripped, 'csrf'), 0);
  const bare = exchange('bare', 'GET', {}, 403);
  delete (bare.exchange as { request?: unknown }).request;
  const alone = runRule(rule, bare)?.causes ?? [];
  assert.ok(alone.length > 0 && alone.every((c) => c.prior && c.message === 'statusRate'));
  assert.match(alone[0].evidence[0].text, /the request is not shown/);
  assert.ok(weight(alone, 'insufficient-role') > weight(alone, 'credential-expired'));
});

test('request-context: base rates for the context, as priors that only order causes something else supports', () => {
  const priorsFor = (headers: Record<string, string>, status: number) => {
    const priors = (runRule(rule, exchange('rates', 'GET', headers, status))?.causes ?? []).filter((c) => c.prior);
    return { priors, weight: (id: string) => priors.find((c) => c.id === id)?.weight ?? 0 };
  };
  // In the labelled fixtures, a refused credential is the commonest 401 to a request that carried a token, then an expired one.
  const token = priorsFor({ Authorization: 'Bearer abcdefghijklmnopqrstuvwxyz012345' }, 401);
  assert.ok(token.weight('credential-invalid') > token.weight('credential-expired'));
  assert.ok(token.weight('credential-expired') > token.weight('csrf'));
  assert.ok(token.priors.every((c) => c.weight > 0 && c.weight <= 0.16));
  assert.match(
    token.priors.find((c) => c.id === 'credential-invalid')!.evidence[0].text,
    /of \d+ labelled 401s to requests carrying a token/,
  );
  // A password is an account's: refused, it was wrong far more often than expired.
  const password = priorsFor({ Authorization: 'Basic dXNlcjp3cm9uZw==' }, 401);
  assert.ok(password.weight('credential-invalid') > 2 * password.weight('credential-expired'));
  assert.match(password.priors[0].evidence[0].text, /requests carrying a password/);
  // A context with too few labelled denials of its own speaks with the wider one's counts.
  const signature = priorsFor(
    {
      Authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc',
    },
    403,
  );
  assert.match(signature.priors[0].evidence[0].text, /requests carrying a credential were/);
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

test('request-context: a credential header named with an underscore may never have reached the application', () => {
  const out = runRule(rule, exchange('underscore', 'POST', { api_key: 'k-0123456789abcdef0123456789' }, 403));
  const dropped = out?.causes?.find((c) => c.id === 'credential-missing' && !c.prior);
  assert.ok(dropped, ids(out).join(' '));
  assert.equal(dropped.weight, 0.5);
  assert.match(dropped.summary, /api_key, a header name with an underscore: nginx drops such headers/);
  assert.match(JSON.stringify(dropped.fixes), /Api-Key|api-key/);
});

test('request-context: a 401 to a key sent in a header of its own may mean the server reads it elsewhere', () => {
  const custom = runRule(rule, exchange('custom', 'GET', { 'X-Emby-Token': 'k-0123456789abcdef0123456789' }, 401));
  assert.ok(ids(custom).includes('credential-missing:0.3'), ids(custom).join(' '));
  assert.ok(ids(custom).includes('credential-invalid:0.35'), 'still a refusal of the key');
  // In the Authorization header every server looks for it: only the refusal.
  const standard = runRule(rule, exchange('std', 'GET', { Authorization: 'Bearer k-0123456789abcdef0123456789' }, 401));
  assert.ok(!ids(standard).includes('credential-missing:0.3'), ids(standard).join(' '));
});

test('request-context: an HTML 403 page to a request without credentials is a server rule, not an API refusing anonymous callers', () => {
  const page = runRule(
    rule,
    exchange('page', 'GET', {}, 403, { 'Content-Type': 'text/html' }, '<html><title>403 Forbidden</title></html>'),
  );
  assert.ok(!ids(page).some((c) => /^credential-missing:0\.25/.test(c)), ids(page).join(' '));
  const bare = runRule(rule, exchange('bare', 'GET', {}, 403, { 'Content-Type': 'text/plain' }, 'Forbidden\n'));
  assert.ok(!ids(bare).some((c) => /^credential-missing:0\.25/.test(c)), ids(bare).join(' '));
  const api = runRule(
    rule,
    exchange('api', 'GET', {}, 403, { 'Content-Type': 'application/json' }, '{"error":"forbidden"}'),
  );
  assert.ok(ids(api).includes('credential-missing:0.25'), ids(api).join(' '));
});

test('request-context: a 401 asking for another scheme than the one sent never read the credential', () => {
  const out = runRule(
    rule,
    exchange('scheme', 'GET', { Authorization: 'Bearer abcdefghijklmnopqrstuvwxyz012345' }, 401, {
      'WWW-Authenticate': 'Basic realm="admin"',
    }),
  );
  assert.ok(ids(out).includes('credential-malformed:0.6'), ids(out).join(' '));
  assert.ok(
    !ids(out).some((c) => c.startsWith('credential-invalid:0.3')),
    'not a refusal of a credential it never read',
  );
  assert.match(
    out!.causes!.find((c) => c.id === 'credential-malformed' && !c.prior)!.summary,
    /asks for Basic and the request sent Bearer/,
  );
});

test('request-context: an ID token is for the client that signed in, not an API; an aud naming another host is left alone', async () => {
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
      .sign(new Uint8Array(32));
  const call = async (claims: Record<string, unknown>) =>
    runRule(rule, exchange('aud', 'GET', { Authorization: `Bearer ${await sign(claims)}` }, 401));
  const id = await call({ aud: 'client-123', nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' });
  assert.ok(ids(id).includes('wrong-audience:0.5'), ids(id).join(' '));
  assert.match(id!.causes!.find((c) => c.id === 'wrong-audience' && !c.prior)!.summary, /ID token \(nonce, at_hash\)/);
  const access = await call({ aud: 'client-123', nonce: 'n', scope: 'read' });
  assert.ok(!ids(access).some((c) => c.startsWith('wrong-audience:0.5')), 'a token with scopes is an access token');
  // API identifiers are often logical URLs: the example host is api.example.test, the aud another.
  const logical = await call({ aud: 'https://reports.example.org/api' });
  // Only the alternative every refused credential keeps open, no claim from the aud.
  const audience = (logical?.causes ?? []).filter((c) => c.id === 'wrong-audience' && !c.prior);
  assert.deepEqual(
    audience.map((c) => [c.message, c.weight]),
    [['refusedElsewhere', 0.2]],
  );
});

test('request-context: a refused credential may be a good one for another place, an alternative below the refusal', () => {
  const out = runRule(
    rule,
    exchange('elsewhere', 'GET', { 'X-Api-Key': 'k-0123456789abcdef0123456789' }, 401, {
      'Content-Type': 'application/json',
    }),
  );
  const weight = (id: string) => out?.causes?.find((c) => c.id === id && !c.prior)?.weight ?? 0;
  assert.ok(
    weight('wrong-audience') > 0 && weight('wrong-audience') < weight('credential-invalid'),
    ids(out).join(' '),
  );
  const elsewhere = out!.causes!.find((c) => c.message === 'refusedElsewhere')!;
  assert.match(elsewhere.summary, /api\.example\.test may not be where this credential belongs/);
  assert.match(elsewhere.fixes![0].title, /issued for api\.example\.test/);
  // Nothing sent, nothing refused: no such alternative.
  const none = runRule(rule, exchange('none', 'GET', {}, 401));
  assert.ok(!(none?.causes ?? []).some((c) => c.message === 'refusedElsewhere'));
});

test('request-context: a stock 403 page from a server no rule knows is read as the server’s own rules, weighed low', () => {
  const page = (path: string, method = 'GET', headers: Record<string, string> = {}) =>
    unitCase('stock', {
      request: { method, url: `https://files.example.test${path}`, headers },
      response: {
        status: 403,
        headers: { 'Content-Type': 'text/html' },
        body: '<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><hr><address>Server</address></body></html>',
      },
    });
  const top = (fx: ReturnType<typeof page>) =>
    [...(runRule(rule, fx)?.causes ?? [])].filter((c) => !c.prior && c.weight > 0).sort((a, b) => b.weight - a.weight);
  assert.equal(top(page('/files/'))[0].id, 'directory-listing');
  assert.equal(top(page('/.env'))[0].id, 'path-forbidden');
  assert.equal(top(page('/upload/data.txt', 'POST'))[0].id, 'method-not-allowed');
  const plain = top(page('/reports/q3.pdf'));
  assert.deepEqual(
    plain.map((c) => c.id),
    ['path-forbidden', 'ip-restricted', 'filesystem-permission'],
  );
  assert.ok(plain.every((c) => c.weight <= 0.3 && c.fixes?.[0].title.includes('error log')));
  // A session or a credential: an application may have written the page, so lower again.
  const withSession = top(page('/reports/q3.pdf', 'GET', { Cookie: 'sessionid=abc' }));
  assert.ok(withSession[0].weight < plain[0].weight);
  // An application's JSON refusal is no stock page.
  const api = runRule(
    rule,
    unitCase('api', {
      request: { method: 'GET', url: 'https://api.example.test/v1/orders/', headers: {} },
      response: { status: 403, headers: { 'Content-Type': 'application/json' }, body: '{"error":"Forbidden"}' },
    }),
  );
  assert.ok(!(api?.causes ?? []).some((c) => c.id === 'directory-listing' && !c.prior));
});
