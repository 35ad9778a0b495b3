// AWS service APIs authorise every call through IAM and report a refusal in
// one of three envelopes: the JSON protocols ({"__type": "…AccessDeniedException",
// "message": …}), the query protocol (<ErrorResponse><Error><Code>…) and EC2's
// (<Response><Errors><Error><Code>UnauthorizedOperation…). The message names
// the principal, action, resource and — since 2021 — the policy type that
// decided. EC2 and a few others encode the details instead; only
// sts:DecodeAuthorizationMessage can read them. S3 and API Gateway have their
// own rules: where they recognise a response, this rule gives way.
import { defineProducer, ev, jsonString, type Context, type Evidence, type Fix } from '../define.ts';
import { xmlError } from '../_lib/envelopes.ts';
import { CLIENT_ERRORS, isClientError } from '../_lib/cloud-errors.ts';
import { causesFor, describe, fixesFor, parseAccessDenied } from '../../knowledge/aws-iam-message.ts';

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
    const type = jsonString(j, '__type');
    const message = jsonString(j, 'message') ?? jsonString(j, 'Message') ?? '';
    // "com.amazonaws.dynamodb.v20120810#AccessDeniedException" → AccessDeniedException
    if (type) return { code: type.split('#').pop()!.split(':')[0], message, source: 'body:__type', envelope: 'json' };
  }
  const query = xmlError(ctx, ['ErrorResponse.Error.Code'], ['ErrorResponse.Error.Message']);
  if (query?.code)
    return { code: query.code, message: query.message ?? '', source: query.codeSource!, envelope: 'query' };
  const ec2 = xmlError(ctx, ['Response.Errors.Error.Code'], ['Response.Errors.Error.Message']);
  if (ec2?.code) return { code: ec2.code, message: ec2.message ?? '', source: ec2.codeSource!, envelope: 'ec2' };
  const text = ctx.body.text;
  if (/User: arn:aws[\w-]*:\S+ is not authorized to perform: /.test(text))
    return { code: 'AccessDenied', message: text.trim(), source: 'body', envelope: 'text' };
  return undefined;
}

const KNOWN =
  /^(AccessDenied(Exception)?|UnauthorizedOperation|AuthorizationError|UnauthorizedAccess|ExpiredToken(Exception)?|RequestExpired|UnrecognizedClient(Exception)?|InvalidClientTokenId|SignatureDoesNotMatch|InvalidSignature(Exception)?|IncompleteSignature(Exception)?|MissingAuthenticationToken(Exception)?|OptInRequired|AuthFailure)$/;
const ACCESS_DENIED = /^(AccessDenied(Exception)?|UnauthorizedOperation|AuthorizationError|UnauthorizedAccess)$/;
const SIGNATURE_EXPIRED =
  /Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) - (\d+) min\.\)/;
const SIGNATURE_EARLY =
  /Signature not yet current: (\d{8}T\d{6}Z) is still later than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) \+ (\d+) min\.\)/;

const IDENTITY: Fix = { title: 'Confirm which identity signed the request', difficulty: 'easy', commands: ['aws sts get-caller-identity', 'aws configure list'], verify: 'The account and ARN printed are the ones you meant to use.' };
const CLOCK: Fix = {
  title: 'Synchronise the client clock with NTP',
  difficulty: 'easy',
  commands: ['date -u', 'sudo timedatectl set-ntp true  # or: sudo chronyc makestep; Windows: w32tm /resync'],
  verify: 'The local UTC time matches the Date header AWS returns to within seconds.',
};
const REFRESH: Fix = {
  title: 'Refresh the temporary credentials',
  difficulty: 'easy',
  commands: [
    'aws sso login  # or re-run: aws sts assume-role --role-arn ROLE_ARN --role-session-name why403',
    'aws sts get-caller-identity',
  ],
  verify: 'get-caller-identity succeeds with the same environment the failing client uses.',
};

function awsTime(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

const CLOUDTRAIL_LOOKUP = `aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=USER_OR_ROLE_SESSION --max-results 20 --query 'Events[].CloudTrailEvent' --output text | jq 'select(.errorCode != null) | {eventName, errorCode, errorMessage}'`;
const CLOUDTRAIL_FIX: Fix = { title: 'Find the denied call in CloudTrail: errorCode AccessDenied names the action, and errorMessage the policy type', difficulty: 'medium', commands: [CLOUDTRAIL_LOOKUP] };

function decodeFixes(encoded: string): Fix[] {
  const decode = `aws sts decode-authorization-message --encoded-message '${encoded}' --query DecodedMessage --output text | jq .`;
  return [
    {
      title:
        'Decode the authorization failure message: it names the action, resource, matched statements and whether the deny was explicit',
      difficulty: 'easy',
      commands: [decode],
      verify:
        'DecodedMessage.allowed is false; "explicit": true points at a Deny statement, otherwise an Allow is missing for the listed action and resource.',
      docs: 'https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html',
    },
    {
      title: 'Grant sts:DecodeAuthorizationMessage if the decode itself is denied',
      difficulty: 'easy',
      commands: [
        `# allow {"Effect":"Allow","Action":"sts:DecodeAuthorizationMessage","Resource":"*"} for the identity that decodes`,
      ],
    },
    IDENTITY,
  ];
}

const ACTIVE_KEY_FIX: Fix = { title: 'Check the key is active, or create a new one', difficulty: 'easy', commands: ['aws iam list-access-keys --user-name USER_NAME'], verify: 'The key in use is listed as Active.' };
const PARTITION_FIX: Fix = {
  title: 'Use credentials from the same partition, and regional STS tokens for opt-in regions',
  difficulty: 'medium',
  commands: [
    'aws sts get-caller-identity --region REGION',
    'aws iam get-account-summary --query SummaryMap.GlobalEndpointTokenVersion  # 2 = tokens valid in all regions',
  ],
};
const CANONICAL_FIX: Fix = { title: 'Compare the canonical request your client signed with the one AWS expects', difficulty: 'medium', commands: ['aws COMMAND --debug 2>&1 | grep -A12 -E "CanonicalRequest|StringToSign"'] };
const SIGV4_FIX: Fix = {
  title: 'Send a complete SigV4 Authorization header (Credential=…, SignedHeaders=…, Signature=…) or let an SDK sign',
  difficulty: 'medium',
  docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html',
};
const SIGN_FIX: Fix = {
  title: 'Sign the request with SigV4 (SDK or CLI); check the client found credentials',
  difficulty: 'easy',
  commands: ['aws configure list', 'aws sts get-caller-identity'],
  verify: 'configure list shows an access key and get-caller-identity succeeds.',
};
const OPT_IN_FIX: Fix = { title: 'Enable the service or opt-in region for the account', difficulty: 'medium', commands: ['aws account list-regions --region-opt-status-contains ENABLED DISABLED'] };
const ENCODED_NOTE =
  'AWS encoded the reason; decoding it with sts:DecodeAuthorizationMessage tells explicit from implicit deny and names the missing action.';

export default defineProducer({
  meta: {
    id: 'aws-iam',
    product: 'aws-iam',
    layer: 'cloud-iam',
    description:
      'AWS IAM refusals on service APIs: "is not authorized to perform" messages with their policy type (identity, resource, SCP, RCP, boundary, session, VPC endpoint), encoded EC2 messages, and SigV4 credential errors.',
    docs: [
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html',
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html',
      'https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html',
      'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html',
    ],
    causes: [
      'insufficient-role',
      'explicit-deny',
      'resource-policy',
      'credential-expired',
      'credential-invalid',
      'credential-malformed',
      'credential-missing',
      'clock-skew',
      'wrong-audience',
      'account-state',
    ],
    // S3 and API Gateway authorise through IAM too, and answer with their own envelopes.
    yieldsTo: ['aws-s3', 'aws-api-gateway'],
    statuses: CLIENT_ERRORS,
    messages: {
      encoded:
        'AWS answered {{code}}: "{{message}}" — the identity lacks a permission the call needs (often one of several the operation checks, such as iam:PassRole or ec2:CreateTags with RunInstances).',
      encodedDeny:
        'The encoded message may also reveal an explicit Deny (an SCP, a permissions boundary or a Deny statement).',
      refused: 'AWS refused: "{{message}}" — {{description}}.',
      unnamed:
        'AWS answered {{code}}: "{{message}}" without naming the action or policy; the identity most likely lacks a permission the operation needs.',
      unnamedDeny: 'An explicit Deny (identity policy, SCP, permissions boundary) produces the same answer.',
      expired:
        'AWS says "{{message}}": the temporary credentials (session token) that signed the request have expired.',
      unrecognised:
        'AWS does not recognise the credentials: "{{message}}" — the access key was deleted or mistyped, or a temporary key was sent without (or with the wrong) session token.',
      otherPartition:
        'Valid credentials from another partition (aws-cn, aws-us-gov), or STS tokens from the global endpoint used in an opt-in region, are also reported this way.',
      clockSkew:
        'AWS says "{{message}}": the request was signed at {{signedAt}} while AWS\'s clock read {{serverAt}}{{skew}}; AWS accepts {{limit}} min.',
      badSignature:
        'AWS recomputed the signature and it differs: "{{message}}" — wrong secret key, or the signed method, path, headers or region differ from what was sent.',
      incomplete: 'The Authorization header is not a complete SigV4 signature: "{{message}}".',
      unsigned: 'AWS received no credentials: "{{message}}" — the request was not signed.',
      optIn: 'AWS says "{{message}}": the account is not subscribed to this service or region.',
    },
  },
  recognise(ctx) {
    if (!isClientError(ctx.status)) return undefined;
    const err = readError(ctx);
    if (!err) return undefined;
    const evidence: Evidence[] = [];
    const reqId = ctx.header('x-amzn-requestid') ?? ctx.header('x-amz-request-id');
    if (reqId) evidence.push(ev('header:x-amzn-RequestId', reqId));
    const awsHost = /\.amazonaws\.com(\.cn)?$/.test(ctx.url?.hostname ?? '');
    const known = KNOWN.test(err.code);
    evidence.push(ev(err.source, err.code));
    if (awsHost) evidence.push(ev('request:url', ctx.url!.hostname));
    const arnMessage = /User: arn:aws[\w-]*:/.test(err.message);
    const awsNamespace = /xmlns="https?:\/\/[\w.]+\.amazonaws\.com\/doc\//.test(ctx.body.text);
    let confidence = 0;
    // An ARN, AWS's request id or an AWS host is specific; a bare error code is not.
    if (known && (err.envelope !== 'text' || arnMessage))
      confidence = arnMessage || reqId || awsHost ? 0.92 : awsNamespace ? 0.9 : 0.75;
    else if (err.envelope === 'query' && /amazonaws\.com\/doc\//.test(ctx.body.text)) confidence = 0.6;
    else if (awsHost) confidence = 0.55;
    return { confidence, evidence, err };
  },
  explain(_ctx, { err }, report) {
    const { code, message } = err;
    const said = message || code;
    const evidence = [
      ev(err.source, code),
      ...(message ? [ev('body:message', message.length > 400 ? message.slice(0, 400) + '…' : message)] : []),
    ];

    // EC2 (and a few others) hide the reason in an encoded blob only STS can read.
    const encoded = /Encoded authorization failure message:\s*([A-Za-z0-9_\-+/=]+)/.exec(message)?.[1];
    if (encoded) {
      const fixes = decodeFixes(encoded);
      report.note(ENCODED_NOTE);
      report.claim('insufficient-role', 'encoded', 0.7, {
        data: { code, message: message.split('Encoded authorization failure message')[0].trim() },
        evidence,
        fixes,
      });
      report.claim('explicit-deny', 'encodedDeny', 0.3, { evidence, fixes });
      return;
    }

    if (ACCESS_DENIED.test(code)) {
      const parsed = parseAccessDenied(message);
      if (!parsed) {
        report.claim('insufficient-role', 'unnamed', 0.6, {
          data: { code, message: said },
          evidence,
          fixes: [CLOUDTRAIL_FIX, IDENTITY],
        });
        report.claim('explicit-deny', 'unnamedDeny', 0.2, { evidence, fixes: [IDENTITY] });
        return;
      }
      const gap =
        parsed.action !== 'null'
          ? { required: [`${parsed.action}${parsed.resource ? ` on ${parsed.resource}` : ''}`], held: [] }
          : undefined;
      const fixes = fixesFor(parsed);
      const context = parsed.context
        ? `policy context: ${parsed.context}`
        : 'no policy context in the message (cross-account requests and older services omit it)';
      for (const c of causesFor(parsed))
        report.claim(c.id, 'refused', c.weight, {
          data: { message, description: describe(parsed) },
          evidence: [...evidence, ev('body:message', context)],
          fixes,
          gap,
        });
      return;
    }
    if (/^(ExpiredToken(Exception)?|RequestExpired)$/.test(code))
      report.claim('credential-expired', 'expired', 0.9, { data: { message: said }, evidence, fixes: [REFRESH] });
    else if (/^(UnrecognizedClient(Exception)?|InvalidClientTokenId|AuthFailure)$/.test(code)) {
      report.claim('credential-invalid', 'unrecognised', 0.8, {
        data: { message: said },
        evidence,
        fixes: [IDENTITY, ACTIVE_KEY_FIX],
      });
      report.claim('wrong-audience', 'otherPartition', 0.2, { evidence, fixes: [PARTITION_FIX] });
    } else if (/^(SignatureDoesNotMatch|InvalidSignature(Exception)?)$/.test(code)) {
      const m = SIGNATURE_EXPIRED.exec(message) ?? SIGNATURE_EARLY.exec(message);
      if (!m) {
        report.claim('credential-invalid', 'badSignature', 0.8, {
          data: { message: said },
          evidence,
          fixes: [IDENTITY, CANONICAL_FIX],
        });
        return;
      }
      const signedAt = awsTime(m[1]);
      const serverNow = awsTime(m[3]);
      const skew = signedAt && serverNow ? Math.round((signedAt.getTime() - serverNow.getTime()) / 60000) : undefined;
      const skewText =
        skew !== undefined ? ` — the client clock is ${Math.abs(skew)} min ${skew > 0 ? 'ahead' : 'behind'}` : '';
      report.claim('clock-skew', 'clockSkew', 0.85, {
        data: { message, signedAt: m[1], serverAt: m[3], skew: skewText, limit: m[4] },
        evidence,
        fixes: [CLOCK],
      });
    } else if (/^IncompleteSignature(Exception)?$/.test(code))
      report.claim('credential-malformed', 'incomplete', 0.85, {
        data: { message: said },
        evidence,
        fixes: [SIGV4_FIX],
      });
    else if (/^MissingAuthenticationToken(Exception)?$/.test(code))
      report.claim('credential-missing', 'unsigned', 0.85, { data: { message: said }, evidence, fixes: [SIGN_FIX] });
    else if (code === 'OptInRequired')
      report.claim('account-state', 'optIn', 0.75, { data: { message: said }, evidence, fixes: [OPT_IN_FIX] });
  },
});
