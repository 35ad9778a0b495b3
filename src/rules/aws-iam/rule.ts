// AWS service APIs authorise every call through IAM and report a refusal in
// one of three envelopes: the JSON protocols ({"__type": "…AccessDeniedException",
// "message": …}), the query protocol (<ErrorResponse><Error><Code>…) and EC2's
// (<Response><Errors><Error><Code>UnauthorizedOperation…). The message names
// the principal, action, resource and — since 2021 — the policy type that
// decided. EC2 and a few others encode the details instead; only
// sts:DecodeAuthorizationMessage can read them. S3 and API Gateway have their
// own rules: their bodies and headers are recognised there.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import { causesFor, describe, fixesFor, parseAccessDenied } from './iam-message.ts';

interface AwsError {
  code: string;
  message: string;
  source: string;
  envelope: 'json' | 'query' | 'ec2' | 'text';
}

/** The error code and message, whichever AWS protocol carried them. */
function readError(ctx: Context): AwsError | undefined {
  const j = ctx.body.json;
  if (j && typeof j === 'object' && !Array.isArray(j)) {
    const type = jsonString(j, '__type') ?? ctx.header('x-amzn-errortype');
    const message = jsonString(j, 'message') ?? jsonString(j, 'Message') ?? '';
    if (type && jsonString(j, '__type') !== undefined)
      // "com.amazonaws.dynamodb.v20120810#AccessDeniedException" → AccessDeniedException
      return { code: type.split('#').pop()!.split(':')[0], message, source: 'body:__type', envelope: 'json' };
  }
  const x = ctx.body.xml;
  if (x) {
    if (x['ErrorResponse.Error.Code']) return { code: x['ErrorResponse.Error.Code'], message: x['ErrorResponse.Error.Message'] ?? '', source: 'body:ErrorResponse.Error.Code', envelope: 'query' };
    if (x['Response.Errors.Error.Code']) return { code: x['Response.Errors.Error.Code'], message: x['Response.Errors.Error.Message'] ?? '', source: 'body:Response.Errors.Error.Code', envelope: 'ec2' };
  }
  const text = ctx.body.text;
  if (/User: arn:aws[\w-]*:\S+ is not authorized to perform: /.test(text)) return { code: 'AccessDenied', message: text.trim(), source: 'body', envelope: 'text' };
  return undefined;
}

/** Responses the S3 and API Gateway rules own. */
function otherAwsProducer(ctx: Context): boolean {
  if (ctx.header('x-amz-apigw-id') || /execute-api/.test(ctx.url?.hostname ?? '') || /execute-api:Invoke/.test(ctx.body.text)) return true;
  if (ctx.header('x-amz-id-2') || /^AmazonS3$/i.test(ctx.header('server') ?? '')) return true;
  return /^\s*(<\?xml[^>]*>\s*)?<Error>/.test(ctx.body.text);
}

const KNOWN = /^(AccessDenied(Exception)?|UnauthorizedOperation|AuthorizationError|UnauthorizedAccess|ExpiredToken(Exception)?|RequestExpired|UnrecognizedClient(Exception)?|InvalidClientTokenId|SignatureDoesNotMatch|InvalidSignature(Exception)?|IncompleteSignature(Exception)?|MissingAuthenticationToken(Exception)?|OptInRequired|AuthFailure)$/;

function signature(ctx: Context, err: AwsError | undefined) {
  const evidence: Evidence[] = [];
  const reqId = ctx.header('x-amzn-requestid') ?? ctx.header('x-amz-request-id');
  if (reqId) evidence.push(ev('header:x-amzn-RequestId', reqId));
  if (!err || otherAwsProducer(ctx)) return { confidence: 0, evidence };
  const awsHost = /\.amazonaws\.com(\.cn)?$/.test(ctx.url?.hostname ?? '');
  const known = KNOWN.test(err.code);
  evidence.push(ev(err.source, err.code));
  if (awsHost) evidence.push(ev('request:url', ctx.url!.hostname));
  const arnMessage = /User: arn:aws[\w-]*:/.test(err.message);
  let confidence = 0;
  const awsNamespace = /xmlns="https?:\/\/[\w.]+\.amazonaws\.com\/doc\//.test(ctx.body.text);
  // An ARN, AWS's request id or an AWS host is specific; a bare error code is not.
  if (known && (err.envelope !== 'text' || arnMessage)) confidence = arnMessage || reqId || awsHost ? 0.92 : awsNamespace ? 0.9 : 0.75;
  else if (err.envelope === 'query' && /amazonaws\.com\/doc\//.test(ctx.body.text)) confidence = 0.6;
  else if (awsHost) confidence = 0.55;
  return { confidence, evidence };
}

const IDENTITY: Fix = { title: 'Confirm which identity signed the request', difficulty: 'easy', commands: ['aws sts get-caller-identity', 'aws configure list'], verify: 'The account and ARN printed are the ones you meant to use.' };
const CLOCK: Fix = { title: 'Synchronise the client clock with NTP', difficulty: 'easy', commands: ['date -u', 'sudo timedatectl set-ntp true  # or: sudo chronyc makestep; Windows: w32tm /resync'], verify: 'The local UTC time matches the Date header AWS returns to within seconds.' };
const REFRESH: Fix = { title: 'Refresh the temporary credentials', difficulty: 'easy', commands: ['aws sso login  # or re-run: aws sts assume-role --role-arn ROLE_ARN --role-session-name why403', 'aws sts get-caller-identity'], verify: 'get-caller-identity succeeds with the same environment the failing client uses.' };

function awsTime(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

function claim(id: CauseId, weight: number, summary: string, evidence: Evidence[], fixes: Fix[], gap?: CauseClaim['gap']): CauseClaim {
  return { id, weight, summary, evidence, fixes, ...(gap ? { gap } : {}) };
}

function causesOf(ctx: Context, err: AwsError): { causes: CauseClaim[]; notes: string[] } {
  const code = err.code;
  const message = err.message;
  const evidence = [ev(err.source, code), ...(message ? [ev('body:message', message.length > 400 ? message.slice(0, 400) + '…' : message)] : [])];
  const notes: string[] = [];

  // EC2 (and a few others) hide the reason in an encoded blob only STS can read.
  const encoded = /Encoded authorization failure message:\s*([A-Za-z0-9_\-+/=]+)/.exec(message)?.[1];
  if (encoded) {
    const decode = `aws sts decode-authorization-message --encoded-message '${encoded}' --query DecodedMessage --output text | jq .`;
    const fixes: Fix[] = [
      { title: 'Decode the authorization failure message: it names the action, resource, matched statements and whether the deny was explicit', difficulty: 'easy', commands: [decode], verify: 'DecodedMessage.allowed is false; "explicit": true points at a Deny statement, otherwise an Allow is missing for the listed action and resource.', docs: 'https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html' },
      { title: 'Grant sts:DecodeAuthorizationMessage if the decode itself is denied', difficulty: 'easy', commands: [`# allow {"Effect":"Allow","Action":"sts:DecodeAuthorizationMessage","Resource":"*"} for the identity that decodes`] },
      IDENTITY,
    ];
    notes.push('AWS encoded the reason; decoding it with sts:DecodeAuthorizationMessage tells explicit from implicit deny and names the missing action.');
    return {
      causes: [
        claim('insufficient-role', 0.7, `AWS answered ${code}: "${message.split('Encoded authorization failure message')[0].trim()}" — the identity lacks a permission the call needs (often one of several the operation checks, such as iam:PassRole or ec2:CreateTags with RunInstances).`, evidence, fixes),
        claim('explicit-deny', 0.3, 'The encoded message may also reveal an explicit Deny (an SCP, a permissions boundary or a Deny statement).', evidence, fixes),
      ],
      notes,
    };
  }

  if (/^(AccessDenied(Exception)?|UnauthorizedOperation|AuthorizationError|UnauthorizedAccess)$/.test(code)) {
    const parsed = parseAccessDenied(message);
    if (parsed) {
      const gap = parsed.action !== 'null' ? { required: [`${parsed.action}${parsed.resource ? ` on ${parsed.resource}` : ''}`], held: [] as string[] } : undefined;
      const fixes = fixesFor(parsed);
      const ev2 = [...evidence, ...(parsed.context ? [ev('body:message', `policy context: ${parsed.context}`)] : [ev('body:message', 'no policy context in the message (cross-account requests and older services omit it)')])];
      return { causes: causesFor(parsed).map((c) => claim(c.id, c.weight, `AWS refused: "${message}" — ${describe(parsed)}.`, ev2, fixes, gap)), notes };
    }
    return {
      causes: [
        claim('insufficient-role', 0.6, `AWS answered ${code}: "${message || code}" without naming the action or policy; the identity most likely lacks a permission the operation needs.`, evidence, [{ title: 'Find the denied call in CloudTrail: errorCode AccessDenied names the action, and errorMessage the policy type', difficulty: 'medium', commands: [`aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=USER_OR_ROLE_SESSION --max-results 20 --query 'Events[].CloudTrailEvent' --output text | jq 'select(.errorCode != null) | {eventName, errorCode, errorMessage}'`] }, IDENTITY]),
        claim('explicit-deny', 0.2, 'An explicit Deny (identity policy, SCP, permissions boundary) produces the same answer.', evidence, [IDENTITY]),
      ],
      notes,
    };
  }
  if (/^(ExpiredToken(Exception)?|RequestExpired)$/.test(code))
    return { causes: [claim('credential-expired', 0.9, `AWS says "${message || code}": the temporary credentials (session token) that signed the request have expired.`, evidence, [REFRESH])], notes };
  if (/^(UnrecognizedClient(Exception)?|InvalidClientTokenId|AuthFailure)$/.test(code)) {
    const causes = [claim('credential-invalid', 0.8, `AWS does not recognise the credentials: "${message || code}" — the access key was deleted or mistyped, or a temporary key was sent without (or with the wrong) session token.`, evidence, [IDENTITY, { title: 'Check the key is active, or create a new one', difficulty: 'easy', commands: ['aws iam list-access-keys --user-name USER_NAME'], verify: 'The key in use is listed as Active.' }])];
    causes.push(claim('wrong-audience', 0.2, 'Valid credentials from another partition (aws-cn, aws-us-gov), or STS tokens from the global endpoint used in an opt-in region, are also reported this way.', evidence, [{ title: 'Use credentials from the same partition, and regional STS tokens for opt-in regions', difficulty: 'medium', commands: ['aws sts get-caller-identity --region REGION', 'aws iam get-account-summary --query SummaryMap.GlobalEndpointTokenVersion  # 2 = tokens valid in all regions'] }]));
    return { causes, notes };
  }
  if (/^(SignatureDoesNotMatch|InvalidSignature(Exception)?)$/.test(code)) {
    const expired = /Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) - (\d+) min\.\)/.exec(message);
    const early = /Signature not yet current: (\d{8}T\d{6}Z) is still later than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) \+ (\d+) min\.\)/.exec(message);
    const m = expired ?? early;
    if (m) {
      const signedAt = awsTime(m[1]);
      const serverNow = awsTime(m[3]);
      const skew = signedAt && serverNow ? Math.round((signedAt.getTime() - serverNow.getTime()) / 60000) : undefined;
      return {
        causes: [claim('clock-skew', 0.85, `AWS says "${message}": the request was signed at ${m[1]} while AWS's clock read ${m[3]}${skew !== undefined ? ` — the client clock is ${Math.abs(skew)} min ${skew > 0 ? 'ahead' : 'behind'}` : ''}; AWS accepts ${m[4]} min.`, evidence, [CLOCK])],
        notes,
      };
    }
    return { causes: [claim('credential-invalid', 0.8, `AWS recomputed the signature and it differs: "${message || code}" — wrong secret key, or the signed method, path, headers or region differ from what was sent.`, evidence, [IDENTITY, { title: 'Compare the canonical request your client signed with the one AWS expects', difficulty: 'medium', commands: ['aws COMMAND --debug 2>&1 | grep -A12 -E "CanonicalRequest|StringToSign"'] }])], notes };
  }
  if (/^IncompleteSignature(Exception)?$/.test(code))
    return { causes: [claim('credential-malformed', 0.85, `The Authorization header is not a complete SigV4 signature: "${message || code}".`, evidence, [{ title: 'Send a complete SigV4 Authorization header (Credential=…, SignedHeaders=…, Signature=…) or let an SDK sign', difficulty: 'medium', docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html' }])], notes };
  if (/^MissingAuthenticationToken(Exception)?$/.test(code))
    return { causes: [claim('credential-missing', 0.85, `AWS received no credentials: "${message || code}" — the request was not signed.`, evidence, [{ title: 'Sign the request with SigV4 (SDK or CLI); check the client found credentials', difficulty: 'easy', commands: ['aws configure list', 'aws sts get-caller-identity'], verify: 'configure list shows an access key and get-caller-identity succeeds.' }])], notes };
  if (code === 'OptInRequired')
    return { causes: [claim('account-state', 0.75, `AWS says "${message || code}": the account is not subscribed to this service or region.`, evidence, [{ title: 'Enable the service or opt-in region for the account', difficulty: 'medium', commands: ['aws account list-regions --region-opt-status-contains ENABLED DISABLED'] }])], notes };
  return { causes: [], notes };
}

export default defineRule({
  meta: {
    id: 'aws-iam',
    kind: 'producer',
    product: 'aws-iam',
    layer: 'cloud-iam',
    description: 'AWS IAM refusals on service APIs: "is not authorized to perform" messages with their policy type (identity, resource, SCP, RCP, boundary, session, VPC endpoint), encoded EC2 messages, and SigV4 credential errors.',
    docs: [
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html',
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html',
      'https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html',
      'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html',
    ],
    causes: ['insufficient-role', 'explicit-deny', 'resource-policy', 'credential-expired', 'credential-invalid', 'credential-malformed', 'credential-missing', 'clock-skew', 'wrong-audience', 'account-state'],
  },
  applies: (ctx) => ctx.status >= 400 && ctx.status < 500,
  run(ctx) {
    const err = readError(ctx);
    const sig = signature(ctx, err);
    if (!err || sig.confidence === 0) return undefined;
    const producer = { product: 'aws-iam' as const, layer: 'cloud-iam' as const, confidence: sig.confidence, evidence: sig.evidence };
    const { causes, notes } = causesOf(ctx, err);
    return { producer, causes, notes };
  },
});
