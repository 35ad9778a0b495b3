// ALB access logs on the example entries of the AWS documentation. The
// documentation breaks each entry over lines "only to make them easier to
// read": they are joined with single spaces here, as the load balancer writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import alb from './aws-alb.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

const entry = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .join(' ');

// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-examples
const HTTP = entry(`
http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188
192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366
"GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - -
arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067
"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-"
0 2018-07-02T22:22:48.364000Z "forward" "-" "-" 10.0.0.1:80 200 "-" "-"
`);
const HTTPS = entry(`
https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188
192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57
"GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2
arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067
"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012"
1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" 10.0.0.1:80 200 "-" "-"
`);
const H2 = entry(`
h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188
10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 200 200 5 257
"GET https://10.0.2.105:773/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2
arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067
"Root=1-58337327-72bd00b0343d75b906739c42" "-" "-"
1 2018-07-02T22:22:48.364000Z "redirect" "https://example.com:80/" "-" 10.0.0.66:9000 200 "-" "-"
`);
const LAMBDA_FAILED = entry(`
http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188
192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366
"GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - -
arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067
"Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-"
0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-"
`);
// The same entry before the documentation added the last four fields (new fields are added at the end).
const HTTP_OLDER = entry(`
http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188
192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366
"GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - -
arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067
"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-"
0 2018-07-02T22:22:48.364000Z "forward" "-" "-"
`);

test('aws-alb: the documented HTTP entry', () => {
  assert.deepEqual(alb.parse(HTTP), {
    kind: 'access',
    time: new Date('2018-07-02T22:23:00.186Z'),
    client: '192.168.131.39',
    method: 'GET',
    path: '/',
    status: 200,
  });
  assert.deepEqual(alb.parse(HTTP_OLDER), alb.parse(HTTP));
});

test('aws-alb: HTTPS, HTTP/2 and a failed Lambda target are read; none carries a reason for a denial', () => {
  for (const l of [HTTPS, H2]) {
    const r = alb.parse(l);
    assert.ok(r?.kind === 'access', l);
    assert.equal(r.status, 200);
    assert.equal(r.reason, undefined);
  }
  const lambda = alb.parse(LAMBDA_FAILED);
  assert.ok(lambda?.kind === 'access');
  assert.equal(lambda.status, 502);
  assert.equal(lambda.reason, undefined);
});

test('aws-alb: lines of other formats are not read, and no other format reads an entry', () => {
  const others = [
    '127.0.0.1 - - [05/Dec/2026:14:47:55 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "node"',
    '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
    // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
    '2019-12-13\t22:36:27\tSEA19-C1\t900\t192.0.2.200\tGET\td111111abcdef8.cloudfront.net\t/favicon.ico\t502\thttp://www.example.com/\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tError\t1pkpNfBQ39sYMnjjUQjmH2w1wdJnbHYTbag21o_3OfcQgPzdL2RSSQ==\twww.example.com\thttp\t675\t0.102\t-\t-\t-\tError\tHTTP/1.1\t-\t-\t25260\t0.102\tOriginDnsError\ttext/html\t507\t-\t-',
    'not a log line',
  ];
  for (const l of others) assert.equal(alb.parse(l), undefined, l);
  for (const format of LOG_FORMATS)
    for (const l of [HTTP, HTTPS, H2, LAMBDA_FAILED])
      assert.equal(Boolean(format.parse(l)), format.id === 'aws-alb', `${format.id} on an ALB entry`);
});
