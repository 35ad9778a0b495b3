// Amazon API Gateway answers from its own "gateway responses" before any
// integration runs; each has a fixed x-amzn-ErrorType and message, and every
// response carries x-amz-apigw-id. The famous look-alike: a request to a path,
// stage or method that does not exist gets 403 "Missing Authentication Token",
// not 404. Lambda authorizers answer 401 "Unauthorized" (token missing or
// rejected) or 403 with an explicit/implicit deny; resource policies answer
// "User: anonymous is not authorized to perform: execute-api:Invoke".
import { defineProducer, ev, jsonString, type Context, type Evidence } from '../define.ts';
import { parseAccessDenied, simulateCommand } from '../../knowledge/aws-iam-message.ts';
import texts from './texts.json' with { type: 'json' };

const GATEWAY_TYPES =
  /^(MissingAuthenticationTokenException|AccessDeniedException|ForbiddenException|UnauthorizedException|IncompleteSignatureException|InvalidSignatureException|UnrecognizedClientException|ExpiredTokenException|BadRequestException|LimitExceededException|TooManyRequestsException)$/;
const GATEWAY_MESSAGES =
  /^(Missing Authentication Token|Forbidden|Unauthorized|User is not authorized to access this resource.*|User: \S+ is not authorized to perform: execute-api:Invoke.*|Invalid key=value pair.*|Authorization header requires .*|Signature expired: .*|Signature not yet current: .*|The security token included in the request is (invalid|expired)\.?|The request signature we calculated does not match.*|Credential should be scoped to .*)$/s;
const API_HOST = /\.execute-api\.[\w-]+\.amazonaws\.com(\.cn)?$/;

function message(ctx: Context): string | undefined {
  const j = ctx.body.json;
  if (j && typeof j === 'object' && !Array.isArray(j)) return jsonString(j, 'message') ?? jsonString(j, 'Message');
  // REST APIs can answer XML when the client asks for it.
  return /<Message>([^<]*)<\/Message>/.exec(ctx.body.text)?.[1];
}

function apiParts(ctx: Context) {
  const host = ctx.url?.hostname ?? '';
  const apiId = /^([a-z0-9]+)\.execute-api\./.exec(host)?.[1];
  const region = /\.execute-api\.([\w-]+)\.amazonaws/.exec(host)?.[1];
  const segments = (ctx.url?.pathname ?? '/').split('/').filter(Boolean);
  return {
    apiId: apiId ?? 'API_ID',
    region: region ?? 'REGION',
    stage: segments[0],
    path: '/' + segments.slice(1).join('/'),
    segments,
  };
}

const MISSING_TOKEN_NOTE =
  'API Gateway answers 403 "Missing Authentication Token" for a path, stage or method that does not exist — it is usually a wrong URL, not a missing token.';

export default defineProducer({
  meta: {
    id: 'aws-api-gateway',
    product: 'aws-api-gateway',
    layer: 'gateway',
    causes: [
      'wrong-endpoint',
      'credential-missing',
      'credential-invalid',
      'credential-expired',
      'credential-malformed',
      'clock-skew',
      'explicit-deny',
      'insufficient-role',
      'resource-policy',
      'ip-restricted',
      'waf-block',
    ],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const evidence: Evidence[] = [];
    const apigwId = ctx.header('x-amz-apigw-id');
    const errorType = ctx.header('x-amzn-errortype')?.split(':')[0];
    const reqId = ctx.header('x-amzn-requestid');
    const host = ctx.url?.hostname ?? '';
    const msg = message(ctx);
    if (apigwId) evidence.push(ev('header:x-amz-apigw-id', apigwId));
    if (errorType) evidence.push(ev('header:x-amzn-ErrorType', errorType));
    if (reqId) evidence.push(ev('header:x-amzn-RequestId', reqId));
    const apiHost = API_HOST.test(host);
    if (apiHost) evidence.push(ev('request:url', `API Gateway endpoint ${host}`));
    const gatewayMessage = msg !== undefined && GATEWAY_MESSAGES.test(msg.trim());
    if (gatewayMessage) evidence.push(ev('body:message', msg!));
    const invokeArn = /execute-api:Invoke/.test(msg ?? '') || /arn:aws[\w-]*:execute-api:/.test(msg ?? '');
    // Other AWS services on the same front end also send x-amzn-ErrorType: only a
    // gateway message or API Gateway's own id/host makes it API Gateway's answer.
    const otherAwsHost = /\.amazonaws\.com(\.cn)?$/.test(host) && !apiHost;
    let confidence = 0;
    if (apigwId) confidence = 0.97;
    else if (apiHost) confidence = gatewayMessage ? 0.95 : 0.6;
    else if (otherAwsHost) confidence = 0;
    else if (invokeArn && gatewayMessage) confidence = 0.85;
    else if (gatewayMessage && errorType && GATEWAY_TYPES.test(errorType) && reqId) confidence = 0.8;
    else if (
      gatewayMessage &&
      /^(Missing Authentication Token|User is not authorized to access this resource.*)$/s.test(msg!.trim())
    )
      confidence = 0.55;
    return { confidence, evidence, errorType, msg: msg?.trim() };
  },
  explain(ctx, { errorType: type, msg: trimmed }, report) {
    const msg = trimmed ?? '';
    const { apiId, region, stage, path, segments } = apiParts(ctx);
    const msgEv = ev('body:message', msg || '(none)');
    const typeEv = type ? [ev('header:x-amzn-ErrorType', type)] : [];
    const auth = ctx.requestHeader('authorization');
    const sigv4 = Boolean(auth && /^AWS4-HMAC-SHA256 /.test(auth));
    const url = ctx.url?.href ?? 'https://API_ID.execute-api.REGION.amazonaws.com/STAGE/PATH';
    const data = {
      msg,
      apiId,
      region,
      stage: stage ?? 'STAGE',
      stageOrAll: stage ?? '*',
      path,
      method: ctx.method,
      url,
    };

    if (type === 'MissingAuthenticationTokenException' || msg === 'Missing Authentication Token') {
      report.note(MISSING_TOKEN_NOTE);
      const noStage = ctx.url && /\.execute-api\./.test(ctx.url.hostname) && segments.length === 0;
      const where = !ctx.url
        ? 'there is no such route'
        : noStage
          ? `the URL has no stage segment (${ctx.url.pathname})`
          : `there is no ${ctx.method} method on ${path} in stage "${stage}"`;
      report.claim('wrong-endpoint', 'missingToken', sigv4 ? 0.8 : noStage ? 0.8 : 0.65, {
        data: { ...data, where },
        evidence: [msgEv, ...typeEv, ...(noStage ? [ev('request:url', 'no stage segment in the path')] : [])],
        fixes: ['listRoutes'],
      });
      report.claim('credential-missing', 'sigv4Required', sigv4 ? 0.1 : 0.3, {
        data,
        evidence: [msgEv],
        fixes: ['sigv4'],
      });
      return;
    }

    if (/^User is not authorized to access this resource/.test(msg)) {
      if (/explicit deny/.test(msg))
        report.claim('explicit-deny', 'authorizerDeny', 0.88, {
          data,
          evidence: [msgEv, ...typeEv],
          fixes: ['testAuthorizer', 'executionLog', 'authorizerCache'],
        });
      else
        report.claim('insufficient-role', 'authorizerNoAllow', 0.75, {
          data,
          evidence: [msgEv, ...typeEv],
          fixes: ['authorizerCache', 'testAuthorizer', 'executionLog'],
        });
      return;
    }

    const parsed = parseAccessDenied(msg);
    if (parsed && /execute-api:Invoke/i.test(parsed.action)) {
      const methodArn =
        parsed.resource ?? `arn:aws:execute-api:${region}:ACCOUNT_ID:${apiId}/${stage ?? '*'}/${ctx.method}${path}`;
      const gap = { required: [`execute-api:Invoke on ${methodArn}`], held: [] };
      if (parsed.principal === 'anonymous') {
        const verdict = parsed.decision === 'explicit' ? 'explicitly denies' : 'does not allow';
        report.claim('resource-policy', 'resourcePolicy', 0.85, {
          data: { ...data, verdict },
          evidence: [msgEv, ...typeEv],
          fixes: ['resourcePolicy', 'redeploy'],
          gap,
        });
        report.claim('ip-restricted', 'sourceRestricted', 0.35, { data, evidence: [msgEv], fixes: ['resourcePolicy'] });
      } else {
        const simulate = simulateCommand(parsed.principal, 'execute-api:Invoke', parsed.resource);
        report.claim('insufficient-role', 'iamInvoke', 0.75, {
          data: { ...data, principal: parsed.principal, simulate },
          evidence: [msgEv, ...typeEv],
          fixes: ['grantInvoke'],
          gap,
        });
        report.claim('resource-policy', 'resourcePolicyToo', 0.3, {
          data,
          evidence: [msgEv],
          fixes: ['resourcePolicy'],
        });
      }
      return;
    }

    if (type === 'UnauthorizedException' || (ctx.status === 401 && msg === 'Unauthorized')) {
      if (!auth) {
        const sent = ev('request', ctx.exchange.request ? 'no Authorization header sent' : 'request not captured');
        report.claim('credential-missing', 'noIdentitySource', 0.8, {
          data: { ...data, status: ctx.status },
          evidence: [msgEv, ...typeEv, sent],
          fixes: ['sendToken'],
        });
        if (!ctx.exchange.request)
          report.claim('credential-invalid', 'tokenMaybeRejected', 0.35, {
            data,
            evidence: [msgEv],
            fixes: ['executionLog'],
          });
      } else {
        report.claim('credential-invalid', 'tokenRejected', 0.65, {
          data,
          evidence: [msgEv, ...typeEv, ev('request-header:authorization', 'present')],
          fixes: ['executionLog'],
        });
        report.claim('credential-expired', 'tokenExpired', 0.35, {
          evidence: [msgEv],
          fixes: ['freshToken'],
        });
      }
      return;
    }

    if (type === 'ForbiddenException' || msg === 'Forbidden') {
      if (!ctx.exchange.request)
        report.claim('credential-missing', 'apiKeyLikely', 0.45, {
          data,
          evidence: [msgEv, ...typeEv],
          fixes: ['apiKey'],
        });
      else if (ctx.requestHeader('x-api-key'))
        report.claim('credential-invalid', 'apiKeyRefused', 0.55, {
          data,
          evidence: [msgEv, ...typeEv, ev('request-header:x-api-key', 'present')],
          fixes: ['apiKey'],
        });
      else
        report.claim('credential-missing', 'apiKeyMissing', 0.55, {
          data,
          evidence: [msgEv, ...typeEv, ev('request-header:x-api-key', 'absent')],
          fixes: ['apiKey'],
        });
      report.claim('ip-restricted', 'privateApi', 0.3, { data, evidence: [msgEv], fixes: ['privateApi'] });
      report.claim('waf-block', 'waf', 0.2, { data, evidence: [msgEv], fixes: ['waf'] });
      return;
    }

    if (type === 'IncompleteSignatureException' || /^(Invalid key=value pair|Authorization header requires)/.test(msg))
      report.claim('credential-malformed', 'incompleteSignature', 0.85, {
        data,
        evidence: [msgEv, ...typeEv],
        fixes: ['signOrSwitch'],
      });
    else if (/^Signature (expired|not yet current)/.test(msg))
      report.claim('clock-skew', 'clockSkew', 0.8, { data, evidence: [msgEv, ...typeEv], fixes: ['clock'] });
    else if (type === 'ExpiredTokenException' || /token included in the request is expired/.test(msg))
      report.claim('credential-expired', 'sessionExpired', 0.88, {
        data,
        evidence: [msgEv, ...typeEv],
        fixes: ['refresh'],
      });
    else if (
      type === 'UnrecognizedClientException' ||
      type === 'InvalidSignatureException' ||
      /token included in the request is invalid|signature we calculated does not match/.test(msg)
    )
      report.claim('credential-invalid', 'badSignature', 0.8, {
        data,
        evidence: [msgEv, ...typeEv],
        fixes: ['caller'],
      });
  },
});
