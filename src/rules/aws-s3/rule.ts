// Amazon S3 answers every failure with the same XML shape
// (<Error><Code>…</Code><Message>…</Message><RequestId/><HostId/></Error>)
// and the x-amz-request-id / x-amz-id-2 pair, so the code names the reason.
// "Access Denied" alone is deliberately vague: since 2024 S3 adds the policy
// type for same-account requests, cross-account ones still get the bare text.
// A GET/HEAD of a key that does not exist is also answered 403 when the caller
// may not s3:ListBucket — S3 will not reveal whether the key exists.
import { defineProducer, ev, type Context, type Evidence, type Reporter } from '../define.ts';
import { ERROR_DOCUMENT, errorDocumentField } from '../_lib/cloud-errors.ts';
import { causesFor, describe, fixesFor, parseAccessDenied, simulateCommand } from '../../knowledge/aws-iam-message.ts';
import { AUTHENTICATION_CAUSES } from '../../model/vocabulary.ts';
import texts from './texts.json' with { type: 'json' };

/** A field of S3's <Error> document (a tag search when the body is cut short), trimmed. */
const field = (ctx: Context, name: string): string | undefined => errorDocumentField(ctx, name)?.trim();

const S3_SERVER = /^AmazonS3$/i;
const S3_HOST = /(^|\.)s3[.-]([\w-]+\.)*amazonaws\.com(\.cn)?$/;
// Cloud Storage's XML API copies S3's <Error> shape (StringToSign included) but adds
// <Details>, Google's wording and GOOG4 signatures, which S3 never sends.
const GOOGLE_ADDITIONS = /<Details>|Google Cloud Storage|Check your Google secret key|GOOG4-(RSA|HMAC)/;
const GOOGLE_STORAGE_HOST = /(^|\.)storage\.googleapis\.com$/;
// S3's own wording: AWS names itself ("The AWS Access Key Id you provided does not exist in our records").
const AWS_WORDING = /\bAWS\b|\bAmazon\b/;
// Under 0.5: the S3 protocol recognised, no proof that Amazon S3 answered.
const PROTOCOL_ONLY = 0.4;
// With another product's Server header: below generic-http's layer guess, so the producer stays unknown
// while the causes read from S3's error codes still count.
const FOREIGN_SERVER = 0.15;
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
  ...AUTHENTICATION_CAUSES,
  'wrong-audience',
  'account-state',
  'resource-state',
  'wrong-endpoint',
] as const;
type Cause = (typeof CAUSES)[number];

type MessageId = keyof typeof texts.messages;
type FixId = keyof typeof texts.fixes;
type S3Report = Reporter<Cause, MessageId, FixId>;

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

interface CodeEntry {
  cause: Cause;
  weight: number;
  message: MessageId;
  fixes: (ctx: Context) => FixId[];
}

// Codes whose meaning does not depend on the message text.
const CODES: Record<string, CodeEntry> = {
  SignatureDoesNotMatch: {
    cause: 'credential-invalid',
    weight: 0.8,
    message: 'SignatureDoesNotMatch',
    fixes: (ctx) => ['caller', presigned(ctx) ? 'presignedMethod' : 'compareSigned'],
  },
  InvalidAccessKeyId: {
    cause: 'credential-invalid',
    weight: 0.8,
    message: 'InvalidAccessKeyId',
    fixes: () => ['caller', 'listAccessKeys', 'sessionToken'],
  },
  InvalidToken: {
    cause: 'credential-invalid',
    weight: 0.8,
    message: 'InvalidToken',
    fixes: () => ['caller', 'freshToken'],
  },
  InvalidSecurity: { cause: 'credential-invalid', weight: 0.75, message: 'InvalidSecurity', fixes: () => ['caller'] },
  ExpiredToken: {
    cause: 'credential-expired',
    weight: 0.9,
    message: 'ExpiredToken',
    fixes: () => ['refreshAndResign', 'longLivedSigner'],
  },
  TokenRefreshRequired: {
    cause: 'credential-expired',
    weight: 0.85,
    message: 'TokenRefreshRequired',
    fixes: () => ['refreshToken'],
  },
  AllAccessDisabled: {
    cause: 'account-state',
    weight: 0.85,
    message: 'AllAccessDisabled',
    fixes: () => ['accountSupport'],
  },
  AccountProblem: { cause: 'account-state', weight: 0.85, message: 'AccountProblem', fixes: () => ['accountStatus'] },
  NotSignedUp: { cause: 'account-state', weight: 0.8, message: 'NotSignedUp', fixes: () => ['enableS3'] },
  InvalidObjectState: {
    cause: 'resource-state',
    weight: 0.8,
    message: 'InvalidObjectState',
    fixes: () => ['restoreObject'],
  },
};

/** Values for the fixes' placeholders: the bucket and key (or stand-ins), the action, and the commands built from them. */
function fixData(t: Target) {
  return {
    bucket: t.bucket ?? 'BUCKET',
    object: t.key ?? 'KEY',
    action: t.action,
    simulate: simulateCommand('arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME', t.action, t.arn),
    listKey: `aws s3api list-objects-v2 --bucket ${t.bucket ?? 'BUCKET'} --prefix ${JSON.stringify(t.key)} --max-items 5`,
  };
}

const lacksText = (t: Target): string => (t.known ? `${t.action} on ${t.arn}` : 'the S3 action of the request');

/** A 403 without a body (HEAD, or not captured): S3's reason is not visible at all. */
function noBody(ctx: Context, t: Target, recognised: Evidence[], report: S3Report): void {
  const evidence = [...recognised, ev('body', 'empty (a HEAD response, or the body was not captured)')];
  const data = fixData(t);
  report.note(
    `S3 sent no error document${ctx.method === 'HEAD' ? ' because HEAD responses have no body' : ''}; repeat the request as GET to read S3’s error code.`,
  );
  report.claim('insufficient-role', 'noBodyRole', 0.4, {
    data: { ...data, lacks: lacksText(t) },
    evidence,
    fixes: ['repeatAsGet', 'simulateAction'],
  });
  report.claim('resource-policy', 'noBodyPolicy', 0.25, { data, evidence, fixes: ['readBucketPolicy'] });
  if (t.key) {
    report.note(
      `A missing key is answered 403, not 404, when the caller lacks s3:ListBucket on ${t.bucket ?? 'the bucket'}.`,
    );
    report.claim('wrong-endpoint', 'noBodyMissingKey', 0.3, {
      data: { ...data, key: t.key },
      evidence,
      fixes: ['checkKey'],
    });
  }
  if (presigned(ctx) && ctx.method === 'HEAD')
    report.claim('credential-invalid', 'headPresigned', 0.3, {
      evidence,
      fixes: ['presignedMethodOnly'],
    });
}

/** AccessDenied carries several distinct refusals in its Message. */
function accessDenied(ctx: Context, message: string, t: Target, report: S3Report, protocol: boolean): void {
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
      data: { ...fixData(t), message, late, lifetime: lifetime ? `, after a lifetime of ${lifetime} s` : '' },
      evidence,
      fixes: ['presignAgain', 'signerClock'],
    });
    return;
  }
  if (/request is not yet valid/i.test(message)) {
    report.claim('credential-not-yet-valid', 'notYetValid', 0.8, {
      data: { message },
      evidence: [msgEv],
      fixes: ['clock'],
    });
    report.claim('clock-skew', 'signerAhead', 0.4, { evidence: [msgEv], fixes: ['clock'] });
    return;
  }
  if (/headers present in the request which were not signed/i.test(message)) {
    const headers = field(ctx, 'HeadersNotSigned');
    report.claim('credential-malformed', 'unsignedHeaders', 0.8, {
      data: { message, headers: headers ? ` (${headers})` : '' },
      evidence: [msgEv],
      fixes: ['signHeaders'],
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

  // Another store's own sentence under S3's code: its words, not S3's silence, say why.
  if (protocol && !/^\s*Access Denied\.?\s*$/i.test(message)) return;
  // The bare "Access Denied": S3 keeps the reason to itself.
  const bare = [
    msgEv,
    ev(
      'body:Error.Code',
      'AccessDenied without a policy context: cross-account, anonymous, or a policy type S3 does not name',
    ),
  ];
  const objectRead = Boolean(t.key) && (ctx.method === 'GET' || ctx.method === 'HEAD');
  const data = fixData(t);
  if (ctx.exchange.request && !signed(ctx))
    report.claim('credential-missing', 'anonymous', 0.55, {
      data,
      evidence: [...bare, ev('request', 'no Authorization header or X-Amz-Signature')],
      fixes: ['sign'],
    });
  const lacks = t.known
    ? `${t.action} on ${t.arn}`
    : 'the S3 action of the request (s3:GetObject for a download, s3:PutObject for an upload, s3:ListBucket for a listing)';
  report.claim('insufficient-role', 'bareRole', 0.5, {
    data: { ...data, message, lacks },
    evidence: bare,
    fixes: ['simulate', 'bucketPolicy', 'caller'],
  });
  report.claim('resource-policy', 'bucketPolicy', 0.35, { data, evidence: bare, fixes: ['bucketPolicy'] });
  report.claim('explicit-deny', 'bareDeny', 0.2, { data, evidence: bare, fixes: ['simulate'] });
  if (objectRead) {
    report.note(
      `S3 answers 403 instead of 404 for a missing key when the caller lacks s3:ListBucket on ${t.bucket ?? 'the bucket'}: check that ${t.key} exists before hunting for a permission.`,
    );
    report.claim('wrong-endpoint', 'missingKey', 0.2, {
      data: { ...data, key: t.key },
      evidence: [...bare, ev('request:method', `${ctx.method} of an object key`)],
      fixes: ['keyExists', 'grantListBucket'],
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
    report.claim('clock-skew', 'skewMeasured', 0.92, { data, evidence, fixes: ['clock'] });
  } else report.claim('clock-skew', 'skew', 0.92, { data: { message, limit }, evidence, fixes: ['clock'] });
}

/** The extra readings of InvalidAccessKeyId: another partition, or a temporary key without its session. */
function unknownKey(ctx: Context, codeEv: Evidence, report: S3Report): void {
  const key = field(ctx, 'AWSAccessKeyId');
  const host = ctx.url?.hostname ?? '';
  const otherPartition = /amazonaws\.com\.cn$|us-gov-|cn-north/.test(host);
  report.claim('wrong-audience', 'otherPartition', otherPartition ? 0.45 : 0.15, {
    data: { key: key ? ` ${key.slice(0, 4)}…` : '' },
    evidence: [codeEv, ...(otherPartition ? [ev('request:url', `partition endpoint ${host}`)] : [])],
    fixes: ['partition'],
  });
  if (key && /^ASIA/.test(key))
    report.claim('credential-expired', 'temporaryKey', 0.3, {
      data: { prefix: key.slice(0, 4) },
      evidence: [codeEv, ev('body:Error.AWSAccessKeyId', `${key.slice(0, 4)}… (temporary credentials)`)],
      fixes: ['freshSession'],
    });
}

export default defineProducer({
  meta: {
    id: 'aws-s3',
    product: 'aws-s3',
    layer: 'storage',
    causes: CAUSES,
    // Cloud Storage's XML API answers in S3's <Error> shape: where its rule recognises a response, S3 gives way.
    yieldsTo: ['google-cloud-storage'],
    // S3 answers ExpiredToken with 400.
    statuses: [400, 401, 403],
    ...texts,
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
    // What only S3 writes into the document: its signing diagnostics, or AWS naming itself in the Message.
    const awsWording = AWS_WORDING.test(field(ctx, 'Message') ?? '');
    if (bodyShape && awsWording) evidence.push(ev('body:Error.Message', 'the message names AWS'));
    const ownMarkers = s3Members || awsWording;
    // The <Error> document with RequestId and HostId alone is the S3 protocol, which MinIO, Ceph RGW,
    // Wasabi and other S3-compatible stores speak too: it recognises the protocol, not Amazon S3.
    const protocol = bodyShape && !headerProof && !s3Host && !(ownMarkers && !foreignServer);
    let confidence = 0;
    if (headerProof) confidence = 0.97;
    else if (bodyShape && (hostId !== undefined || ownMarkers) && !foreignServer) confidence = s3Host ? 0.95 : 0.8;
    else if (bodyShape && s3Host) confidence = 0.85;
    else if (s3Host) confidence = 0.5;
    else if (bodyShape) confidence = 0.35;
    if (protocol) confidence = foreignServer ? FOREIGN_SERVER : PROTOCOL_ONLY;
    return { confidence, evidence, code, protocol, foreign: foreignServer ? server : undefined };
  },
  explain(ctx, { confidence, evidence, code, protocol, foreign }, report: S3Report) {
    if (protocol)
      report.note(
        `The error is in S3’s XML format, but ${foreign ? `the Server header names ${foreign}, and ` : ''}nothing in the response proves Amazon S3 sent it (no x-amz-request-id with x-amz-id-2, no amazonaws.com endpoint): S3-compatible stores (MinIO, Ceph RGW, Wasabi and others) answer in the same format. The reading of the error code still holds; the AWS commands apply only to Amazon S3.`,
      );
    else if (confidence < 0.5) return;
    const t = target(ctx);
    if (!code) {
      if (ctx.status === 403) noBody(ctx, t, evidence, report);
      return;
    }
    const message = field(ctx, 'Message') ?? '';
    const codeEv = ev('body:Error.Code', code);
    if (code === 'AccessDenied') accessDenied(ctx, message, t, report, protocol);
    else if (code === 'RequestTimeTooSkewed') clockSkew(ctx, message, codeEv, report);
    else if (CODES[code]) {
      const entry = CODES[code];
      report.claim(entry.cause, entry.message, entry.weight, {
        data: { ...fixData(t), message: message || code },
        evidence: [codeEv, ...(message ? [ev('body:Error.Message', message)] : [])],
        fixes: entry.fixes(ctx),
      });
      if (code === 'InvalidAccessKeyId') unknownKey(ctx, codeEv, report);
    }
  },
});
