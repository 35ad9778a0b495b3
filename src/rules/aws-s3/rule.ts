// Amazon S3 answers every failure with the same XML shape
// (<Error><Code>…</Code><Message>…</Message><RequestId/><HostId/></Error>)
// and the x-amz-request-id / x-amz-id-2 pair, so the code names the reason.
// "Access Denied" alone is deliberately vague: since 2024 S3 adds the policy
// type for same-account requests, cross-account ones still get the bare text.
// A GET/HEAD of a key that does not exist is also answered 403 when the caller
// may not s3:ListBucket — S3 will not reveal whether the key exists.
import { defineRule, ev, type CauseClaim, type RuleOutput } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import { causesFor, describe, fixesFor, parseAccessDenied, simulateCommand } from '../aws-iam/iam-message.ts';

/** A field of S3's <Error> document; falls back to a tag search when the body is cut short. */
function field(ctx: Context, name: string): string | undefined {
  const v = ctx.body.xml?.[`Error.${name}`];
  if (v !== undefined) return v.trim();
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(ctx.body.text);
  return m ? m[1].trim() : undefined;
}

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const server = ctx.header('server');
  const amzId2 = ctx.header('x-amz-id-2');
  const reqId = ctx.header('x-amz-request-id');
  if (server && /^AmazonS3$/i.test(server.trim())) evidence.push(ev('header:server', server));
  if (amzId2) evidence.push(ev('header:x-amz-id-2', amzId2.slice(0, 24) + (amzId2.length > 24 ? '…' : '')));
  if (reqId) evidence.push(ev('header:x-amz-request-id', reqId));
  const code = field(ctx, 'Code');
  const hostId = field(ctx, 'HostId');
  // S3-only members of <Error>: the signing diagnostics and the skew report.
  const s3Members = ['StringToSign', 'CanonicalRequest', 'AWSAccessKeyId', 'MaxAllowedSkewMilliseconds', 'X-Amz-Expires'].some((n) => field(ctx, n) !== undefined);
  const bodyShape = Boolean(code && /^\s*(<\?xml[^>]*>\s*)?<Error>/.test(ctx.body.text) && (hostId !== undefined || s3Members || field(ctx, 'RequestId')));
  if (bodyShape) evidence.push(ev('body:Error.Code', `S3 <Error> document with Code ${code}${hostId !== undefined ? ' and HostId' : ''}`));
  const headerProof = Boolean((server && /^AmazonS3$/i.test(server.trim())) || (amzId2 && reqId));
  // S3-compatible stores copy the XML; a foreign Server header says who really answered.
  const foreignServer = Boolean(server && !/^AmazonS3$/i.test(server.trim()));
  const host = ctx.url?.hostname ?? '';
  const s3Host = /(^|\.)s3[.-]([\w-]+\.)*amazonaws\.com(\.cn)?$/.test(host) || /\.s3\.amazonaws\.com$/.test(host);
  if (s3Host) evidence.push(ev('request:url', `S3 endpoint ${host}`));
  // Cloud Storage's XML API copies S3's <Error> shape (StringToSign included) but adds <Details> and Google's wording.
  const google = /<Details>|Google Cloud Storage|Check your Google secret key|GOOG4-(RSA|HMAC)/.test(ctx.body.text) || /(^|\.)storage\.googleapis\.com$/.test(host);
  let confidence = 0;
  if (google && !headerProof) return { confidence: 0, evidence: [], code };
  if (headerProof) confidence = 0.97;
  else if (bodyShape && (hostId !== undefined || s3Members) && !foreignServer) confidence = s3Host ? 0.95 : 0.8;
  else if (bodyShape && s3Host) confidence = 0.85;
  else if (s3Host) confidence = 0.5;
  else if (bodyShape) confidence = 0.35;
  return { confidence, evidence, code };
}

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
  const d = basic ? new Date(`${basic[1]}-${basic[2]}-${basic[3]}T${basic[4]}:${basic[5]}:${basic[6]}Z`) : new Date(s.trim());
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
  commands: ['date -u; curl -sI https://s3.amazonaws.com | grep -i "^date:"', 'sudo timedatectl set-ntp true  # or: sudo chronyc makestep; Windows: w32tm /resync'],
  verify: 'The local UTC time and the Date header S3 returns differ by seconds, not minutes.',
  docs: 'https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList',
};

const CALLER_FIX: Fix = { title: 'Check which identity and credentials the client really uses', difficulty: 'easy', commands: ['aws sts get-caller-identity', 'aws configure list'], verify: 'The access key and account printed are the ones you expected.' };

interface CodeEntry {
  cause: CauseId;
  weight: number;
  summary: (message: string) => string;
  fixes: (ctx: Context, t: Target) => Fix[];
}

// Codes whose meaning does not depend on the message text.
const CODES: Record<string, CodeEntry> = {
  SignatureDoesNotMatch: {
    cause: 'credential-invalid',
    weight: 0.8,
    summary: (m) => `S3 recomputed the request signature and it differs: "${m}" — the secret key is wrong, or what was signed (method, path, headers, region) is not what was sent.`,
    fixes: (ctx) => [
      CALLER_FIX,
      {
        title: presigned(ctx) ? 'Use the pre-signed URL with exactly the method and headers it was signed for (a URL signed for GET fails for HEAD or PUT)' : 'Compare the StringToSign and CanonicalRequest S3 returned with what your client signed',
        difficulty: 'medium',
        commands: ['aws s3api head-object --bucket BUCKET --key KEY --debug 2>&1 | grep -A12 -E "CanonicalRequest|StringToSign"'],
        verify: 'Your client’s canonical request matches the <CanonicalRequest> in S3’s error body byte for byte.',
      },
    ],
  },
  InvalidAccessKeyId: {
    cause: 'credential-invalid',
    weight: 0.8,
    summary: (m) => `S3 does not know the access key: "${m}" — it was deleted or mistyped, belongs to another partition (China, GovCloud) or another S3-compatible service, or is a temporary key used without its session token.`,
    fixes: () => [
      CALLER_FIX,
      { title: 'List the user’s keys and create a new one if this key is gone', difficulty: 'easy', commands: ['aws iam list-access-keys --user-name USER_NAME', 'aws iam create-access-key --user-name USER_NAME'], verify: 'The AccessKeyId in the error appears as Active in the list.' },
      { title: 'For a temporary key (ASIA…), send the session token with it', difficulty: 'easy', commands: ['export AWS_SESSION_TOKEN=…  # together with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the same session'], verify: 'aws sts get-caller-identity succeeds with the same environment.' },
    ],
  },
  InvalidToken: {
    cause: 'credential-invalid',
    weight: 0.8,
    summary: (m) => `S3 rejected the session token: "${m}".`,
    fixes: () => [CALLER_FIX, { title: 'Obtain a fresh session token from the same source as the key', difficulty: 'easy', commands: ['aws sts get-session-token  # or re-run: aws sso login / aws sts assume-role …'] }],
  },
  InvalidSecurity: {
    cause: 'credential-invalid',
    weight: 0.75,
    summary: (m) => `S3 rejected the security credentials: "${m}".`,
    fixes: () => [CALLER_FIX],
  },
  ExpiredToken: {
    cause: 'credential-expired',
    weight: 0.9,
    summary: (m) => `The session token that signed the request has expired: "${m}". A pre-signed URL dies with the temporary credentials that signed it, whatever its X-Amz-Expires says.`,
    fixes: () => [
      { title: 'Refresh the temporary credentials (and re-sign any pre-signed URL with them)', difficulty: 'easy', commands: ['aws sso login  # or: aws sts assume-role --role-arn ROLE_ARN --role-session-name why403', 'aws sts get-caller-identity'], verify: 'get-caller-identity succeeds and the retried request is accepted.' },
      { title: 'For long-lived pre-signed URLs, sign with credentials that live at least as long as the URL', difficulty: 'medium', verify: 'The role session duration (or an IAM user key) covers the URL’s lifetime.', docs: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html' },
    ],
  },
  TokenRefreshRequired: {
    cause: 'credential-expired',
    weight: 0.85,
    summary: (m) => `S3 asks for a refreshed token: "${m}".`,
    fixes: () => [{ title: 'Refresh the temporary credentials', difficulty: 'easy', commands: ['aws sso login  # or re-assume the role', 'aws sts get-caller-identity'] }],
  },
  AllAccessDisabled: {
    cause: 'account-state',
    weight: 0.85,
    summary: (m) => `S3 has disabled all access to this resource: "${m}" — typically a bucket of a suspended or closed account, or one AWS disabled.`,
    fixes: () => [{ title: 'Ask the bucket owner to check the account status with AWS Support', difficulty: 'hard', verify: 'The owning account is active and in good standing.' }],
  },
  AccountProblem: {
    cause: 'account-state',
    weight: 0.85,
    summary: (m) => `S3 reports a problem with the AWS account: "${m}".`,
    fixes: () => [{ title: 'Check the account’s billing and status in the AWS console, or contact AWS Support', difficulty: 'hard', commands: ['aws account get-contact-information'], verify: 'The account is in good standing.' }],
  },
  NotSignedUp: {
    cause: 'account-state',
    weight: 0.8,
    summary: (m) => `The account is not signed up for S3: "${m}".`,
    fixes: () => [{ title: 'Enable S3 for the account (or use an account that has it)', difficulty: 'medium' }],
  },
  InvalidObjectState: {
    cause: 'resource-state',
    weight: 0.8,
    summary: (m) => `The object is in an archive storage class and must be restored first: "${m}".`,
    fixes: (_ctx, t) => [{ title: 'Restore the archived object, then read it', difficulty: 'easy', commands: [`aws s3api restore-object --bucket ${t.bucket ?? 'BUCKET'} --key ${t.key ?? 'KEY'} --restore-request Days=1`, `aws s3api head-object --bucket ${t.bucket ?? 'BUCKET'} --key ${t.key ?? 'KEY'} --query Restore`], verify: 'head-object shows ongoing-request="false".' }],
  },
};

function claim(id: CauseId, weight: number, summary: string, evidence: Evidence[], fixes: Fix[], gap?: CauseClaim['gap']): CauseClaim {
  return { id, weight, summary, evidence, fixes, ...(gap ? { gap } : {}) };
}

/** AccessDenied carries several distinct refusals in its Message. */
function accessDenied(ctx: Context, message: string, base: Evidence[], t: Target): RuleOutput {
  const notes: string[] = [];
  const causes: CauseClaim[] = [];
  const msgEv = ev('body:Error.Message', message);

  if (/request has expired/i.test(message)) {
    const expires = parseAmzTime(field(ctx, 'Expires'));
    const server = parseAmzTime(field(ctx, 'ServerTime'));
    const lifetime = field(ctx, 'X-Amz-Expires');
    const late = expires && server ? (server.getTime() - expires.getTime()) / 1000 : undefined;
    const evidence = [msgEv, ...(expires ? [ev('body:Error.Expires', expires.toISOString())] : []), ...(server ? [ev('body:Error.ServerTime', server.toISOString())] : []), ...(lifetime ? [ev('body:Error.X-Amz-Expires', `${lifetime} s`)] : [])];
    causes.push(
      claim(
        'credential-expired',
        0.9,
        `The pre-signed URL has expired: S3 says "${message}"${late !== undefined ? `; it expired at ${expires!.toISOString()} and was used ${duration(late)} later (S3 time ${server!.toISOString()})` : ''}${lifetime ? `, after a lifetime of ${lifetime} s` : ''}.`,
        evidence,
        [
          { title: 'Generate a new pre-signed URL and use it within its lifetime', difficulty: 'easy', commands: [`aws s3 presign s3://${t.bucket ?? 'BUCKET'}/${t.key ?? 'KEY'} --expires-in 3600`], verify: 'The new URL answers 200 when fetched right away.' },
          { title: 'If URLs expire earlier than their X-Amz-Expires, check the signer’s clock and credential lifetime', difficulty: 'medium', commands: ['date -u', 'aws configure export-credentials --format env | grep EXPIRATION'], verify: 'The signer’s clock is right and its temporary credentials outlive the URL.' },
        ],
      ),
    );
    return { causes, notes };
  }
  if (/request is not yet valid/i.test(message)) {
    causes.push(claim('credential-not-yet-valid', 0.8, `S3 says "${message}": the pre-signed URL’s X-Amz-Date lies in the future, usually because the signer’s clock runs ahead.`, [msgEv], [CLOCK_FIX]));
    causes.push(claim('clock-skew', 0.4, 'The signer’s clock is probably ahead of S3’s.', [msgEv], [CLOCK_FIX]));
    return { causes, notes };
  }
  if (/headers present in the request which were not signed/i.test(message)) {
    const headers = field(ctx, 'HeadersNotSigned');
    causes.push(claim('credential-malformed', 0.8, `S3 says "${message}"${headers ? ` (${headers})` : ''}: those headers must be part of the signature, or not be sent.`, [msgEv], [{ title: 'Sign the listed headers (or stop sending them with the pre-signed URL)', difficulty: 'medium', verify: 'The request carries only headers listed in X-Amz-SignedHeaders.' }]));
    return { causes, notes };
  }

  const parsed = parseAccessDenied(message);
  if (parsed) {
    const gap = { required: [`${parsed.action}${parsed.resource ? ` on ${parsed.resource}` : ''}`], held: [] as string[] };
    const fixes = fixesFor(parsed);
    for (const c of causesFor(parsed))
      causes.push(claim(c.id, c.weight, `S3 refused: "${message}" — ${describe(parsed)}.`, [msgEv, ...(parsed.context ? [ev('body:Error.Message', `policy context: ${parsed.context}`)] : [])], fixes, gap));
    return { causes, notes };
  }

  // The bare "Access Denied": S3 keeps the reason to itself.
  const bare = [msgEv, ev('body:Error.Code', 'AccessDenied without a policy context: cross-account, anonymous, or a policy type S3 does not name')];
  const objectRead = Boolean(t.key) && (ctx.method === 'GET' || ctx.method === 'HEAD');
  if (ctx.exchange.request && !signed(ctx)) {
    causes.push(claim('credential-missing', 0.55, 'The request was not signed (no Authorization header, no pre-signed query), so S3 treated it as anonymous and the bucket does not allow public reads.', [...bare, ev('request', 'no Authorization header or X-Amz-Signature')], [{ title: 'Sign the request (SDK, aws s3 cp, or a pre-signed URL)', difficulty: 'easy', commands: [`aws s3 presign s3://${t.bucket ?? 'BUCKET'}/${t.key ?? 'KEY'} --expires-in 600`], verify: 'The signed request answers 200.' }]));
  }
  const simulate = { title: `Simulate ${t.action} for the caller’s identity`, difficulty: 'easy' as const, commands: ['aws sts get-caller-identity', simulateCommand('arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME', t.action, t.arn)], verify: `EvalDecision is "allowed"; if it is "implicitDeny" the identity policy lacks ${t.action}, if "explicitDeny" a Deny matched.` };
  const bucketPolicy = { title: 'Read the bucket policy for Deny statements or a missing Allow for your principal', difficulty: 'medium' as const, commands: [`aws s3api get-bucket-policy --bucket ${t.bucket ?? 'BUCKET'} --query Policy --output text | jq .`, `aws s3api get-public-access-block --bucket ${t.bucket ?? 'BUCKET'}`], verify: 'No Deny statement matches your principal, source IP or VPC endpoint, and (cross-account) an Allow names your account or role.', docs: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html' };
  const lacks = t.known ? `${t.action} on ${t.arn}` : 'the S3 action of the request (s3:GetObject for a download, s3:PutObject for an upload, s3:ListBucket for a listing)';
  causes.push(claim('insufficient-role', 0.5, `S3 answered "${message}" without naming a policy: most often the caller’s IAM policy lacks ${lacks}.`, bare, [simulate, bucketPolicy, CALLER_FIX]));
  causes.push(claim('resource-policy', 0.35, 'The bucket policy (or an object ACL, S3 Block Public Access, or an access point policy) may deny the request; S3 gives cross-account callers no detail.', bare, [bucketPolicy]));
  causes.push(claim('explicit-deny', 0.2, 'An explicit Deny — in an identity policy, an SCP, or a VPC endpoint policy — can also produce the bare "Access Denied".', bare, [simulate]));
  if (objectRead) {
    notes.push(`S3 answers 403 instead of 404 for a missing key when the caller lacks s3:ListBucket on ${t.bucket ?? 'the bucket'}: check that ${t.key} exists before hunting for a permission.`);
    causes.push(
      claim('wrong-endpoint', 0.2, `The key ${t.key} may simply not exist: without s3:ListBucket, S3 says "Access Denied" rather than NoSuchKey.`, [...bare, ev('request:method', `${ctx.method} of an object key`)], [
        { title: 'Check whether the key exists (with credentials that may list the bucket)', difficulty: 'easy', commands: [`aws s3api list-objects-v2 --bucket ${t.bucket ?? 'BUCKET'} --prefix ${JSON.stringify(t.key)} --max-items 5`], verify: 'The key is listed; if not, the URL is wrong, not the permission.' },
        { title: 'Grant s3:ListBucket on the bucket so missing keys answer 404', difficulty: 'easy', commands: [`# add to the caller's policy: {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::${t.bucket ?? 'BUCKET'}"}`], verify: 'A request for a missing key now answers 404 NoSuchKey.' },
      ]),
    );
  }
  if (presigned(ctx)) notes.push('This is a pre-signed URL: it carries the permissions of the identity that signed it, not of whoever uses it.');
  return { causes, notes };
}

export default defineRule({
  meta: {
    id: 'aws-s3',
    kind: 'producer',
    product: 'aws-s3',
    layer: 'storage',
    description: 'Amazon S3 error documents: AccessDenied (with or without policy context), pre-signed URL expiry, clock skew, signature and key errors, account state.',
    docs: [
      'https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html',
      'https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html',
      'https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html',
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html',
    ],
    causes: ['insufficient-role', 'resource-policy', 'explicit-deny', 'credential-missing', 'credential-malformed', 'credential-expired', 'credential-not-yet-valid', 'clock-skew', 'credential-invalid', 'wrong-audience', 'account-state', 'resource-state', 'wrong-endpoint'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'aws-s3' as const, layer: 'storage' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (sig.confidence < 0.5 || (ctx.status !== 401 && ctx.status !== 403 && ctx.status !== 400)) return { producer };
    const t = target(ctx);
    const code = sig.code;
    const message = field(ctx, 'Message') ?? '';

    if (!code) {
      // HEAD answers carry no body: S3's reason is not visible at all.
      if (ctx.status !== 403) return { producer };
      const evidence = [...sig.evidence, ev('body', 'empty (a HEAD response, or the body was not captured)')];
      const notes = [`S3 sent no error document${ctx.method === 'HEAD' ? ' because HEAD responses have no body' : ''}; repeat the request as GET to read S3’s error code.`];
      const causes: CauseClaim[] = [
        claim('insufficient-role', 0.4, `S3 refused without a visible reason; the caller may lack ${t.known ? `${t.action} on ${t.arn}` : 'the S3 action of the request'}.`, evidence, [{ title: 'Repeat as GET to see the error code', difficulty: 'easy', commands: [`aws s3api get-object --bucket ${t.bucket ?? 'BUCKET'} --key ${t.key ?? 'KEY'} /dev/null`] }, { title: `Simulate ${t.action}`, difficulty: 'easy', commands: [simulateCommand('arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME', t.action, t.arn)] }]),
        claim('resource-policy', 0.25, 'The bucket policy may deny the request.', evidence, [{ title: 'Read the bucket policy', difficulty: 'medium', commands: [`aws s3api get-bucket-policy --bucket ${t.bucket ?? 'BUCKET'} --query Policy --output text | jq .`] }]),
      ];
      if (t.key) {
        notes.push(`A missing key is answered 403, not 404, when the caller lacks s3:ListBucket on ${t.bucket ?? 'the bucket'}.`);
        causes.push(claim('wrong-endpoint', 0.3, `The key ${t.key} may not exist: without s3:ListBucket S3 answers 403 for missing keys.`, evidence, [{ title: 'Check the key exists', difficulty: 'easy', commands: [`aws s3api list-objects-v2 --bucket ${t.bucket ?? 'BUCKET'} --prefix ${JSON.stringify(t.key)} --max-items 5`] }]));
      }
      if (presigned(ctx) && ctx.method === 'HEAD') causes.push(claim('credential-invalid', 0.3, 'A pre-signed URL is signed for one method: a URL signed for GET fails signature checks when sent as HEAD.', evidence, [{ title: 'Use the pre-signed URL with the method it was signed for', difficulty: 'easy' }]));
      return { producer, causes, notes };
    }

    const codeEv = ev('body:Error.Code', code);
    if (code === 'AccessDenied') {
      const out = accessDenied(ctx, message, [...sig.evidence, codeEv], t);
      return { producer, ...out };
    }
    if (code === 'RequestTimeTooSkewed') {
      const requestTime = parseAmzTime(field(ctx, 'RequestTime'));
      const serverTime = parseAmzTime(field(ctx, 'ServerTime'));
      const maxMs = Number(field(ctx, 'MaxAllowedSkewMilliseconds') ?? 900000);
      const skew = requestTime && serverTime ? (requestTime.getTime() - serverTime.getTime()) / 1000 : undefined;
      const evidence = [codeEv, ...(requestTime ? [ev('body:Error.RequestTime', requestTime.toISOString())] : []), ...(serverTime ? [ev('body:Error.ServerTime', serverTime.toISOString())] : []), ev('body:Error.MaxAllowedSkewMilliseconds', `${maxMs} ms`)];
      const summary =
        skew !== undefined
          ? `S3 says "${message}": the request was signed at ${requestTime!.toISOString()} while S3's clock read ${serverTime!.toISOString()} — the client clock is ${duration(skew)} ${skew > 0 ? 'ahead' : 'behind'}, beyond the ${duration(maxMs / 1000)} S3 allows.`
          : `S3 says "${message}": the client clock differs from S3's by more than ${duration(maxMs / 1000)}.`;
      return { producer, causes: [claim('clock-skew', 0.92, summary, evidence, [CLOCK_FIX])] };
    }
    const entry = CODES[code];
    if (entry) {
      const causes = [claim(entry.cause, entry.weight, entry.summary(message || code), [codeEv, ...(message ? [ev('body:Error.Message', message)] : [])], entry.fixes(ctx, t))];
      if (code === 'InvalidAccessKeyId') {
        const key = field(ctx, 'AWSAccessKeyId');
        const host = ctx.url?.hostname ?? '';
        const otherPartition = /amazonaws\.com\.cn$|us-gov-|cn-north/.test(host);
        causes.push(claim('wrong-audience', otherPartition ? 0.45 : 0.15, `The key${key ? ` ${key.slice(0, 4)}…` : ''} may be valid elsewhere: keys from the aws, aws-cn and aws-us-gov partitions are not interchangeable, nor are keys of other S3-compatible services.`, [codeEv, ...(otherPartition ? [ev('request:url', `partition endpoint ${host}`)] : [])], [{ title: 'Use a key created in the same partition and account as the bucket', difficulty: 'easy', commands: ['aws configure list', 'aws sts get-caller-identity --region REGION_OF_THE_BUCKET'] }]));
        if (key && /^ASIA/.test(key)) causes.push(claim('credential-expired', 0.3, `The key ${key.slice(0, 4)}… is temporary (ASIA…): it is unknown once its session is gone, or when sent without its session token.`, [codeEv, ev('body:Error.AWSAccessKeyId', `${key.slice(0, 4)}… (temporary credentials)`)], [{ title: 'Obtain fresh temporary credentials and send all three values together', difficulty: 'easy', commands: ['aws sso login  # or re-assume the role', 'aws sts get-caller-identity'] }]));
      }
      return { producer, causes };
    }
    return { producer };
  },
});
