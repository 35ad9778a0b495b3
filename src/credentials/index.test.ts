import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, generateKeyPair, EncryptJWT } from 'jose';
import type { Exchange, NameValue, SourceKind } from '../model/exchange.ts';
import type { CredentialReport } from '../model/credential.ts';
import { InputError } from '../errors.ts';
// Inspection as the library and the engine give it: observed here, judged by credential-validity.
import { inspectExchangeCredentials, inspectToken } from '../inspect.ts';

const { privateKey } = await generateKeyPair('RS256');
const NOW = Math.floor(Date.parse('2026-11-22T12:00:00Z') / 1000);
const DATE = 'Sun, 22 Nov 2026 12:00:00 GMT';

async function jwt(
  claims: Record<string, unknown>,
  times: { exp?: number; nbf?: number; iat?: number } = {},
): Promise<string> {
  let b = new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' });
  if (times.exp !== undefined) b = b.setExpirationTime(times.exp);
  if (times.nbf !== undefined) b = b.setNotBefore(times.nbf);
  if (times.iat !== undefined) b = b.setIssuedAt(times.iat);
  return b.sign(privateKey);
}

interface Req {
  headers?: Record<string, string | string[]>;
  url?: string;
  date?: string | null;
  receivedAt?: string;
  source?: SourceKind;
  cookies?: NameValue[];
  form?: string;
}

function exchange(r: Req = {}): Exchange {
  const headers: NameValue[] = [];
  for (const [name, v] of Object.entries(r.headers ?? {}))
    for (const value of Array.isArray(v) ? v : [v]) headers.push({ name, value });
  return {
    request: {
      method: r.form ? 'POST' : 'GET',
      url: r.url ?? 'https://api.example.test/v1/things',
      headers,
      ...(r.cookies ? { cookies: r.cookies } : {}),
      ...(r.form ? { postData: { mimeType: 'application/x-www-form-urlencoded', text: r.form } } : {}),
    },
    response: {
      status: 401,
      statusText: 'Unauthorized',
      headers: r.date === null ? [] : [{ name: 'Date', value: r.date ?? DATE }],
      content: {},
    },
    ...(r.receivedAt ? { trace: { redirects: [], timings: { total: 5 }, receivedAt: r.receivedAt } } : {}),
    source: { kind: r.source ?? 'har', name: 'test' },
  };
}

const inspect = (r: Req, showSecrets = false) =>
  inspectExchangeCredentials(exchange(r), { now: new Date(NOW * 1000), showSecrets });
/** The response arrived at 12:00:00 local; the server stamped its Date at `serverTime` (hh:mm:ss) that day. */
const inspectWithServerAt = (headers: Req['headers'], serverTime: string) =>
  inspect({ headers, date: `Sun, 22 Nov 2026 ${serverTime} GMT`, receivedAt: '2026-11-22T12:00:00Z' });
const ids = (rep: CredentialReport) => rep.findings.map((f) => f.id);
const finding = (rep: CredentialReport, id: string) => {
  const f = rep.findings.find((x) => x.id === id);
  assert.ok(f, `expected finding ${id}; got ${ids(rep).join(', ') || 'none'}`);
  return f;
};

/** No part of a secret longer than the shown prefix may appear anywhere in the report. */
function assertHidden(rep: CredentialReport, secret: string, shown = 6): void {
  const json = JSON.stringify(rep);
  const tail = secret.slice(shown);
  assert.ok(!json.includes(tail), `report leaks ${tail.slice(0, 12)}…`);
}

// ---------------------------------------------------------------- JWT

test('Bearer JWT: header and claims decoded, scopes kept apart from roles, tenant and audience found', async () => {
  const token = await jwt(
    {
      iss: 'https://login.example.test/realms/acme',
      aud: ['api://orders', 'api://billing'],
      azp: 'web-client',
      sub: 'user-42',
      scope: 'orders:read orders:write',
      scp: ['User.Read'],
      permissions: ['delete:orders'],
      roles: ['admin'],
      groups: ['ops'],
      realm_access: { roles: ['offline_access'] },
      resource_access: { 'orders-api': { roles: ['viewer'] } },
    },
    { exp: NOW + 3600, iat: NOW - 60 },
  );
  const rep = inspect({ headers: { Authorization: `Bearer ${token}` } });
  assert.equal(rep.scheme, 'bearer-jwt');
  const [item] = rep.items;
  assert.equal(item.location, 'header:authorization');
  assert.deepEqual(item.header, { alg: 'RS256', kid: 'test-key', typ: 'JWT' });
  assert.deepEqual(item.scopes, ['orders:read', 'orders:write', 'User.Read', 'delete:orders']);
  assert.deepEqual(item.roles, ['admin', 'ops', 'offline_access', 'orders-api:viewer']);
  assert.equal(item.issuer, 'https://login.example.test/realms/acme');
  assert.deepEqual(item.audience, ['api://orders', 'api://billing']);
  assert.equal(item.subject, 'user-42');
  assert.equal(item.tenant, 'acme', 'Keycloak realm from the issuer');
  assert.equal(item.claims?.azp, 'web-client');
  assert.equal(item.expiresAt, '2026-11-22T13:00:00Z');
  assert.equal(item.issuedAt, '2026-11-22T11:59:00Z');
  assert.deepEqual(rep.claims, item.claims);
  assert.deepEqual(ids(rep), [], 'a valid token raises nothing');
  assert.ok(!JSON.stringify(rep).includes(token.split('.')[2]), 'the signature is never shown');
});

test('tenant from tid; scp as a space-separated string', async () => {
  const token = await jwt({ tid: 'tenant-guid', scp: 'Files.Read Mail.Send' }, { exp: NOW + 60 });
  const [item] = inspect({ headers: { Authorization: `Bearer ${token}` } }).items;
  assert.equal(item.tenant, 'tenant-guid');
  assert.deepEqual(item.scopes, ['Files.Read', 'Mail.Send']);
});

test('expired JWT: judged by the server’s Date, with the concrete times', async () => {
  const token = await jwt({ sub: 'u' }, { exp: NOW - (3 * 3600 + 12 * 60), iat: NOW - 5 * 3600 });
  const rep = inspect({ headers: { Authorization: `Bearer ${token}` } });
  const f = finding(rep, 'jwt-expired');
  assert.equal(f.cause, 'credential-expired');
  assert.equal(f.source, 'claim:exp');
  assert.match(
    f.text,
    /expired 3 h 12 min before the server's clock \(Date: Sun, 22 Nov 2026 12:00:00 GMT\); it was valid until 2026-11-22T08:48:00Z/,
  );
});

test('not-yet-valid JWT (nbf in the future)', async () => {
  const token = await jwt({ sub: 'u' }, { nbf: NOW + 3 * 86400, exp: NOW + 4 * 86400 });
  const rep = inspect({ headers: { Authorization: `Bearer ${token}` } });
  assert.equal(finding(rep, 'jwt-not-yet-valid').cause, 'credential-not-yet-valid');
  assert.equal(rep.items[0].notBefore, '2026-11-25T12:00:00Z');
});

test('clock skew: a token valid by the local clock but expired by the server’s', async () => {
  const token = await jwt({ sub: 'u' }, { exp: NOW + 60 });
  // The response arrived at 12:00:00 local; the server stamped 12:05:00.
  const rep = inspectWithServerAt({ Authorization: `Bearer ${token}` }, '12:05:00');
  assert.deepEqual(rep.clock, { local: '2026-11-22T12:00:00Z', server: '2026-11-22T12:05:00Z', skewSeconds: 300 });
  assert.equal(rep.findings[0].cause, 'clock-skew');
  assert.match(rep.findings[0].text, /still valid by the local clock/);
  assert.match(rep.findings[0].text, /5 min ahead/);
});

test('a measured skew with no window flipped is still reported when time-bound credentials were sent', async () => {
  const token = await jwt({ sub: 'u' }, { exp: NOW + 7200 });
  const rep = inspectWithServerAt({ Authorization: `Bearer ${token}` }, '12:20:00');
  const f = finding(rep, 'clock-skew-measured');
  assert.equal(f.cause, 'clock-skew');
  assert.match(f.text, /20 min ahead of the local clock/);
  // Nothing time-bound: a skew cannot explain the refusal.
  assert.deepEqual(ids(inspectWithServerAt({ 'X-Api-Key': 'k'.repeat(32) }, '12:20:00')), []);
});

test('iat ahead of the server without nbf points at the issuer’s clock', async () => {
  const token = await jwt({ sub: 'u' }, { iat: NOW + 90, exp: NOW + 3690 });
  const f = finding(inspect({ headers: { Authorization: `Bearer ${token}` } }), 'jwt-issued-in-future');
  assert.equal(f.cause, 'clock-skew');
  assert.match(f.text, /1 min 30 s after the server's clock/);
});

test('times written in milliseconds are malformed', async () => {
  const token = await jwt({ sub: 'u', exp: NOW * 1000 });
  assert.equal(
    finding(inspect({ headers: { Authorization: `Bearer ${token}` } }), 'jwt-exp-milliseconds').cause,
    'credential-malformed',
  );
});

test('an encrypted JWT shows its header only; a broken one is malformed', async () => {
  const jwe = await new EncryptJWT({ sub: 'u' })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .encrypt(new Uint8Array(32));
  const rep = inspect({ headers: { Authorization: `Bearer ${jwe}` } });
  assert.equal(rep.items[0].kind, 'bearer-jwt');
  assert.equal(rep.items[0].header?.enc, 'A256GCM');
  assert.equal(rep.items[0].claims, undefined);
  const broken = inspect({ headers: { Authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln' } });
  assert.equal(finding(broken, 'jwt-undecodable').cause, 'credential-malformed');
});

// ---------------------------------------------------------------- malformed Authorization

test('malformed Bearer headers each get their own finding', async () => {
  const token = await jwt({ sub: 'u' }, { exp: NOW + 3600 });
  const cases: [string, string, string][] = [
    [token, 'bearer-prefix-missing', 'credential-malformed'],
    [`Token ${token}`, 'token-scheme-for-jwt', 'credential-malformed'],
    [`JWT ${token}`, 'jwt-scheme-for-jwt', 'credential-malformed'],
    [`bearer ${token}`, 'bearer-scheme-case', 'credential-malformed'],
    [`BEARER ${token}`, 'bearer-scheme-case', 'credential-malformed'],
    [`Bearer: ${token}`, 'bearer-scheme-punctuation', 'credential-malformed'],
    [`Bearer Bearer ${token}`, 'bearer-doubled', 'credential-malformed'],
    [`Bearer "${token}"`, 'token-quoted', 'credential-malformed'],
    [`Bearer ${token.slice(0, 40)}\n${token.slice(40)}`, 'token-whitespace', 'credential-malformed'],
    [`Bearer ${token}\r`, 'token-trailing-whitespace', 'credential-malformed'],
    [`Bearer\n${token}`, 'bearer-line-break', 'credential-malformed'],
    [`Bearer  ${token}`, 'bearer-extra-space', 'credential-malformed'],
    [`Authorization: Bearer ${token}`, 'header-name-in-value', 'credential-malformed'],
    ['Bearer undefined', 'bearer-placeholder', 'credential-missing'],
    ['Bearer {{access_token}}', 'bearer-placeholder', 'credential-missing'],
    ['Bearer ', 'bearer-placeholder', 'credential-missing'],
    ['', 'authorization-empty', 'credential-missing'],
  ];
  for (const [value, id, cause] of cases) {
    const rep = inspect({ headers: { Authorization: value } });
    assert.equal(finding(rep, id).cause, cause, JSON.stringify(value));
    if (cause === 'credential-malformed')
      assert.equal(rep.items[0].kind, 'bearer-jwt', `the token is still decoded: ${JSON.stringify(value)}`);
  }
  const clean = inspect({ headers: { Authorization: `Bearer ${token}` } });
  assert.deepEqual(ids(clean), [], 'the well-formed header raises nothing');
});

test('a shared curl command keeps $TOKEN on purpose: weaker than a HAR that really sent it', () => {
  const curl = finding(inspect({ headers: { Authorization: 'Bearer $TOKEN' }, source: 'curl' }), 'bearer-placeholder');
  const har = finding(inspect({ headers: { Authorization: 'Bearer $TOKEN' }, source: 'har' }), 'bearer-placeholder');
  assert.ok(curl.weight < 0.5 && har.weight > 0.8);
  assert.match(curl.text, /single quotes/);
  // Words people redact with are not placeholders.
  assert.deepEqual(ids(inspect({ headers: { Authorization: 'Bearer TOKEN' } })), []);
});

test('two Authorization headers', () => {
  const rep = inspect({ headers: { Authorization: ['Bearer abcdefghijklmnopqrstuvwxyz', 'Basic dXNlcjpwYXNz'] } });
  assert.equal(finding(rep, 'authorization-repeated').cause, 'credential-malformed');
  assert.equal(rep.items.length, 2);
});

// ---------------------------------------------------------------- opaque tokens

test('opaque tokens are recognised by their documented prefixes', () => {
  const cases: [string, RegExp][] = [
    ['ghp_' + 'A1b2C3d4E5'.repeat(3) + 'abcdef', /GitHub personal access token \(classic\)/],
    ['github_pat_' + '11ABCDEFG0123456789abc_' + 'x'.repeat(59), /GitHub fine-grained personal access token/],
    ['gho_' + 'Z'.repeat(36), /GitHub OAuth access token/],
    ['ghs_' + 'Q'.repeat(36), /GitHub App installation token/],
    ['glpat-' + 'abcDEF123_-xyz789QRS', /GitLab personal, project or group access token/],
    ['xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx', /Slack bot token/],
    ['sk_live_' + '51Habc'.repeat(5), /Stripe secret key \(live mode\)/],
    ['rk_live_' + '51Habc'.repeat(5), /Stripe restricted key \(live mode\)/],
    ['ya29.a0AfB_byC' + 'x'.repeat(60), /Google OAuth 2.0 access token/],
    ['hvs.' + 'CAESI'.repeat(10), /Vault service token/],
  ];
  for (const [token, name] of cases) {
    const rep = inspect({ headers: { Authorization: `Bearer ${token}` } });
    assert.equal(rep.scheme, 'bearer-opaque');
    assert.match(rep.items[0].display, name);
    assert.deepEqual(ids(rep), [], `${token.slice(0, 8)} is a fine bearer token`);
    assertHidden(rep, token);
  }
});

test('credentials that are not bearer tokens say what to do instead', () => {
  const aws = inspect({ headers: { Authorization: 'Bearer AKIAIOSFODNN7EXAMPLE' } });
  assert.match(aws.items[0].display, /AWS access key id \(long-term/);
  assert.match(finding(aws, 'token-not-bearer').text, /Signature Version 4/);
  const sts = inspect({ headers: { Authorization: 'Bearer ASIAIOSFODNN7EXAMPLE' } });
  assert.match(sts.items[0].display, /temporary, from STS/);
  const google = inspect({ headers: { Authorization: 'Bearer AIzaSyA-' + 'b'.repeat(31) } });
  assert.match(finding(google, 'token-not-bearer').text, /X-Goog-Api-Key/);
});

// ---------------------------------------------------------------- Basic

test('Basic: the user name, never the password; an empty password noted', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const rep = inspect({ headers: { Authorization: `Basic ${b64('alice:correct horse battery staple')}` } });
  assert.equal(rep.scheme, 'basic');
  assert.equal(rep.items[0].principal, 'alice');
  assert.match(rep.items[0].display, /user "alice", password …\(28 chars\)/);
  assert.ok(!JSON.stringify(rep).includes('horse'));
  assert.ok(!JSON.stringify(rep).includes(b64('alice:correct horse battery staple').slice(6)));
  const empty = inspect({ headers: { Authorization: `Basic ${b64('bob:')}` } });
  assert.match(empty.items[0].display, /user "bob", empty password/);
  // Stripe takes the secret key as the Basic user: then the user name is the secret.
  const key = 'sk_test_' + '4eC39HqLyjWDarjtT1zdp7dc';
  const stripe = inspect({ headers: { Authorization: `Basic ${b64(key + ':')}` } });
  assert.match(stripe.items[0].display, /Stripe secret key \(test mode/);
  assertHidden(stripe, key);
  assert.equal(
    finding(inspect({ headers: { Authorization: 'Basic not base64!' } }), 'basic-not-base64').cause,
    'credential-malformed',
  );
  assert.equal(
    finding(inspect({ headers: { Authorization: `Basic ${b64('nocolon')}` } }), 'basic-no-colon').cause,
    'credential-malformed',
  );
  const shown = inspect({ headers: { Authorization: `Basic ${b64('alice:s3cret-password')}` } }, true);
  assert.match(shown.items[0].display, /password s3cret-password/);
});

// ---------------------------------------------------------------- API keys, cookies

test('API keys in headers, the query string and a form body', async () => {
  const key = 'k3y_' + 'Z9'.repeat(14);
  const rep = inspect({ headers: { 'X-Api-Key': key, 'Private-Token': 'glpat-abcdefghijklmnopqrst' } });
  assert.deepEqual(
    rep.items.map((i) => [i.kind, i.location]),
    [
      ['api-key', 'header:x-api-key'],
      ['api-key', 'header:private-token'],
    ],
  );
  assert.match(rep.items[1].display, /GitLab/);
  assertHidden(rep, key);
  const google = 'AIza' + 'SyB'.repeat(11) + 'xy';
  const q = inspect({ url: `https://maps.example.test/api?key=${google}&api_key=${key}&q=coffee` });
  assert.deepEqual(
    q.items.map((i) => i.location),
    ['query:key', 'query:api_key'],
  );
  assert.match(q.items[0].display, /Google API key/);
  assertHidden(q, google);
  assertHidden(q, key);
  const token = await jwt({ sub: 'u' }, { exp: NOW - 10 });
  const at = inspect({ url: `https://api.example.test/x?access_token=${token}` });
  assert.equal(at.items[0].kind, 'bearer-jwt');
  assert.equal(at.items[0].location, 'query:access_token');
  assert.equal(finding(at, 'jwt-expired').cause, 'credential-expired');
  const body = inspect({ form: `grant=x&access_token=${token}` });
  assert.equal(body.items[0].location, 'body:access_token');
  // An ordinary short "key" parameter is not a credential.
  assert.deepEqual(inspect({ url: 'https://example.test/s3?key=photos/cat.jpg' }).items, []);
});

test('a key header sent empty carries no key: the variable that should fill it was unset', () => {
  const rep = inspect({ headers: { 'X-Service-Api-Key': '' } });
  assert.equal(rep.items[0].display, '(empty: no key)');
  const f = finding(rep, 'key-placeholder');
  assert.equal(f.cause, 'credential-missing');
  assert.match(f.text, /header:x-service-api-key is sent empty/);
});

test('a header named like a key is a key, unless HTTP names it for something else', () => {
  const key = 'fk_' + 'Q7'.repeat(15);
  const rep = inspect({
    headers: {
      'Fastly-Key': key,
      'Idempotency-Key': 'order-2026-12-05-0001',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'X-Cache-Key': '/orders/42',
    },
  });
  assert.deepEqual(
    rep.items.map((i) => [i.kind, i.location]),
    [['api-key', 'header:fastly-key']],
  );
  assertHidden(rep, key);
});

test('cookies: names only, session and CSRF cookies told apart', () => {
  const rep = inspect({
    headers: {
      Cookie: 'sessionid=abcdefghijklmnopqrstuvwxyz012345; csrftoken=ZYXWVUTSRQPONMLKJIHGFEDCBA; _ga=GA1.2.3',
    },
    cookies: [{ name: 'JSESSIONID', value: 'node0abcdefghijklmnop' }],
  });
  const [item] = rep.items;
  assert.equal(rep.scheme, 'cookie');
  assert.equal(item.kind, 'cookie');
  assert.equal(item.display, '4 cookies: sessionid (session), csrftoken (CSRF), _ga, JSESSIONID (session)');
  assert.deepEqual(item.claims, {
    names: ['sessionid', 'csrftoken', '_ga', 'JSESSIONID'],
    session: ['sessionid', 'JSESSIONID'],
    csrf: ['csrftoken'],
  });
  const json = JSON.stringify(rep);
  for (const v of [
    'abcdefghijklmnopqrstuvwxyz012345',
    'ZYXWVUTSRQPONMLKJIHGFEDCBA',
    'GA1.2.3',
    'node0abcdefghijklmnop',
  ])
    assert.ok(!json.includes(v));
});

test('the main credential is the one the server most likely judged', async () => {
  const token = await jwt({ sub: 'u' }, { exp: NOW + 60 });
  const rep = inspect({
    headers: { Cookie: 'sid=abc', 'X-Api-Key': 'k'.repeat(20), Authorization: `Bearer ${token}` },
  });
  assert.equal(rep.scheme, 'bearer-jwt');
  assert.equal(inspect({}).scheme, 'none');
});

// ---------------------------------------------------------------- AWS

// The example request of https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
const SIGV4 =
  'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024';

test('SigV4 header: key id redacted, scope decoded, signing time compared with the server’s Date', () => {
  const rep = inspect({
    url: 'https://examplebucket.s3.amazonaws.com/test.txt',
    headers: { Authorization: SIGV4, 'x-amz-date': '20130524T000000Z' },
    date: 'Fri, 24 May 2013 00:20:00 GMT',
  });
  assert.equal(rep.scheme, 'aws-sigv4');
  const [item] = rep.items;
  assert.equal(item.principal, 'AKIA…(20 chars)');
  assert.equal(item.claims?.region, 'us-east-1');
  assert.equal(item.claims?.service, 's3');
  assert.deepEqual(item.claims?.signedHeaders, ['host', 'range', 'x-amz-content-sha256', 'x-amz-date']);
  assert.equal(item.claims?.securityToken, 'absent');
  const f = finding(rep, 'signing-time-skew');
  assert.equal(f.cause, 'clock-skew');
  assert.match(f.text, /20 min behind the server's clock/);
  assertHidden(rep, 'fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024');
  assert.ok(!JSON.stringify(rep).includes('AKIAIOSFODNN7EXAMPLE'));
  // Without the server's Date only staleness against the local clock can be said, and more weakly.
  const stale = finding(
    inspect({ headers: { Authorization: SIGV4, 'x-amz-date': '20130524T000000Z' }, date: null }),
    'signing-time-stale',
  );
  assert.ok(stale.weight < f.weight);
  assert.match(stale.text, /replayed later/);
  const inTime = inspect({
    headers: { Authorization: SIGV4, 'x-amz-date': '20130524T000000Z' },
    date: 'Fri, 24 May 2013 00:10:00 GMT',
  });
  assert.deepEqual(ids(inTime), []);
  const sts = inspect({
    headers: { Authorization: SIGV4.replace('AKIA', 'ASIA'), 'x-amz-date': '20130524T000000Z' },
    date: 'Fri, 24 May 2013 00:00:00 GMT',
  });
  assert.equal(finding(sts, 'sigv4-session-token-missing').cause, 'credential-malformed');
  assert.equal(
    finding(
      inspect({
        headers: {
          Authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request',
        },
      }),
      'sigv4-incomplete',
    ).cause,
    'credential-malformed',
  );
});

// The example URL of https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
const PRESIGNED =
  'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';

test('pre-signed S3 URL: expiry is X-Amz-Date + X-Amz-Expires, judged by the server’s Date', () => {
  const valid = inspect({ url: PRESIGNED, date: 'Fri, 24 May 2013 12:00:00 GMT' });
  assert.equal(valid.scheme, 'aws-presigned-url');
  const [item] = valid.items;
  assert.equal(item.notBefore, '2013-05-24T00:00:00Z');
  assert.equal(item.expiresAt, '2013-05-25T00:00:00Z');
  assert.equal(item.claims?.bucket, 'examplebucket');
  assert.equal(item.claims?.key, 'test.txt');
  assert.equal(item.claims?.region, 'us-east-1');
  assert.equal(item.claims?.['X-Amz-Credential'], 'AKIA…(20 chars)/20130524/us-east-1/s3/aws4_request');
  assert.deepEqual(ids(valid), []);
  const expired = inspect({ url: PRESIGNED, date: 'Sat, 25 May 2013 03:30:00 GMT' });
  const f = finding(expired, 'aws-presigned-expired');
  assert.equal(f.source, 'query:X-Amz-Expires');
  assert.match(f.text, /expired 3 h 30 min before the server's clock/);
  const early = inspect({ url: PRESIGNED, date: 'Thu, 23 May 2013 23:58:00 GMT' });
  assert.deepEqual(
    early.findings.map((x) => x.cause),
    ['credential-not-yet-valid', 'clock-skew'],
  );
  for (const rep of [valid, expired, early]) {
    assertHidden(rep, 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
    assert.ok(!JSON.stringify(rep).includes('AKIAIOSFODNN7EXAMPLE'));
  }
});

test('pre-signed URL limits and temporary credentials', () => {
  const tooLong = inspect({
    url: PRESIGNED.replace('X-Amz-Expires=86400', 'X-Amz-Expires=700000'),
    date: 'Fri, 24 May 2013 12:00:00 GMT',
  });
  assert.equal(finding(tooLong, 'presigned-expires-too-long').cause, 'credential-malformed');
  const noExpiry = inspect({
    url: PRESIGNED.replace('&X-Amz-Expires=86400', ''),
    date: 'Fri, 24 May 2013 12:00:00 GMT',
  });
  assert.equal(finding(noExpiry, 'presigned-expires-missing').cause, 'credential-malformed');
  const sts = inspect({
    url: PRESIGNED.replace('AKIA', 'ASIA') + '&X-Amz-Security-Token=FwoGZXIvYXdzEBYaDH' + 'q'.repeat(40),
    date: 'Fri, 24 May 2013 12:00:00 GMT',
  });
  assert.equal(finding(sts, 'presigned-session-credentials').cause, 'credential-expired');
  assert.match(String(sts.items[0].claims?.['X-Amz-Security-Token']), /^present \(\d+ chars\)$/);
  assert.ok(!JSON.stringify(sts).includes('FwoGZXIvYXdzEBYaDH'));
});

test('SigV2 pre-signed URL (absolute Expires) and path-style bucket', () => {
  const url =
    'https://s3.amazonaws.com/examplebucket/photos/cat.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1141889120&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D';
  const rep = inspect({ url, date: 'Thu, 09 Mar 2006 08:00:00 GMT' });
  assert.equal(rep.scheme, 'aws-presigned-url');
  assert.equal(rep.items[0].expiresAt, '2006-03-09T07:25:20Z');
  assert.equal(rep.items[0].claims?.bucket, 'examplebucket');
  assert.equal(rep.items[0].claims?.key, 'photos/cat.jpg');
  assert.match(finding(rep, 'aws-presigned-expired').text, /34 min 40 s before/);
});

test('CloudFront signed URL (canned policy)', () => {
  const rep = inspect({
    url: 'https://d111111abcdef8.cloudfront.net/image.jpg?Expires=1767225600&Signature=nitfHRCrtziwO2HwPfWw~yYDhUF5EwRunQA-j19DzZrvDh6hQ73lDx~-ar3UocvvRQVw6EkC~GdpGQyyOSKQim-TxAnW7d8F5Kkai9HVx0FIu-5jcQb0UEmatEXAMPLE3ReXySpLSMj0yCd3ZAB4UcBCAqEijkytL6f3fVYNGQI6&Key-Pair-Id=K2JCJMDEHXQW5F',
    date: DATE,
  });
  assert.equal(rep.items[0].kind, 'other');
  assert.match(rep.items[0].display, /CloudFront signed URL \(canned policy\), key pair K2JCJMDEHXQW5F/);
  assert.match(finding(rep, 'cloudfront-signed-url-expired').text, /before the server's clock/);
});

// ---------------------------------------------------------------- Azure SAS

const SAS =
  'https://myaccount.blob.core.windows.net/sascontainer/sasblob.txt?sv=2022-11-02&st=2026-11-22T10:00:00Z&se=2026-11-22T11:00:00Z&sr=b&sp=rwdp&sip=168.1.5.60-168.1.5.70&spr=https&sig=Z%2FRHIX5Xcg0Mq2rqI3OlWTjEg2tYkboXr1P9ZUXDtkk%3D';

test('Azure SAS: window, permissions in words, account and path, IP range', () => {
  const rep = inspect({ url: SAS });
  assert.equal(rep.scheme, 'azure-sas');
  const [item] = rep.items;
  assert.equal(item.principal, 'myaccount');
  assert.deepEqual(item.scopes, ['read', 'write', 'delete', 'permissions']);
  assert.equal(item.claims?.resource, 'blob');
  assert.equal(item.claims?.container, 'sascontainer');
  assert.equal(item.claims?.blob, 'sasblob.txt');
  assert.equal(item.notBefore, '2026-11-22T10:00:00Z');
  assert.equal(item.expiresAt, '2026-11-22T11:00:00Z');
  const f = finding(rep, 'azure-sas-expired');
  assert.equal(f.source, 'query:se');
  assert.match(f.text, /The SAS expired 1 h before the server's clock/);
  assert.equal(finding(rep, 'azure-sas-ip-range').cause, 'ip-restricted');
  assertHidden(rep, 'Z/RHIX5Xcg0Mq2rqI3OlWTjEg2tYkboXr1P9ZUXDtkk=');
});

test('Azure SAS: account SAS reads p as process; inverted window; http against spr=https; user delegation key expiry', () => {
  const account = inspect({
    url: 'https://myaccount.queue.core.windows.net/?sv=2022-11-02&ss=bq&srt=sco&sp=rwlaup&se=2026-11-23T00:00:00Z&sig=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG%3D',
  });
  assert.deepEqual(account.items[0].scopes, ['read', 'write', 'list', 'add', 'update', 'process']);
  assert.deepEqual(account.items[0].claims?.services, ['blob', 'queue']);
  assert.deepEqual(account.items[0].claims?.resourceTypes, ['service', 'container', 'object']);
  assert.match(account.items[0].display, /account SAS/);
  assert.deepEqual(ids(account), []);
  const inverted = inspect({
    url: 'https://a.blob.core.windows.net/c/b?sv=2022-11-02&st=2026-11-22T12:00:00Z&se=2026-11-22T11:00:00Z&sr=b&sp=r&sig=x',
  });
  assert.equal(finding(inverted, 'azure-sas-window-inverted').cause, 'credential-malformed');
  const http = inspect({ url: SAS.replace('https:', 'http:').replace('se=2026-11-22T11', 'se=2026-11-22T13') });
  assert.equal(finding(http, 'azure-sas-https-only').cause, 'credential-malformed');
  const delegation = inspect({
    url: 'https://a.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-11-23T00:00:00Z&sr=b&sp=r&skoid=oid-1&sktid=tenant-1&skt=2026-11-21T00:00:00Z&ske=2026-11-22T06:00:00Z&sks=b&skv=2022-11-02&sig=x',
  });
  assert.match(delegation.items[0].display, /user delegation SAS/);
  assert.equal(delegation.items[0].tenant, 'tenant-1');
  assert.match(
    finding(delegation, 'azure-sas-key-expired').text,
    /user delegation key behind the SAS expired 6 h before/,
  );
});

// ---------------------------------------------------------------- Google

test('Google Cloud Storage V4 signed URL: service account shown, signature hidden', () => {
  const sig = 'a'.repeat(60) + '0123456789abcdef'.repeat(4);
  const url = `https://storage.googleapis.com/example-bucket/cat.jpeg?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=example%40example-project.iam.gserviceaccount.com%2F20261122%2Fus%2Fstorage%2Fgoog4_request&X-Goog-Date=20261122T100000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature=${sig}`;
  const rep = inspect({ url });
  assert.equal(rep.scheme, 'google-signed-url');
  const [item] = rep.items;
  assert.equal(item.principal, 'example@example-project.iam.gserviceaccount.com');
  assert.equal(item.claims?.bucket, 'example-bucket');
  assert.equal(item.claims?.object, 'cat.jpeg');
  assert.equal(item.expiresAt, '2026-11-22T10:15:00Z');
  assert.match(finding(rep, 'gcs-signed-url-expired').text, /1 h 45 min before the server's clock/);
  assertHidden(rep, sig);
  // Interoperable HMAC signing uses the X-Amz names against storage.googleapis.com.
  const hmac = inspect({
    url: PRESIGNED.replace('examplebucket.s3.amazonaws.com', 'storage.googleapis.com/examplebucket'),
    date: 'Fri, 24 May 2013 12:00:00 GMT',
  });
  assert.equal(hmac.scheme, 'google-signed-url');
});

// ---------------------------------------------------------------- redaction

test('nothing secret survives JSON.stringify(report) for any credential kind; showSecrets shows it', async () => {
  const token = await jwt({ sub: 'u', scope: 'a' }, { exp: NOW - 60 });
  const opaque = 'ghp_' + 'S3cr3tT0k3n'.repeat(3) + 'xyz';
  const basic = Buffer.from('carol:hunter2-but-longer').toString('base64');
  const key = 'x-api-' + 'K'.repeat(30);
  const rep = inspect({
    url: `${SAS}&access_token=${opaque}`,
    headers: {
      Authorization: `Bearer ${token}`,
      'Proxy-Authorization': `Basic ${basic}`,
      'X-Api-Key': key,
      Cookie: 'session=very-secret-session-value-1234',
    },
  });
  const json = JSON.stringify(rep);
  for (const secret of [
    token,
    token.split('.')[2],
    opaque.slice(6),
    basic.slice(6),
    'hunter2',
    key.slice(6),
    'very-secret-session-value',
    'Z/RHIX5Xcg0Mq2rqI3OlWTjEg2tYkboXr1P9ZUXDtkk=',
  ])
    assert.ok(!json.includes(secret), `leaks ${secret.slice(0, 10)}`);
  const shown = JSON.stringify(inspect({ headers: { Authorization: `Bearer ${token}`, 'X-Api-Key': key } }, true));
  assert.ok(shown.includes(token) && shown.includes(key));
});

// ---------------------------------------------------------------- inspectToken

test('inspectToken accepts every documented input shape', async () => {
  const now = new Date(NOW * 1000);
  const token = await jwt({ sub: 'u', scope: 'read' }, { exp: NOW - 3600 });
  for (const input of [token, `Bearer ${token}`, `Authorization: Bearer ${token}`, `  ${token}\n`]) {
    const rep = inspectToken(input, { now });
    assert.equal(rep.scheme, 'bearer-jwt', input.slice(0, 20));
    assert.match(finding(rep, 'jwt-expired').text, /expired 1 h before the given time \(2026-11-22T12:00:00Z\)/);
    assert.deepEqual(rep.clock, { local: '2026-11-22T12:00:00Z' });
    assert.deepEqual(
      rep.findings.map((f) => f.cause),
      ['credential-expired'],
      'a bare token needs no Bearer prefix',
    );
  }
  const presigned = inspectToken(PRESIGNED, { now: new Date('2013-05-25T01:00:00Z') });
  assert.equal(presigned.scheme, 'aws-presigned-url');
  assert.match(finding(presigned, 'aws-presigned-expired').text, /1 h before the given time/);
  const sas = inspectToken(SAS.slice(SAS.indexOf('?')), { now: new Date('2026-11-22T10:30:00Z') });
  assert.equal(sas.scheme, 'azure-sas');
  assert.deepEqual(
    sas.findings.map((f) => f.cause),
    ['ip-restricted'],
  );
  const sasUrl = inspectToken(SAS, { now: new Date('2026-11-22T10:30:00Z') });
  assert.equal(sasUrl.items[0].principal, 'myaccount');
  const basic = inspectToken(`Basic ${Buffer.from('dave:pw').toString('base64')}`);
  assert.equal(basic.items[0].principal, 'dave');
  const header = inspectToken('X-Api-Key: 0123456789abcdef0123');
  assert.equal(header.items[0].kind, 'api-key');
  const wrapped = inspectToken(`${token.slice(0, 50)}\n${token.slice(50)}`, { now });
  assert.equal(finding(wrapped, 'token-whitespace').cause, 'credential-malformed');
  assert.equal(wrapped.items[0].kind, 'bearer-jwt');
  const opaque = inspectToken('xoxb-1234-5678-abcdefghijklmnop');
  assert.match(opaque.items[0].display, /Slack bot token/);
});

test('inspectToken: bad input is one clear error, not a stack trace', () => {
  assert.throws(
    () => inspectToken('   \n'),
    (e: unknown) => e instanceof InputError && /empty input/.test(e.message) && !e.message.includes('\n'),
  );
  assert.throws(
    () => inspectToken('https://exa mple.test/?sig=1'),
    (e: unknown) => e instanceof InputError && /does not parse/.test(e.message),
  );
});

test('dates no Date can hold (a JWT exp far below zero, a twenty-digit Expires) are findings, not a RangeError', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const token = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: -8640000000000.001, nbf: -1e13 })}.c2ln`;
  const r = inspectToken(token, { now: new Date(NOW * 1000) });
  assert.ok(r.findings.some((f) => f.id === 'jwt-exp-out-of-range' && f.cause === 'credential-malformed'));
  assert.equal(r.items[0]!.expiresAt, undefined);
  const cf = inspectToken(
    'https://d111111abcdef8.cloudfront.net/x?Expires=99999999999999999999&Signature=abc&Key-Pair-Id=K1',
    { now: new Date(NOW * 1000) },
  );
  assert.ok(cf.items.length);
});

test('a URL path with a malformed %-escape does not stop the inspection of a pre-signed URL', () => {
  const r = inspectExchangeCredentials({
    request: {
      method: 'GET',
      url: 'https://bucket.s3.amazonaws.com/%zz',
      headers: [],
      queryString: [{ name: 'X-Amz-Signature', value: '' }],
    },
    response: { status: 403, statusText: '', headers: [], content: {} },
    source: { kind: 'har', name: 'x' },
  });
  assert.equal(r.scheme, 'aws-presigned-url');
});

test('a header or parameter named like a key or token is a credential, whatever the service; anti-forgery tokens are not', () => {
  const rep = inspect({
    headers: { 'X-Consul-Token': 'c0ffee00-1111-2222-3333-444455556666', 'X-CSRF-Token': 'abcdefghijklmnop0123' },
  });
  assert.deepEqual(
    rep.items.map((i) => [i.kind, i.location]),
    [['api-key', 'header:x-consul-token']],
  );
  assertHidden(rep, 'c0ffee00-1111-2222-3333-444455556666');
  const sig = 'f5c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4';
  const swift = inspect({
    url: `https://swift.example.test/v1/AUTH_a/c/o?temp_url_sig=${sig}&temp_url_expires=1435307085`,
  });
  assert.deepEqual(
    swift.items.map((i) => i.location),
    ['query:temp_url_sig'],
  );
  assertHidden(swift, sig);
  const algolia = inspect({
    url: 'https://x-dsn.algolia.net/1/indexes?x-algolia-api-key=0123456789abcdef0123456789abcdef',
  });
  assert.deepEqual(
    algolia.items.map((i) => i.location),
    ['query:x-algolia-api-key'],
  );
});

test('a key header that holds a placeholder was never filled in: credential-missing', () => {
  const rep = inspect({ headers: { 'X-Figma-Token': 'None' } });
  assert.equal(rep.items[0].display, '"None" (a placeholder, not a key)');
  const f = finding(rep, 'key-placeholder');
  assert.equal(f.cause, 'credential-missing');
  assert.equal(f.weight, 0.85);
  assert.match(f.text, /header:x-figma-token reads `None`/);
});

test("an application's own signed URL (a lone signature parameter) is a credential; a known signed-URL format keeps its parameters", () => {
  const sig = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const app = inspect({ url: `https://app.example.test/unsubscribe/1?expires=1735689600&signature=${sig}` });
  assert.deepEqual(
    app.items.map((i) => i.location),
    ['query:signature'],
  );
  assertHidden(app, sig);
  const v2 = inspect({
    url: `https://bucket.s3.amazonaws.com/key?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1735689600&Signature=${sig}`,
  });
  assert.deepEqual(
    v2.items.map((i) => i.kind),
    ['aws-presigned-url'],
  );
});
