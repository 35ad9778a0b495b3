// Amazon CloudFront standard logs (legacy): W3C extended log format,
// tab-separated, two header lines (#Version, #Fields) then one request a
// line, the fields in the documented order, UTC:
//   2019-12-13	22:36:27	SEA19-C1	900	192.0.2.200	GET	d111111abcdef8.cloudfront.net	/favicon.ico	502	http://www.example.com/	Mozilla/5.0%20…	-	-	Error	1pkpNfBQ…==	www.example.com	http	675	0.102	-	-	-	Error	HTTP/1.1	-	-	25260	0.102	OriginDnsError	text/html	507	-	-
// cs-uri-stem is the path without the query. x-edge-result-type and
// x-edge-detailed-result-type say what the edge did: ClientGeoBlocked is the
// distribution's geographic restriction, LimitExceeded a CloudFront quota.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
import type { LogFormat, LogReason } from '../../model/logs.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{2}:\d{2}:\d{2}$/;

// Field positions, in the documented order.
const F = { date: 0, time: 1, ip: 4, method: 5, stem: 7, status: 8, result: 13, detailed: 28 } as const;

function reasonOf(result: string | undefined, detailed: string | undefined): LogReason | undefined {
  if (detailed === 'ClientGeoBlocked')
    return {
      causes: ['ip-restricted'],
      product: 'aws-cloudfront',
      code: 'ClientGeoBlocked',
      words:
        'ClientGeoBlocked: the distribution is configured to refuse requests from the viewer’s geographic location',
      fix: {
        title: 'Read the distribution’s geographic restriction (allow list or block list of countries)',
        difficulty: 'easy',
        commands: [
          'aws cloudfront get-distribution-config --id DISTRIBUTION_ID --query DistributionConfig.Restrictions',
        ],
        verify: 'The viewer’s country is allowed, or the restriction is off.',
        docs: 'https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/georestrictions.html',
      },
    };
  if (result === 'LimitExceeded')
    return {
      causes: ['rate-limited'],
      product: 'aws-cloudfront',
      code: 'LimitExceeded',
      words: 'LimitExceeded: the request was denied because a CloudFront quota was exceeded',
      fix: {
        title: 'Find the CloudFront quota the distribution reached',
        difficulty: 'medium',
        commands: ['aws service-quotas list-service-quotas --service-code cloudfront'],
        verify: 'The edge answers without LimitExceeded.',
        docs: 'https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html',
      },
    };
  return undefined;
}

export default {
  id: 'cloudfront',
  product: 'aws-cloudfront',
  kind: 'access',
  description: 'Amazon CloudFront standard (legacy) access log, W3C tab-separated',
  docs: ['https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html'],
  parse(line) {
    const f = line.split('\t');
    if (f.length < 14) return undefined;
    const status = f[F.status];
    if (!DATE.test(f[F.date]) || !TIME.test(f[F.time]) || !/^\d{3}$/.test(status) || !/^[A-Z]{1,16}$/.test(f[F.method]))
      return undefined;
    const time = new Date(`${f[F.date]}T${f[F.time]}Z`);
    const reason = reasonOf(f[F.result], f[F.detailed]);
    return {
      kind: 'access',
      ...(Number.isNaN(time.getTime()) ? {} : { time }),
      client: f[F.ip],
      method: f[F.method],
      path: f[F.stem],
      status: Number(status),
      ...(reason ? { reason } : {}),
    };
  },
  isComment: (line) => /^#(?:Version|Fields):/.test(line),
} satisfies LogFormat;
