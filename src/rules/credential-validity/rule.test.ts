import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SignJWT, generateKeyPair } from 'jose';
import rule from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { loadFixture, type Fixture } from '../_lib/fixtures.ts';
import type { Exchange, NameValue } from '../../model/exchange.ts';

// Cases the documented fixtures cannot show (a skewed clock, a header in the
// wrong shape) are built here from tokens minted with a throw-away key.
const { privateKey } = await generateKeyPair('ES256');
const mint = (exp: number) =>
  new SignJWT({ sub: 'user-1', scope: 'read' })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer('https://issuer.example.test/')
    .setExpirationTime(exp)
    .sign(privateKey);
const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);

interface Built {
  status?: number;
  headers?: Record<string, string>;
  responseHeaders?: Record<string, string>;
  receivedAt?: string;
  redirects?: string[];
  url?: string;
}

function built(name: string, b: Built): Fixture {
  const list = (h: Record<string, string> = {}): NameValue[] =>
    Object.entries(h).map(([n, value]) => ({ name: n, value }));
  const exchange: Exchange = {
    request: { method: 'GET', url: b.url ?? 'https://api.example.test/orders', headers: list(b.headers) },
    response: { status: b.status ?? 401, statusText: '', headers: list(b.responseHeaders), content: { text: '' } },
    ...(b.receivedAt
      ? {
          trace: {
            redirects: (b.redirects ?? []).map((url) => ({ url, status: 302 })),
            timings: { total: 20 },
            receivedAt: b.receivedAt,
          },
        }
      : {}),
    source: { kind: 'live', name: name },
  };
  return {
    file: name,
    source: 'built in rule.test.ts',
    label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
    exchange,
  };
}

const skewed = built('clock-skew', {
  headers: { Authorization: `Bearer ${await mint(at('2026-11-22T12:01:00Z'))}` },
  responseHeaders: {
    Date: 'Sun, 22 Nov 2026 12:04:00 GMT',
    'WWW-Authenticate': 'Bearer error="invalid_token", error_description="The access token expired"',
  },
  receivedAt: '2026-11-22T12:00:00Z',
});
const schemeless = built('no-bearer-prefix', {
  headers: { Authorization: await mint(at('2099-01-01T00:00:00Z')) },
  responseHeaders: { Date: 'Sun, 22 Nov 2026 12:00:00 GMT' },
});
const placeholder = built('bearer-undefined', {
  headers: { Authorization: 'Bearer undefined' },
  responseHeaders: { 'WWW-Authenticate': 'Bearer realm="api"' },
});
const redirected = built('dropped-on-redirect', {
  responseHeaders: { 'WWW-Authenticate': 'Bearer realm="api"' },
  receivedAt: '2026-11-22T12:00:00Z',
  redirects: ['https://api.example.test/orders', 'https://api-eu.example.test/orders'],
});

testRule(rule, import.meta.dirname, [
  {
    name: 'valid by the local clock, expired by the server’s: clock skew first',
    fixture: skewed,
    causes: ['clock-skew', 'credential-expired'],
  },
  { name: 'a JWT without `Bearer `', fixture: schemeless, causes: ['credential-malformed'] },
  { name: '`Bearer undefined` is a missing credential', fixture: placeholder, causes: ['credential-missing'] },
  { name: 'nothing sent after a cross-host redirect', fixture: redirected, causes: ['credential-missing'] },
]);

const causesOf = (fx: Fixture) => runRule(rule, fx)?.causes ?? [];

test('credential-validity: claims nothing when nothing is wrong with the credential and nothing was asked for', async () => {
  const fine = built('fine-token-403', {
    status: 403,
    headers: { Authorization: `Bearer ${await mint(at('2099-01-01T00:00:00Z'))}` },
    responseHeaders: { Date: 'Sun, 22 Nov 2026 12:00:00 GMT' },
  });
  assert.deepEqual(causesOf(fine), []);
  const bare = built('no-credential-no-challenge', { status: 403 });
  assert.deepEqual(causesOf(bare), [], 'a 403 without WWW-Authenticate does not ask for a credential');
  const ok = built('expired-but-200', {
    status: 200,
    headers: { Authorization: `Bearer ${await mint(at('2000-01-01T00:00:00Z'))}` },
  });
  assert.equal(runRule(rule, ok), undefined, 'only denials are explained');
});

test('credential-validity: a credential-missing claim stays modest, and stronger after a cross-host redirect', () => {
  const plain = causesOf(loadFixture(join(import.meta.dirname, 'fixtures', 'express-jwt-bearer-no-token.json'))).find(
    (c) => c.id === 'credential-missing',
  )!;
  const hop = causesOf(redirected).find((c) => c.id === 'credential-missing')!;
  assert.ok(plain.weight <= 0.5, `modest: ${plain.weight}`);
  assert.ok(hop.weight > plain.weight);
  assert.ok(hop.evidence.some((e) => e.source === 'trace:redirects' && /api-eu\.example\.test/.test(e.text)));
  assert.ok(plain.fixes?.some((f) => f.commands?.some((c) => c.includes('Authorization: Bearer $TOKEN'))));
});

test('credential-validity: fixes name the exact command for the credential at hand', () => {
  const s3 = causesOf(loadFixture(join(import.meta.dirname, 'fixtures', 'aws-s3-presigned-expired.json'))).find(
    (c) => c.id === 'credential-expired',
  )!;
  assert.match(s3.summary, /expired 10 s before the local clock at 2017-07-20T04:18:55Z/);
  assert.deepEqual(s3.fixes?.[0].commands, [
    'aws s3 presign s3://example-bucket/path/to/object --expires-in 3600 --region ap-southeast-2',
  ]);
  const sas = causesOf(
    loadFixture(join(import.meta.dirname, 'fixtures', 'azure-storage-sas-expired-minutes.json')),
  ).find((c) => c.id === 'credential-expired')!;
  assert.match(
    sas.fixes?.[0].commands?.[0] ?? '',
    /^az storage blob generate-sas --account-name exampleaccount --container-name examplecontainer --name exampleblob /,
  );
  const skew = causesOf(skewed).find((c) => c.id === 'clock-skew')!;
  assert.ok(skew.fixes?.some((f) => f.commands?.some((c) => c.startsWith('chronyc tracking'))));
  assert.ok(skew.fixes?.some((f) => f.commands?.some((c) => c.includes('curl -sI https://api.example.test'))));
  const shape = causesOf(schemeless).find((c) => c.id === 'credential-malformed')!;
  assert.ok(shape.fixes?.some((f) => f.commands?.includes('curl -H "Authorization: Bearer $TOKEN" URL')));
});

test('credential-validity: fix commands never carry the credential', () => {
  const s3 = loadFixture(join(import.meta.dirname, 'fixtures', 'aws-s3-presigned-expired.json'));
  const json = JSON.stringify(causesOf(s3));
  assert.ok(!json.includes('deadbeefdeadbeef'));
  assert.ok(!json.includes('AKIAIOSFODNN7EXAMPLE'));
});
