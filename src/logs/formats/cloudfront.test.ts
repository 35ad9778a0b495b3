// CloudFront standard logs on the example log file of the AWS documentation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cloudfront from './cloudfront.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html#BasicDistributionFileFormat
// ("The following is an example log file for a distribution"); its third line ends with a tab.
const FILE = [
  '#Version: 1.0',
  '#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end',
  '2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-',
  '2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tHit\tk6WGMNkEzR5BEM_SaF47gjtX9zBDO2m349OY2an0QPEaUum1ZOLrow==\td111111abcdef8.cloudfront.net\thttps\t23\t0.000\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.000\tHit\ttext/html\t78\t-\t-',
  '2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tHit\tf37nTMVvnKvV2ZSvEsivup_c2kZ7VXzYdjC-GUQZ5qNs-89BlWazbw==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-\t',
  '2019-12-13\t22:36:27\tSEA19-C1\t900\t192.0.2.200\tGET\td111111abcdef8.cloudfront.net\t/favicon.ico\t502\thttp://www.example.com/\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tError\t1pkpNfBQ39sYMnjjUQjmH2w1wdJnbHYTbag21o_3OfcQgPzdL2RSSQ==\twww.example.com\thttp\t675\t0.102\t-\t-\t-\tError\tHTTP/1.1\t-\t-\t25260\t0.102\tOriginDnsError\ttext/html\t507\t-\t-',
  '2019-12-13\t22:36:26\tSEA19-C1\t900\t192.0.2.200\tGET\td111111abcdef8.cloudfront.net\t/\t502\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tError\t3AqrZGCnF_g0-5KOvfA7c9XLcf4YGvMFSeFdIetR1N_2y8jSis8Zxg==\twww.example.com\thttp\t735\t0.107\t-\t-\t-\tError\tHTTP/1.1\t-\t-\t3802\t0.107\tOriginDnsError\ttext/html\t507\t-\t-',
  '2019-12-13\t22:37:02\tSEA19-C2\t900\t192.0.2.200\tGET\td111111abcdef8.cloudfront.net\t/\t502\t-\tcurl/7.55.1\t-\t-\tError\tkBkDzGnceVtWHqSCqBUqtA_cEs2T3tFUBbnBNkB9El_uVRhHgcZfcw==\twww.example.com\thttp\t387\t0.103\t-\t-\t-\tError\tHTTP/1.1\t-\t-\t12644\t0.103\tOriginDnsError\ttext/html\t507\t-\t-',
];
const RECORDS = FILE.slice(2);

test('cloudfront: the header lines are lines of the format that hold no record', () => {
  for (const l of FILE.slice(0, 2)) {
    assert.equal(cloudfront.isComment(l), true);
    assert.equal(cloudfront.parse(l), undefined);
  }
  for (const l of RECORDS) assert.equal(cloudfront.isComment(l), false);
});

test('cloudfront: a request of the documented file, in UTC, the path without its query', () => {
  assert.deepEqual(cloudfront.parse(RECORDS[0]), {
    kind: 'access',
    time: new Date('2019-12-04T21:02:31Z'),
    client: '192.0.2.100',
    method: 'GET',
    path: '/index.html',
    status: 200,
  });
  assert.deepEqual(cloudfront.parse(RECORDS[2]), cloudfront.parse(RECORDS[0]));
  // An origin the edge cannot resolve is an error, not a denial: no reason.
  const dns = cloudfront.parse(RECORDS[3]);
  assert.ok(dns?.kind === 'access');
  assert.equal(dns.status, 502);
  assert.equal(dns.path, '/favicon.ico');
  assert.equal(dns.reason, undefined);
});

test('cloudfront: lines of other formats are not read, and no other format reads a request', () => {
  const others = [
    '127.0.0.1 - - [05/Dec/2026:14:47:55 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "node"',
    '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
    '# a comment of another file',
    'not a log line',
  ];
  for (const l of others) {
    assert.equal(cloudfront.parse(l), undefined, l);
    assert.equal(cloudfront.isComment(l), false, l);
  }
  for (const format of LOG_FORMATS)
    for (const l of RECORDS)
      assert.equal(Boolean(format.parse(l)), format.id === 'cloudfront', `${format.id} on a CloudFront request`);
});
