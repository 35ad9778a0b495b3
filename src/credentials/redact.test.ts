import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactHeaders, redactSecret, redactUrl } from './index.ts';

test('redactSecret shows a prefix only of long secrets, and always the length', () => {
  assert.equal(redactSecret('ghp_abcdefghijklmnopqrstuvwxyz0123456789'), 'ghp_ab…(40 chars)');
  assert.equal(redactSecret('hunter2'), '…(7 chars)');
  assert.equal(redactSecret(''), '(empty)');
  assert.equal(redactSecret('AKIAIOSFODNN7EXAMPLE', 4), 'AKIA…(20 chars)');
});

test('redactUrl masks signatures, tokens and keys, keeps what locates the resource', () => {
  const presigned =
    'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  assert.equal(
    redactUrl(presigned),
    'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA…(20 chars)/20130524/us-east-1/s3/aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9…(64 chars)',
  );
  const sas =
    'https://a.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-11-22T11%3A00%3A00Z&sp=r&sig=Z%2FRHIX5Xcg0Mq2rqI3OlWTjEg2tYkboXr1P9ZUXDtkk%3D';
  assert.equal(
    redactUrl(sas),
    'https://a.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-11-22T11%3A00%3A00Z&sp=r&sig=Z/RHIX…(44 chars)',
  );
  assert.equal(
    redactUrl('https://maps.example.test/api?q=coffee&key=AIzaSyA-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'),
    'https://maps.example.test/api?q=coffee&key=AIzaSy…(39 chars)',
  );
  assert.equal(
    redactUrl('https://example.test/s3?key=photos/cat.jpg'),
    'https://example.test/s3?key=photos/cat.jpg',
    'an ordinary key parameter stays',
  );
  assert.equal(redactUrl('https://user:p4ssw0rd@example.test/x'), 'https://user:…(8 chars)@example.test/x');
  assert.equal(
    redactUrl('https://app.example.test/cb#access_token=eyJhbGciOiJIUzI1NiJ9.e30.sig-sig-sig&token_type=bearer'),
    'https://app.example.test/cb#access_token=eyJhbG…(36 chars)&token_type=bearer',
  );
  assert.equal(
    redactUrl(
      'https://storage.googleapis.com/b/o?X-Goog-Credential=sa%40p.iam.gserviceaccount.com%2F20261122%2Fus%2Fstorage%2Fgoog4_request',
    ),
    'https://storage.googleapis.com/b/o?X-Goog-Credential=sa%40p.iam.gserviceaccount.com%2F20261122%2Fus%2Fstorage%2Fgoog4_request',
    'a service account e-mail is no secret',
  );
  assert.equal(redactUrl('https://example.test/plain?page=2'), 'https://example.test/plain?page=2');
});

test('redactHeaders masks every credential-bearing header, in both header shapes', () => {
  // Each header: its name, the value sent and the value once redacted.
  const cases = [
    ['Authorization', 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl', 'Bearer eyJhbG…(49 chars)'],
    ['Proxy-Authorization', 'Basic YWxpY2U6c2VjcmV0', 'Basic YWxpY2…(16 chars)'],
    ['Cookie', 'sessionid=abcdefghijklmnopqrstuvwxyz; theme=dark', 'sessionid=abcdef…(26 chars); theme=…(4 chars)'],
    ['X-Api-Key', '0123456789abcdef0123456789abcdef', '012345…(32 chars)'],
    ['Fastly-Key', 'fk0123456789abcdef0123456789abcd', 'fk0123…(32 chars)'],
    ['Idempotency-Key', 'order-2026-12-05-0001', 'order-2026-12-05-0001'],
    ['X-Amz-Security-Token', 'FwoGZXIvYXdzEBYaDHqqqqqqqqqqqqqqq', 'FwoGZX…(33 chars)'],
    ['Accept', 'application/json', 'application/json'],
    ['WWW-Authenticate', 'Bearer realm="api", error="invalid_token"', 'Bearer realm="api", error="invalid_token"'],
  ];
  const list = redactHeaders(cases.map(([name, value]) => ({ name, value })));
  assert.deepEqual(
    list.map((h) => h.value),
    cases.map(([, , redacted]) => redacted),
  );
  const record = redactHeaders({
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024',
    'set-cookie': ['sid=abcdefghijklmnopqrstuv; Path=/; HttpOnly', 'lang=en'],
    'private-token': 'glpat-abcdefghijklmnopqrst',
    'content-type': 'text/html',
  });
  assert.equal(
    record.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIA…(20 chars)/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=fe5f80…(64 chars)',
  );
  assert.deepEqual(record['set-cookie'], ['sid=abcdef…(22 chars); Path=/; HttpOnly', 'lang=…(2 chars)']);
  assert.equal(record['private-token'], 'glpat-…(26 chars)');
  assert.equal(record['content-type'], 'text/html');
});
