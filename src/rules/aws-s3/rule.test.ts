import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';
import { unitCase } from '../_lib/unit-case.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';

const cases = join(import.meta.dirname, 'cases');
const fixtures = join(import.meta.dirname, 'fixtures');

testRule(rule, import.meta.dirname, [
  // S3 answers ExpiredToken with 400, which the engine does not treat as a denial; the rule still reads it.
  {
    name: 'ExpiredToken (400) is an expired session token',
    fixture: loadFixture(join(cases, 'expired-token-400.json')),
    product: 'aws-s3',
    causes: ['credential-expired'],
  },
  {
    name: 'a body-less HEAD 403 is still S3, reason unknown',
    fixture: loadFixture(join(cases, 'head-no-body.json')),
    product: 'aws-s3',
    causes: ['insufficient-role', 'resource-policy'],
  },
]);

test('aws-s3: clock skew is computed from RequestTime and ServerTime', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'request-time-too-skewed.json')));
  const skew = out?.causes?.find((c) => c.id === 'clock-skew');
  assert.ok(skew, 'claims clock-skew');
  assert.match(skew.summary, /59 min 43 s ahead/);
});

test('aws-s3: pre-signed expiry says how late the URL was used', () => {
  const out = runRule(rule, loadFixture(join(fixtures, 'presigned-url-expired-sigv4.json')));
  const c = out?.causes?.find((x) => x.id === 'credential-expired');
  assert.match(c?.summary ?? '', /used 10 s later/);
  assert.match(c?.summary ?? '', /lifetime of 300 s/);
});

test('aws-s3: a bare AccessDenied for a GET of a key warns about the missing-key look-alike', () => {
  const fx = loadFixture(join(fixtures, 'access-denied-bare.json'));
  fx.exchange.request = {
    method: 'GET',
    url: 'https://my-bucket.s3.us-east-1.amazonaws.com/reports/2025.csv',
    headers: [
      {
        name: 'Authorization',
        value:
          'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250325/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=redacted',
      },
    ],
  };
  const out = runRule(rule, fx);
  assert.ok(
    out?.notes?.some((n) => /403 instead of 404/.test(n)),
    'notes the ListBucket look-alike',
  );
  const wrong = out?.causes?.find((c) => c.id === 'wrong-endpoint');
  assert.ok(
    wrong?.fixes?.some((f) =>
      f.commands?.some((cmd) => cmd.includes('s3:ListBucket') && cmd.includes('arn:aws:s3:::my-bucket')),
    ),
    'offers the s3:ListBucket grant',
  );
  const role = out?.causes?.find((c) => c.id === 'insufficient-role');
  assert.ok(
    role?.fixes?.some((f) =>
      f.commands?.some(
        (cmd) => cmd.includes('--action-names s3:GetObject') && cmd.includes('arn:aws:s3:::my-bucket/reports/2025.csv'),
      ),
    ),
    'simulates s3:GetObject on the object ARN',
  );
});

test('aws-s3: the enhanced AccessDenied message sets the gap and names the policy type', () => {
  // S3's real envelope (aws-sdk-ruby#3222) carrying the Message text S3 returned in
  // https://github.com/aws-ia/terraform-aws-bedrock/issues/41 (as the Java SDK printed it).
  const fx = loadFixture(join(fixtures, 'access-denied-bare.json'));
  const message =
    'User: arn:aws:sts::XXXXXXX:assumed-role/AmazonBedrockExecutionRoleForKnowledgeBase-0zsq/DocumentLoaderTask-5XTW0UCZED is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::test-s3-docs/Amazon-2021-Annual-Report.pdf" because no identity-based policy allows the s3:GetObject action';
  fx.exchange.response.content = {
    mimeType: 'application/xml',
    text: fx.exchange.response.content.text!.replace(
      '<Message>Access Denied</Message>',
      `<Message>${message}</Message>`,
    ),
  };
  const out = runRule(rule, fx);
  const c = out?.causes?.[0];
  assert.equal(c?.id, 'insufficient-role');
  assert.deepEqual(c?.gap, {
    required: ['s3:GetObject on arn:aws:s3:::test-s3-docs/Amazon-2021-Annual-Report.pdf'],
    held: [],
  });
  assert.match(c?.summary ?? '', /no identity-based policy allows/);
  assert.ok(
    c?.fixes?.some((f) =>
      f.commands?.some(
        (cmd) =>
          cmd.includes(
            '--policy-source-arn arn:aws:iam::XXXXXXX:role/AmazonBedrockExecutionRoleForKnowledgeBase-0zsq',
          ) || cmd.includes('put-role-policy --role-name AmazonBedrockExecutionRoleForKnowledgeBase-0zsq'),
      ),
    ),
  );
});

// S3-compatible stores (MinIO, Ceph RGW, Wasabi…) answer in S3's <Error> document, RequestId and HostId
// included: the document recognises the protocol, not Amazon S3. The error codes still read the same.
const compatible = (headers: Record<string, string>) =>
  unitCase('compatible', {
    request: {
      method: 'PUT',
      url: 'http://storage.example.com:9000/backups',
      headers: { Authorization: 'AWS4-HMAC-SHA256 Credential=EXAMPLEKEY/20250101/us-east-1/s3/aws4_request' },
    },
    response: {
      status: 403,
      headers: { 'Content-Type': 'application/xml', ...headers },
      body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><RequestId>tx00000000000000000001-0065a1b2c3-1234-default</RequestId><HostId>1234-default-default</HostId></Error>',
    },
  });

test('aws-s3: S3’s XML alone is the S3 protocol, below 0.5, and its error code still reads', () => {
  const out = runRule(rule, compatible({}));
  assert.equal(out?.producer?.product, 'aws-s3');
  assert.ok((out?.producer?.confidence ?? 1) < 0.5, `confidence ${out?.producer?.confidence}`);
  assert.equal(out?.causes?.[0]?.id, 'credential-invalid');
  assert.ok(out?.notes?.some((n) => /S3-compatible stores/.test(n)));
});

test('aws-s3: under another product’s Server header the engine names no product, layer storage', async () => {
  const report = diagnoseWith(await loadRules(), compatible({ Server: 'MinIO' }).exchange);
  assert.equal(report.deniedBy?.product, 'unknown');
  assert.equal(report.deniedBy?.layer, 'storage');
  assert.equal(report.causes[0]?.id, 'credential-invalid');
});

test('aws-s3: S3’s own headers or endpoint still prove Amazon S3', () => {
  const headers = runRule(rule, compatible({ 'x-amz-request-id': '7BMJM8PWV1J1FNE4', 'x-amz-id-2': 'abc=' }));
  assert.ok((headers?.producer?.confidence ?? 0) >= 0.9);
  const fx = compatible({});
  fx.exchange.request!.url = 'https://backups.s3.eu-west-1.amazonaws.com/';
  assert.ok((runRule(rule, fx)?.producer?.confidence ?? 0) >= 0.9);
});
