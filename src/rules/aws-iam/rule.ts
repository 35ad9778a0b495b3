// AWS service APIs authorise every call through IAM and report a refusal in
// one of three envelopes: the JSON protocols ({"__type": "…AccessDeniedException",
// "message": …}), the query protocol (<ErrorResponse><Error><Code>…) and EC2's
// (<Response><Errors><Error><Code>UnauthorizedOperation…). The message names
// the principal, action, resource and — since 2021 — the policy type that
// decided. EC2 and a few others encode the details instead; only
// sts:DecodeAuthorizationMessage can read them. S3 and API Gateway have their
// own rules: where they recognise a response, this rule gives way.
import { defineProducer, ev, jsonString, type Context, type Evidence } from '../define.ts';
import { xmlError } from '../_lib/envelopes.ts';
import { CLIENT_ERRORS, isClientError } from '../_lib/cloud-errors.ts';
import { causesFor, describe, fixesFor, parseAccessDenied } from '../../knowledge/aws-iam-message.ts';
import texts from './texts.json' with { type: 'json' };

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

function awsTime(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

const ENCODED_NOTE =
  'AWS encoded the reason; decoding it with sts:DecodeAuthorizationMessage tells explicit from implicit deny and names the missing action.';

export default defineProducer({
  meta: {
    id: 'aws-iam',
    product: 'aws-iam',
    layer: 'cloud-iam',
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
    ...texts,
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
      const fixes = ['decodeMessage', 'grantDecode', 'identity'] as const;
      report.note(ENCODED_NOTE);
      report.claim('insufficient-role', 'encoded', 0.7, {
        data: { code, message: message.split('Encoded authorization failure message')[0].trim(), encoded },
        evidence,
        fixes,
      });
      report.claim('explicit-deny', 'encodedDeny', 0.3, { data: { encoded }, evidence, fixes });
      return;
    }

    if (ACCESS_DENIED.test(code)) {
      const parsed = parseAccessDenied(message);
      if (!parsed) {
        report.claim('insufficient-role', 'unnamed', 0.6, {
          data: { code, message: said },
          evidence,
          fixes: ['cloudTrail', 'identity'],
        });
        report.claim('explicit-deny', 'unnamedDeny', 0.2, { evidence, fixes: ['identity'] });
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
      report.claim('credential-expired', 'expired', 0.9, { data: { message: said }, evidence, fixes: ['refresh'] });
    else if (/^(UnrecognizedClient(Exception)?|InvalidClientTokenId|AuthFailure)$/.test(code)) {
      report.claim('credential-invalid', 'unrecognised', 0.8, {
        data: { message: said },
        evidence,
        fixes: ['identity', 'activeKey'],
      });
      report.claim('wrong-audience', 'otherPartition', 0.2, { evidence, fixes: ['partition'] });
    } else if (/^(SignatureDoesNotMatch|InvalidSignature(Exception)?)$/.test(code)) {
      const m = SIGNATURE_EXPIRED.exec(message) ?? SIGNATURE_EARLY.exec(message);
      if (!m) {
        report.claim('credential-invalid', 'badSignature', 0.8, {
          data: { message: said },
          evidence,
          fixes: ['identity', 'canonical'],
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
        fixes: ['clock'],
      });
    } else if (/^IncompleteSignature(Exception)?$/.test(code))
      report.claim('credential-malformed', 'incomplete', 0.85, {
        data: { message: said },
        evidence,
        fixes: ['sigv4'],
      });
    else if (/^MissingAuthenticationToken(Exception)?$/.test(code))
      report.claim('credential-missing', 'unsigned', 0.85, { data: { message: said }, evidence, fixes: ['sign'] });
    else if (code === 'OptInRequired')
      report.claim('account-state', 'optIn', 0.75, { data: { message: said }, evidence, fixes: ['optIn'] });
  },
});
