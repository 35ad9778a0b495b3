// Amazon S3 answers every failure with the same XML shape
// (<Error><Code>…</Code><Message>…</Message><RequestId/><HostId/></Error>)
// and the x-amz-request-id / x-amz-id-2 pair, so the code names the reason.
// "Access Denied" alone is deliberately vague: since 2024 S3 adds the policy
// type for same-account requests, cross-account ones still get the bare text.
// A GET/HEAD of a key that does not exist is also answered 403 when the caller
// may not s3:ListBucket — S3 will not reveal whether the key exists.
import { defineProducer, ev, type Context, type Evidence, type Fix, type Reporter } from '../define.ts';
import { ERROR_DOCUMENT, errorDocumentField } from '../_lib/cloud-errors.ts';
import { causesFor, describe, fixesFor, parseAccessDenied, simulateCommand } from '../../knowledge/aws-iam-message.ts';

/** A field of S3's <Error> document (a tag search when the body is cut short), trimmed. */
const field = (ctx: Context, name: string): string | undefined => errorDocumentField(ctx, name)?.trim();

const S3_SERVER = /^AmazonS3$/i;
const S3_HOST = /(^|\.)s3[.-]([\w-]+\.)*amazonaws\.com(\.cn)?$/;
// Cloud Storage's XML API copies S3's <Error> shape (StringToSign included) but adds
// <Details>, Google's wording and GOOG4 signatures, which S3 never sends.
const GOOGLE_ADDITIONS = /<Details>|Google Cloud Storage|Check your Google secret key|GOOG4-(RSA|HMAC)/;
const GOOGLE_STORAGE_HOST = /(^|\.)storage\.googleapis\.com$/;
// S3-only members of <Error>: the signing diagnostics and the skew report.
const S3_MEMBERS = [
  'StringToSign',
  'CanonicalRequest',
  'AWSAccessKeyId',
  'MaxAllowedSkewMilliseconds',
  'X-Amz-Expires',
];

const CAUSES = [
  'insufficient-role',
  'resource-policy',
  'explicit-deny',
  'credential-missing',
  'credential-malformed',
  'credential-expired',
  'credential-not-yet-valid',
  'clock-skew',
  'credential-invalid',
  'wrong-audience',
  'account-state',
  'resource-state',
  'wrong-endpoint',
] as const;
type Cause = (typeof CAUSES)[number];

const MESSAGES = {
  SignatureDoesNotMatch:
    'S3 recomputed the request signature and it differs: "{{message}}" — the secret key is wrong, or what was signed (method, path, headers, region) is not what was sent.',
  InvalidAccessKeyId:
    'S3 does not know the access key: "{{message}}" — it was deleted or mistyped, belongs to another partition (China, GovCloud) or another S3-compatible service, or is a temporary key used without its session token.',
  InvalidToken: 'S3 rejected the session token: "{{message}}".',
  InvalidSecurity: 'S3 rejected the security credentials: "{{message}}".',
  ExpiredToken:
    'The session token that signed the request has expired: "{{message}}". A pre-signed URL dies with the temporary credentials that signed it, whatever its X-Amz-Expires says.',
  TokenRefreshRequired: 'S3 asks for a refreshed token: "{{message}}".',
  AllAccessDisabled:
    'S3 has disabled all access to this resource: "{{message}}" — typically a bucket of a suspended or closed account, or one AWS disabled.',
  AccountProblem: 'S3 reports a problem with the AWS account: "{{message}}".',
  NotSignedUp: 'The account is not signed up for S3: "{{message}}".',
  InvalidObjectState: 'The object is in an archive storage class and must be restored first: "{{message}}".',
  noBodyRole: 'S3 refused without a visible reason; the caller may lack {{lacks}}.',
  noBodyPolicy: 'The bucket policy may deny the request.',
  noBodyMissingKey: 'The key {{key}} may not exist: without s3:ListBucket S3 answers 403 for missing keys.',
  headPresigned:
    'A pre-signed URL is signed for one method: a URL signed for GET fails signature checks when sent as HEAD.',
  presignedExpired: 'The pre-signed URL has expired: S3 says "{{message}}"{{late}}{{lifetime}}.',
  notYetValid:
    'S3 says "{{message}}": the pre-signed URL’s X-Amz-Date lies in the future, usually because the signer’s clock runs ahead.',
  signerAhead: 'The signer’s clock is probably ahead of S3’s.',
  unsignedHeaders: 'S3 says "{{message}}"{{headers}}: those headers must be part of the signature, or not be sent.',
  refused: 'S3 refused: "{{message}}" — {{description}}.',
  anonymous:
    'The request was not signed (no Authorization header, no pre-signed query), so S3 treated it as anonymous and the bucket does not allow public reads.',
  bareRole: 'S3 answered "{{message}}" without naming a policy: most often the caller’s IAM policy lacks {{lacks}}.',
  bucketPolicy:
    'The bucket policy (or an object ACL, S3 Block Public Access, or an access point policy) may deny the request; S3 gives cross-account callers no detail.',
  bareDeny:
    'An explicit Deny — in an identity policy, an SCP, or a VPC endpoint policy — can also produce the bare "Access Denied".',
  missingKey:
    'The key {{key}} may simply not exist: without s3:ListBucket, S3 says "Access Denied" rather than NoSuchKey.',
  skewMeasured:
    'S3 says "{{message}}": the request was signed at {{requestTime}} while S3\'s clock read {{serverTime}} — the client clock is {{skew}} {{direction}}, beyond the {{limit}} S3 allows.',
  skew: 'S3 says "{{message}}": the client clock differs from S3\'s by more than {{limit}}.',
  otherPartition:
    'The key{{key}} may be valid elsewhere: keys from the aws, aws-cn and aws-us-gov partitions are not interchangeable, nor are keys of other S3-compatible services.',
  temporaryKey:
    'The key {{prefix}}… is temporary (ASIA…): it is unknown once its session is gone, or when sent without its session token.',
} as const;
type MessageId = keyof typeof MESSAGES;
type S3Report = Reporter<Cause, MessageId>;

interface Target {
  bucket?: string;
  key?: string;
  action: string;
  arn: string;
  /** False when neither the URL nor the error names the bucket: the action is a guess. */
  known: boolean;
}

/** Bucket, key and the S3 action the request needed, from the URL (virtual-hosted or path style). */
function target(ctx: Context): Target {
  const url = ctx.url;
  let bucket: string | undefined;
  let key: string | undefined;
  if (url) {
    const vhost = /^(.+)\.s3[.-]([\w-]+\.)*amazonaws\.com(\.cn)?$/.exec(url.hostname);
    const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (vhost) {
      bucket = vhost[1];
      key = path || undefined;
    } else if (/^s3[.-]/.test(url.hostname)) {
      const [b, ...rest] = path.split('/');
      bucket = b || undefined;
      key = rest.join('/') || undefined;
    }
  }
  const resource = field(ctx, 'Resource');
  if (!bucket && resource) {
    const [b, ...rest] = resource.replace(/^\//, '').split('/');
    bucket = b || undefined;
    key = rest.join('/') || undefined;
  }
  if (!bucket) return { action: 's3:GetObject', arn: 'arn:aws:s3:::BUCKET/KEY', known: false };
  const m = ctx.method;
  const action = key
    ? m === 'PUT' || m === 'POST'
      ? 's3:PutObject'
      : m === 'DELETE'
        ? 's3:DeleteObject'
        : 's3:GetObject'
    : m === 'GET' || m === 'HEAD'
      ? 's3:ListBucket'
      : 's3:PutBucketPolicy';
  const arn = `arn:aws:s3:::${bucket ?? 'BUCKET'}${key ? `/${key}` : action === 's3:ListBucket' ? '' : '/KEY'}`;
  return { bucket, key, action, arn, known: true };
}

function presigned(ctx: Context): boolean {
  return Boolean(ctx.url && (ctx.url.searchParams.has('X-Amz-Signature') || ctx.url.searchParams.has('Signature')));
}

function signed(ctx: Context): boolean {
  return presigned(ctx) || Boolean(ctx.requestHeader('authorization'));
}

/** S3 writes RequestTime as 20150604T232559Z and ServerTime as ISO 8601. */
function parseAmzTime(s: string | undefined): Date | undefined {
  if (!s) return undefined;
  const basic = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s.trim());
  const d = basic
    ? new Date(`${basic[1]}-${basic[2]}-${basic[3]}T${basic[4]}:${basic[5]}:${basic[6]}Z`)
    : new Date(s.trim());
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function duration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return [h ? `${h} h` : '', m ? `${m} min` : '', r || (!h && !m) ? `${r} s` : ''].filter(Boolean).join(' ');
}

const CLOCK_FIX: Fix = {
  title: 'Synchronise the client clock with NTP, then retry',
  difficulty: 'easy',
  commands: [
    'date -u; curl -sI https://s3.amazonaws.com | grep -i "^date:"',
    'sudo timedatectl set-ntp true  # or: sudo chronyc makestep; Windows: w32tm /resync',
  ],
  verify: 'The local UTC time and the Date header S3 returns differ by seconds, not minutes.',
  docs: 'https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList',
};

const CALLER_FIX: Fix = { title: 'Check which identity and credentials the client really uses', difficulty: 'easy', commands: ['aws sts get-caller-identity', 'aws configure list'], verify: 'The access key and account printed are the ones you expected.' };

interface CodeEntry {
  cause: Cause;
  weight: number;
  message: MessageId;
  fixes: (ctx: Context, t: Target) => Fix[];
}

// Codes whose meaning does not depend on the message text.
const CODES: Record<string, CodeEntry> = {
  SignatureDoesNotMatch: {
    cause: 'credential-invalid',
    weight: 0.8,
    message: 'SignatureDoesNotMatch',
    fixes: (ctx) => [
      CALLER_FIX,
      {
        title: presigned(ctx)
          ? 'Use the pre-signed URL with exactly the method and headers it was signed for (a URL signed for GET fails for HEAD or PUT)'
          : 'Compare the StringToSign and CanonicalRequest S3 returned with what your client signed',
        difficulty: 'medium',
        commands: [
          'aws s3api head-object --bucket BUCKET --key KEY --debug 2>&1 | grep -A12 -E "CanonicalRequest|StringToSign"',
        ],
        verify: 'Your client’s canonical request matches the <CanonicalRequest> in S3’s error body byte for byte.',
      },
    ],
  },
  InvalidAccessKeyId: {
    cause: 'credential-invalid',
    weight: 0.8,
    message: 'InvalidAccessKeyId',
    fixes: () => [
      CALLER_FIX,
      {
        title: 'List the user’s keys and create a new one if this key is gone',
        difficulty: 'easy',
        commands: ['aws iam list-access-keys --user-name USER_NAME', 'aws iam create-access-key --user-name USER_NAME'],
        verify: 'The AccessKeyId in the error appears as Active in the list.',
      },
      {
        title: 'For a temporary key (ASIA…), send the session token with it',
        difficulty: 'easy',
        commands: [
          'export AWS_SESSION_TOKEN=…  # together with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the same session',
        ],
        verify: 'aws sts get-caller-identity succeeds with the same environment.',
      },
    ],
  },
  InvalidToken: {
    cause: 'credential-invalid',
    weight: 0.8,
    message: 'InvalidToken',
    fixes: () => [
      CALLER_FIX,
      { title: 'Obtain a fresh session token from the same source as the key', difficulty: 'easy', commands: ['aws sts get-session-token  # or re-run: aws sso login / aws sts assume-role …'] },
    ],
  },
  InvalidSecurity: {
    cause: 'credential-invalid',
    weight: 0.75,
    message: 'InvalidSecurity',
    fixes: () => [CALLER_FIX],
  },
  ExpiredToken: {
    cause: 'credential-expired',
    weight: 0.9,
    message: 'ExpiredToken',
    fixes: () => [
      {
        title: 'Refresh the temporary credentials (and re-sign any pre-signed URL with them)',
        difficulty: 'easy',
        commands: [
          'aws sso login  # or: aws sts assume-role --role-arn ROLE_ARN --role-session-name why403',
          'aws sts get-caller-identity',
        ],
        verify: 'get-caller-identity succeeds and the retried request is accepted.',
      },
      {
        title: 'For long-lived pre-signed URLs, sign with credentials that live at least as long as the URL',
        difficulty: 'medium',
        verify: 'The role session duration (or an IAM user key) covers the URL’s lifetime.',
        docs: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html',
      },
    ],
  },
  TokenRefreshRequired: {
    cause: 'credential-expired',
    weight: 0.85,
    message: 'TokenRefreshRequired',
    fixes: () => [
      { title: 'Refresh the temporary credentials', difficulty: 'easy', commands: ['aws sso login  # or re-assume the role', 'aws sts get-caller-identity'] },
    ],
  },
  AllAccessDisabled: {
    cause: 'account-state',
    weight: 0.85,
    message: 'AllAccessDisabled',
    fixes: () => [
      { title: 'Ask the bucket owner to check the account status with AWS Support', difficulty: 'hard', verify: 'The owning account is active and in good standing.' },
    ],
  },
  AccountProblem: {
    cause: 'account-state',
    weight: 0.85,
    message: 'AccountProblem',
    fixes: () => [
      { title: 'Check the account’s billing and status in the AWS console, or contact AWS Support', difficulty: 'hard', commands: ['aws account get-contact-information'], verify: 'The account is in good standing.' },
    ],
  },
  NotSignedUp: {
    cause: 'account-state',
    weight: 0.8,
    message: 'NotSignedUp',
    fixes: () => [{ title: 'Enable S3 for the account (or use an account that has it)', difficulty: 'medium' }],
  },
  InvalidObjectState: {
    cause: 'resource-state',
    weight: 0.8,
    message: 'InvalidObjectState',
    fixes: (_ctx, t) => [
      {
        title: 'Restore the archived object, then read it',
        difficulty: 'easy',
        commands: [
          `aws s3api restore-object --bucket ${t.bucket ?? 'BUCKET'} --key ${t.key ?? 'KEY'} --restore-request Days=1`,
          `aws s3api head-object --bucket ${t.bucket ?? 'BUCKET'} --key ${t.key ?? 'KEY'} --query Restore`,
        ],
        verify: 'head-object shows ongoing-request="false".',
      },
    ],
  },
};

const bucketOf = (t: Target): string => t.bucket ?? 'BUCKET';
const keyOf = (t: Target): string => t.key ?? 'KEY';

function listKeyCommand(t: Target): string {
  return `aws s3api list-objects-v2 --bucket ${bucketOf(t)} --prefix ${JSON.stringify(t.key)} --max-items 5`;
}

function presignFixes(t: Target): Fix[] {
  return [
    { title: 'Generate a new pre-signed URL and use it within its lifetime', difficulty: 'easy', commands: [`aws s3 presign s3://${bucketOf(t)}/${keyOf(t)} --expires-in 3600`], verify: 'The new URL answers 200 when fetched right away.' },
    {
      title: 'If URLs expire earlier than their X-Amz-Expires, check the signer’s clock and credential lifetime',
      difficulty: 'medium',
      commands: ['date -u', 'aws configure export-credentials --format env | grep EXPIRATION'],
      verify: 'The signer’s clock is right and its temporary credentials outlive the URL.',
    },
  ];
}

const UNSIGNED_HEADERS_FIX: Fix = { title: 'Sign the listed headers (or stop sending them with the pre-signed URL)', difficulty: 'medium', verify: 'The request carries only headers listed in X-Amz-SignedHeaders.' };

function signFix(t: Target): Fix {
  return { title: 'Sign the request (SDK, aws s3 cp, or a pre-signed URL)', difficulty: 'easy', commands: [`aws s3 presign s3://${bucketOf(t)}/${keyOf(t)} --expires-in 600`], verify: 'The signed request answers 200.' };
}

function simulateFix(t: Target): Fix {
  return {
    title: `Simulate ${t.action} for the caller’s identity`,
    difficulty: 'easy',
    commands: [
      'aws sts get-caller-identity',
      simulateCommand('arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME', t.action, t.arn),
    ],
    verify: `EvalDecision is "allowed"; if it is "implicitDeny" the identity policy lacks ${t.action}, if "explicitDeny" a Deny matched.`,
  };
}

function bucketPolicyFix(t: Target): Fix {
  return {
    title: 'Read the bucket policy for Deny statements or a missing Allow for your principal',
    difficulty: 'medium',
    commands: [
      `aws s3api get-bucket-policy --bucket ${bucketOf(t)} --query Policy --output text | jq .`,
      `aws s3api get-public-access-block --bucket ${bucketOf(t)}`,
    ],
    verify:
      'No Deny statement matches your principal, source IP or VPC endpoint, and (cross-account) an Allow names your account or role.',
    docs: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html',
  };
}

function missingKeyFixes(t: Target): Fix[] {
  return [
    { title: 'Check whether the key exists (with credentials that may list the bucket)', difficulty: 'easy', commands: [listKeyCommand(t)], verify: 'The key is listed; if not, the URL is wrong, not the permission.' },
    {
      title: 'Grant s3:ListBucket on the bucket so missing keys answer 404',
      difficulty: 'easy',
      commands: [
        `# add to the caller's policy: {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::${bucketOf(t)}"}`,
      ],
      verify: 'A request for a missing key now answers 404 NoSuchKey.',
    },
  ];
}

function noBodyFixes(t: Target): { role: Fix[]; policy: Fix[]; key: Fix[] } {
  return {
    role: [
      { title: 'Repeat as GET to see the error code', difficulty: 'easy', commands: [`aws s3api get-object --bucket ${bucketOf(t)} --key ${keyOf(t)} /dev/null`] },
      { title: `Simulate ${t.action}`, difficulty: 'easy', commands: [simulateCommand('arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME', t.action, t.arn)] },
    ],
    policy: [
      { title: 'Read the bucket policy', difficulty: 'medium', commands: [`aws s3api get-bucket-policy --bucket ${bucketOf(t)} --query Policy --output text | jq .`] },
    ],
    key: [{ title: 'Check the key exists', difficulty: 'easy', commands: [listKeyCommand(t)] }],
  };
}

const PARTITION_FIX: Fix = { title: 'Use a key created in the same partition and account as the bucket', difficulty: 'easy', commands: ['aws configure list', 'aws sts get-caller-identity --region REGION_OF_THE_BUCKET'] };
const FRESH_SESSION_FIX: Fix = { title: 'Obtain fresh temporary credentials and send all three values together', difficulty: 'easy', commands: ['aws sso login  # or re-assume the role', 'aws sts get-caller-identity'] };

const lacksText = (t: Target): string => (t.known ? `${t.action} on ${t.arn}` : 'the S3 action of the request');

/** A 403 without a body (HEAD, or not captured): S3's reason is not visible at all. */
function noBody(ctx: Context, t: Target, recognised: Evidence[], report: S3Report): void {
  const evidence = [...recognised, ev('body', 'empty (a HEAD response, or the body was not captured)')];
  const fixes = noBodyFixes(t);
  report.note(
    `S3 sent no error document${ctx.method === 'HEAD' ? ' because HEAD responses have no body' : ''}; repeat the request as GET to read S3’s error code.`,
  );
  report.claim('insufficient-role', 'noBodyRole', 0.4, { data: { lacks: lacksText(t) }, evidence, fixes: fixes.role });
  report.claim('resource-policy', 'noBodyPolicy', 0.25, { evidence, fixes: fixes.policy });
  if (t.key) {
    report.note(
      `A missing key is answered 403, not 404, when the caller lacks s3:ListBucket on ${t.bucket ?? 'the bucket'}.`,
    );
    report.claim('wrong-endpoint', 'noBodyMissingKey', 0.3, { data: { key: t.key }, evidence, fixes: fixes.key });
  }
  if (presigned(ctx) && ctx.method === 'HEAD')
    report.claim('credential-invalid', 'headPresigned', 0.3, {
      evidence,
      fixes: [{ title: 'Use the pre-signed URL with the method it was signed for', difficulty: 'easy' }],
    });
}

/** AccessDenied carries several distinct refusals in its Message. */
function accessDenied(ctx: Context, message: string, t: Target, report: S3Report): void {
  const msgEv = ev('body:Error.Message', message);

  if (/request has expired/i.test(message)) {
    const expires = parseAmzTime(field(ctx, 'Expires'));
    const server = parseAmzTime(field(ctx, 'ServerTime'));
    const lifetime = field(ctx, 'X-Amz-Expires');
    const late =
      expires && server
        ? `; it expired at ${expires.toISOString()} and was used ${duration((server.getTime() - expires.getTime()) / 1000)} later (S3 time ${server.toISOString()})`
        : '';
    const evidence = [
      msgEv,
      ...(expires ? [ev('body:Error.Expires', expires.toISOString())] : []),
      ...(server ? [ev('body:Error.ServerTime', server.toISOString())] : []),
      ...(lifetime ? [ev('body:Error.X-Amz-Expires', `${lifetime} s`)] : []),
    ];
    report.claim('credential-expired', 'presignedExpired', 0.9, {
      data: { message, late, lifetime: lifetime ? `, after a lifetime of ${lifetime} s` : '' },
      evidence,
      fixes: presignFixes(t),
    });
    return;
  }
  if (/request is not yet valid/i.test(message)) {
    report.claim('credential-not-yet-valid', 'notYetValid', 0.8, {
      data: { message },
      evidence: [msgEv],
      fixes: [CLOCK_FIX],
    });
    report.claim('clock-skew', 'signerAhead', 0.4, { evidence: [msgEv], fixes: [CLOCK_FIX] });
    return;
  }
  if (/headers present in the request which were not signed/i.test(message)) {
    const headers = field(ctx, 'HeadersNotSigned');
    report.claim('credential-malformed', 'unsignedHeaders', 0.8, {
      data: { message, headers: headers ? ` (${headers})` : '' },
      evidence: [msgEv],
      fixes: [UNSIGNED_HEADERS_FIX],
    });
    return;
  }

  const parsed = parseAccessDenied(message);
  if (parsed) {
    const gap = { required: [`${parsed.action}${parsed.resource ? ` on ${parsed.resource}` : ''}`], held: [] };
    const fixes = fixesFor(parsed);
    const evidence = [
      msgEv,
      ...(parsed.context ? [ev('body:Error.Message', `policy context: ${parsed.context}`)] : []),
    ];
    for (const c of causesFor(parsed))
      report.claim(c.id, 'refused', c.weight, {
        data: { message, description: describe(parsed) },
        evidence,
        fixes,
        gap,
      });
    return;
  }

  // The bare "Access Denied": S3 keeps the reason to itself.
  const bare = [
    msgEv,
    ev(
      'body:Error.Code',
      'AccessDenied without a policy context: cross-account, anonymous, or a policy type S3 does not name',
    ),
  ];
  const objectRead = Boolean(t.key) && (ctx.method === 'GET' || ctx.method === 'HEAD');
  if (ctx.exchange.request && !signed(ctx))
    report.claim('credential-missing', 'anonymous', 0.55, {
      evidence: [...bare, ev('request', 'no Authorization header or X-Amz-Signature')],
      fixes: [signFix(t)],
    });
  const simulate = simulateFix(t);
  const bucketPolicy = bucketPolicyFix(t);
  const lacks = t.known
    ? `${t.action} on ${t.arn}`
    : 'the S3 action of the request (s3:GetObject for a download, s3:PutObject for an upload, s3:ListBucket for a listing)';
  report.claim('insufficient-role', 'bareRole', 0.5, {
    data: { message, lacks },
    evidence: bare,
    fixes: [simulate, bucketPolicy, CALLER_FIX],
  });
  report.claim('resource-policy', 'bucketPolicy', 0.35, { evidence: bare, fixes: [bucketPolicy] });
  report.claim('explicit-deny', 'bareDeny', 0.2, { evidence: bare, fixes: [simulate] });
  if (objectRead) {
    report.note(
      `S3 answers 403 instead of 404 for a missing key when the caller lacks s3:ListBucket on ${t.bucket ?? 'the bucket'}: check that ${t.key} exists before hunting for a permission.`,
    );
    report.claim('wrong-endpoint', 'missingKey', 0.2, {
      data: { key: t.key },
      evidence: [...bare, ev('request:method', `${ctx.method} of an object key`)],
      fixes: missingKeyFixes(t),
    });
  }
  if (presigned(ctx))
    report.note(
      'This is a pre-signed URL: it carries the permissions of the identity that signed it, not of whoever uses it.',
    );
}

function clockSkew(ctx: Context, message: string, codeEv: Evidence, report: S3Report): void {
  const requestTime = parseAmzTime(field(ctx, 'RequestTime'));
  const serverTime = parseAmzTime(field(ctx, 'ServerTime'));
  const maxMs = Number(field(ctx, 'MaxAllowedSkewMilliseconds') ?? 900000);
  const evidence = [
    codeEv,
    ...(requestTime ? [ev('body:Error.RequestTime', requestTime.toISOString())] : []),
    ...(serverTime ? [ev('body:Error.ServerTime', serverTime.toISOString())] : []),
    ev('body:Error.MaxAllowedSkewMilliseconds', `${maxMs} ms`),
  ];
  const limit = duration(maxMs / 1000);
  if (requestTime && serverTime) {
    const skew = (requestTime.getTime() - serverTime.getTime()) / 1000;
    const data = {
      message,
      requestTime: requestTime.toISOString(),
      serverTime: serverTime.toISOString(),
      skew: duration(skew),
      direction: skew > 0 ? 'ahead' : 'behind',
      limit,
    };
    report.claim('clock-skew', 'skewMeasured', 0.92, { data, evidence, fixes: [CLOCK_FIX] });
  } else report.claim('clock-skew', 'skew', 0.92, { data: { message, limit }, evidence, fixes: [CLOCK_FIX] });
}

/** The extra readings of InvalidAccessKeyId: another partition, or a temporary key without its session. */
function unknownKey(ctx: Context, codeEv: Evidence, report: S3Report): void {
  const key = field(ctx, 'AWSAccessKeyId');
  const host = ctx.url?.hostname ?? '';
  const otherPartition = /amazonaws\.com\.cn$|us-gov-|cn-north/.test(host);
  report.claim('wrong-audience', 'otherPartition', otherPartition ? 0.45 : 0.15, {
    data: { key: key ? ` ${key.slice(0, 4)}…` : '' },
    evidence: [codeEv, ...(otherPartition ? [ev('request:url', `partition endpoint ${host}`)] : [])],
    fixes: [PARTITION_FIX],
  });
  if (key && /^ASIA/.test(key))
    report.claim('credential-expired', 'temporaryKey', 0.3, {
      data: { prefix: key.slice(0, 4) },
      evidence: [codeEv, ev('body:Error.AWSAccessKeyId', `${key.slice(0, 4)}… (temporary credentials)`)],
      fixes: [FRESH_SESSION_FIX],
    });
}

export default defineProducer({
  meta: {
    id: 'aws-s3',
    product: 'aws-s3',
    layer: 'storage',
    description:
      'Amazon S3 error documents: AccessDenied (with or without policy context), pre-signed URL expiry, clock skew, signature and key errors, account state.',
    docs: [
      'https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html',
      'https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html',
      'https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html',
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html',
    ],
    causes: CAUSES,
    // Cloud Storage's XML API answers in S3's <Error> shape: where its rule recognises a response, S3 gives way.
    yieldsTo: ['google-cloud-storage'],
    // S3 answers ExpiredToken with 400.
    statuses: [400, 401, 403],
    messages: MESSAGES,
  },
  recognise(ctx) {
    const evidence: Evidence[] = [];
    const server = ctx.header('server');
    const amzId2 = ctx.header('x-amz-id-2');
    const reqId = ctx.header('x-amz-request-id');
    const s3Server = Boolean(server && S3_SERVER.test(server.trim()));
    if (s3Server) evidence.push(ev('header:server', server!));
    if (amzId2) evidence.push(ev('header:x-amz-id-2', amzId2.slice(0, 24) + (amzId2.length > 24 ? '…' : '')));
    if (reqId) evidence.push(ev('header:x-amz-request-id', reqId));
    const code = field(ctx, 'Code');
    const hostId = field(ctx, 'HostId');
    const s3Members = S3_MEMBERS.some((n) => field(ctx, n) !== undefined);
    const bodyShape = Boolean(
      code && ERROR_DOCUMENT.test(ctx.body.text) && (hostId !== undefined || s3Members || field(ctx, 'RequestId')),
    );
    if (bodyShape)
      evidence.push(
        ev('body:Error.Code', `S3 <Error> document with Code ${code}${hostId !== undefined ? ' and HostId' : ''}`),
      );
    const headerProof = s3Server || Boolean(amzId2 && reqId);
    // S3-compatible stores copy the XML; a foreign Server header says who really answered.
    const foreignServer = Boolean(server && !s3Server);
    const host = ctx.url?.hostname ?? '';
    const s3Host = S3_HOST.test(host) || /\.s3\.amazonaws\.com$/.test(host);
    if (s3Host) evidence.push(ev('request:url', `S3 endpoint ${host}`));
    // Without S3's own headers, Google's additions say the document is not S3's.
    if (!headerProof && (GOOGLE_ADDITIONS.test(ctx.body.text) || GOOGLE_STORAGE_HOST.test(host))) return undefined;
    let confidence = 0;
    if (headerProof) confidence = 0.97;
    else if (bodyShape && (hostId !== undefined || s3Members) && !foreignServer) confidence = s3Host ? 0.95 : 0.8;
    else if (bodyShape && s3Host) confidence = 0.85;
    else if (s3Host) confidence = 0.5;
    else if (bodyShape) confidence = 0.35;
    return { confidence, evidence, code };
  },
  explain(ctx, { confidence, evidence, code }, report) {
    if (confidence < 0.5) return;
    const t = target(ctx);
    if (!code) {
      if (ctx.status === 403) noBody(ctx, t, evidence, report);
      return;
    }
    const message = field(ctx, 'Message') ?? '';
    const codeEv = ev('body:Error.Code', code);
    if (code === 'AccessDenied') accessDenied(ctx, message, t, report);
    else if (code === 'RequestTimeTooSkewed') clockSkew(ctx, message, codeEv, report);
    else if (CODES[code]) {
      const entry = CODES[code];
      report.claim(entry.cause, entry.message, entry.weight, {
        data: { message: message || code },
        evidence: [codeEv, ...(message ? [ev('body:Error.Message', message)] : [])],
        fixes: entry.fixes(ctx, t),
      });
      if (code === 'InvalidAccessKeyId') unknownKey(ctx, codeEv, report);
    }
  },
});
