// Amazon API Gateway answers from its own "gateway responses" before any
// integration runs; each has a fixed x-amzn-ErrorType and message, and every
// response carries x-amz-apigw-id. The famous look-alike: a request to a path,
// stage or method that does not exist gets 403 "Missing Authentication Token",
// not 404. Lambda authorizers answer 401 "Unauthorized" (token missing or
// rejected) or 403 with an explicit/implicit deny; resource policies answer
// "User: anonymous is not authorized to perform: execute-api:Invoke".
import { defineProducer, ev, jsonString, type Context, type Evidence, type Fix } from '../define.ts';
import { parseAccessDenied, simulateCommand } from '../../knowledge/aws-iam-message.ts';

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

const EXEC_LOGS = (apiId: string, stage?: string): Fix => ({
  title: 'Read the API’s execution log for this request (enable it on the stage if it is off)',
  difficulty: 'medium',
  commands: [
    `aws logs tail API-Gateway-Execution-Logs_${apiId}/${stage ?? 'STAGE'} --since 15m --filter-pattern '"Authorizer" OR "resource policy"'`,
  ],
  verify: 'The log shows the authorizer’s output or the resource-policy decision for your request id.',
  docs: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html',
});

type Api = ReturnType<typeof apiParts>;

function listRoutesFix(ctx: Context, { apiId, region, stage, path }: Api): Fix {
  return {
    title: 'List the deployed resources and methods, and compare with the URL you called',
    difficulty: 'easy',
    commands: [
      `aws apigateway get-stages --rest-api-id ${apiId} --region ${region} --query 'item[].stageName'`,
      `aws apigateway get-resources --rest-api-id ${apiId} --region ${region} --query 'items[].[path,keys(resourceMethods||\`{}\`)]' --output text`,
    ],
    verify: `The stage "${stage ?? 'STAGE'}" exists and "${path}" is listed with the ${ctx.method} method (and the API was redeployed after the change).`,
  };
}

function sigv4Fix(region: string, url: string): Fix {
  return {
    title: 'Sign the request with SigV4 for service execute-api',
    difficulty: 'medium',
    commands: [
      `curl --aws-sigv4 "aws:amz:${region}:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-security-token: $AWS_SESSION_TOKEN" '${url}'`,
    ],
    verify: 'The signed request no longer gets "Missing Authentication Token".',
  };
}

function authorizerCacheFix(ctx: Context, { apiId, region, stage, path }: Api): Fix {
  return {
    title:
      'Check the authorizer’s policy covers this method ARN — a cached policy from another route is the classic trap',
    difficulty: 'medium',
    commands: [
      `aws apigateway get-authorizers --rest-api-id ${apiId} --region ${region} --query 'items[].[name,type,authorizerResultTtlInSeconds,identitySource]' --output table`,
    ],
    verify: `The policy the authorizer returns allows arn:aws:execute-api:${region}:ACCOUNT_ID:${apiId}/${stage ?? '*'}/${ctx.method}${path} (use a wildcard, or set the result TTL to 0 while testing).`,
    docs: 'https://aws.amazon.com/premiumsupport/knowledge-center/api-gateway-403-error-lambda-authorizer/',
  };
}

function invokeAuthorizerFix({ apiId, region }: Api): Fix {
  return {
    title: 'Test the authorizer with the same token and read the policy it returns',
    difficulty: 'easy',
    commands: [
      `aws apigateway test-invoke-authorizer --rest-api-id ${apiId} --authorizer-id AUTHORIZER_ID --headers Authorization=TOKEN --region ${region}`,
    ],
    verify: 'policyDocument.Statement[].Effect is "Allow" for the method ARN.',
  };
}

function resourcePolicyFix({ apiId, region }: Api): Fix {
  return {
    title: 'Read the API’s resource policy and find the statement that excludes you (source IP, VPC endpoint, account)',
    difficulty: 'medium',
    commands: [
      `aws apigateway get-rest-api --rest-api-id ${apiId} --region ${region} --query policy --output text | sed 's/\\\\//g' | jq .`,
      'curl -s https://checkip.amazonaws.com  # the address API Gateway sees (for aws:SourceIp conditions)',
    ],
    verify:
      'An Allow statement matches your source IP / VPC endpoint / principal and no Deny does; after editing the policy, redeploy the stage.',
    docs: 'https://repost.aws/knowledge-center/api-gateway-access-denied',
  };
}

function redeployFix({ apiId, region, stage }: Api): Fix {
  return { title: 'Redeploy the stage after changing the resource policy', difficulty: 'easy', commands: [`aws apigateway create-deployment --rest-api-id ${apiId} --stage-name ${stage ?? 'STAGE'} --region ${region}`] };
}

function sendTokenFix({ apiId, region }: Api, url: string): Fix {
  return {
    title: 'Send the token in the header the authorizer reads',
    difficulty: 'easy',
    commands: [
      `curl -i -H "Authorization: Bearer $TOKEN" '${url}'`,
      `aws apigateway get-authorizers --rest-api-id ${apiId} --region ${region} --query 'items[].identitySource'`,
    ],
    verify: 'The response is no longer 401 Unauthorized.',
  };
}

function apiKeyFix({ apiId, region, stage }: Api, url: string): Fix {
  return {
    title: 'Send a valid API key of a usage plan attached to this stage',
    difficulty: 'easy',
    commands: [
      `aws apigateway get-usage-plans --key-id KEY_ID --region ${region} --query 'items[].apiStages'`,
      `curl -i -H "x-api-key: $API_KEY" '${url}'`,
    ],
    verify: `The key is enabled and its usage plan lists ${apiId}:${stage ?? 'STAGE'}.`,
  };
}

function privateApiFix({ apiId, region }: Api): Fix {
  return {
    title: 'For a private API, call it through its VPC endpoint (x-apigw-api-id header or the vpce DNS name)',
    difficulty: 'medium',
    commands: [`aws apigateway get-rest-api --rest-api-id ${apiId} --region ${region} --query endpointConfiguration`],
    docs: 'https://repost.aws/knowledge-center/api-gateway-vpc-connections',
  };
}

function wafFix({ apiId, region, stage }: Api): Fix {
  return { title: 'Check the stage’s web ACL sampled requests', difficulty: 'medium', commands: [`aws wafv2 get-web-acl-for-resource --resource-arn arn:aws:apigateway:${region}::/restapis/${apiId}/stages/${stage ?? 'STAGE'}`] };
}

function signOrSwitchFix(region: string, url: string): Fix {
  return {
    title:
      'Sign with SigV4 for execute-api, or switch the route to a token authorizer if you meant to send a bearer token',
    difficulty: 'medium',
    commands: [
      `curl --aws-sigv4 "aws:amz:${region}:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" '${url}'`,
    ],
  };
}

const CLOCK_FIX: Fix = { title: 'Synchronise the client clock with NTP', difficulty: 'easy', commands: ['sudo timedatectl set-ntp true  # or: sudo chronyc makestep'] };
const REFRESH_FIX: Fix = { title: 'Refresh the temporary credentials', difficulty: 'easy', commands: ['aws sso login  # or re-assume the role', 'aws sts get-caller-identity'] };
const CALLER_FIX: Fix = { title: 'Check the signing credentials', difficulty: 'easy', commands: ['aws sts get-caller-identity'] };
const MISSING_TOKEN_NOTE =
  'API Gateway answers 403 "Missing Authentication Token" for a path, stage or method that does not exist — it is usually a wrong URL, not a missing token.';

export default defineProducer({
  meta: {
    id: 'aws-api-gateway',
    product: 'aws-api-gateway',
    layer: 'gateway',
    description:
      'Amazon API Gateway gateway responses: Missing Authentication Token (wrong path/stage/method), API keys, Lambda authorizer allow/deny, resource policies, IAM-authorised routes and SigV4 errors.',
    docs: [
      'https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html',
      'https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden',
      'https://aws.amazon.com/premiumsupport/knowledge-center/api-gateway-403-error-lambda-authorizer/',
      'https://repost.aws/knowledge-center/api-gateway-access-denied',
    ],
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
    messages: {
      missingToken:
        'API Gateway answered "{{msg}}": {{where}} — a wrong path, stage or method, or an API not redeployed after the change.',
      sigv4Required: 'If the route exists and uses IAM authorization (AWS_IAM), the request must be signed with SigV4.',
      authorizerDeny:
        'API Gateway says "{{msg}}": the Lambda authorizer ran and returned a policy that denies this method — the token was read, and the authorizer decided no.',
      authorizerNoAllow:
        'API Gateway says "{{msg}}": the authorizer’s policy (or an IAM policy) does not allow this method ARN — often a cached policy issued for another route.',
      resourcePolicy: 'API Gateway says "{{msg}}": the API’s resource policy {{verdict}} this caller.',
      sourceRestricted:
        'Resource policies usually decide on aws:SourceIp or aws:SourceVpce: your address or VPC endpoint may be outside the allowed set (private APIs need the right VPC endpoint).',
      iamInvoke:
        'API Gateway says "{{msg}}": the route uses IAM authorization and {{principal}} lacks execute-api:Invoke on it.',
      resourcePolicyToo: 'The API’s resource policy may also exclude this principal.',
      noIdentitySource:
        'API Gateway answered {{status}} "{{msg}}" before calling the authorizer: the request lacks the authorizer’s identity source (usually the Authorization header).',
      tokenMaybeRejected:
        'A token authorizer also answers 401 "Unauthorized" when it rejects the token (bad signature, wrong issuer, failed validation expression).',
      tokenRejected:
        'API Gateway answered 401 "{{msg}}" although a token was sent: the authorizer rejected it (validation expression, signature, issuer or audience) — Cognito authorizers also answer so for an ID/access token mix-up.',
      tokenExpired: 'An expired token is rejected the same way.',
      apiKeyRefused:
        'An x-api-key was sent but API Gateway refused it: disabled key, or its usage plan does not include this API stage.',
      apiKeyMissing: 'The method requires an API key and the request sent no x-api-key header.',
      apiKeyLikely: 'API Gateway answered "{{msg}}": most often an API key is required and missing (or invalid).',
      privateApi:
        'A private API reached from outside its VPC endpoint (or through a VPC endpoint with private DNS intercepting a public API) also answers "Forbidden".',
      waf: 'An AWS WAF web ACL on the stage answers "Forbidden" too.',
      incompleteSignature:
        'API Gateway says "{{msg}}": the Authorization header is not a complete SigV4 signature — a bearer token sent to an IAM-authorized route looks like this.',
      clockSkew: 'API Gateway says "{{msg}}": the signing clock differs from AWS’s by more than 5 minutes.',
      sessionExpired: 'API Gateway says "{{msg}}": the session token used to sign has expired.',
      badSignature: 'API Gateway says "{{msg}}": the access key, session token or signature is not valid.',
    },
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
    const api = apiParts(ctx);
    const { apiId, region, stage, path, segments } = api;
    const msgEv = ev('body:message', msg || '(none)');
    const typeEv = type ? [ev('header:x-amzn-ErrorType', type)] : [];
    const auth = ctx.requestHeader('authorization');
    const sigv4 = Boolean(auth && /^AWS4-HMAC-SHA256 /.test(auth));
    const url = ctx.url?.href ?? 'https://API_ID.execute-api.REGION.amazonaws.com/STAGE/PATH';
    const data = { msg };

    if (type === 'MissingAuthenticationTokenException' || msg === 'Missing Authentication Token') {
      report.note(MISSING_TOKEN_NOTE);
      const noStage = ctx.url && /\.execute-api\./.test(ctx.url.hostname) && segments.length === 0;
      const where = !ctx.url
        ? 'there is no such route'
        : noStage
          ? `the URL has no stage segment (${ctx.url.pathname})`
          : `there is no ${ctx.method} method on ${path} in stage "${stage}"`;
      report.claim('wrong-endpoint', 'missingToken', sigv4 ? 0.8 : noStage ? 0.8 : 0.65, {
        data: { msg, where },
        evidence: [msgEv, ...typeEv, ...(noStage ? [ev('request:url', 'no stage segment in the path')] : [])],
        fixes: [listRoutesFix(ctx, api)],
      });
      report.claim('credential-missing', 'sigv4Required', sigv4 ? 0.1 : 0.3, {
        evidence: [msgEv],
        fixes: [sigv4Fix(region, url)],
      });
      return;
    }

    if (/^User is not authorized to access this resource/.test(msg)) {
      const cacheFix = authorizerCacheFix(ctx, api);
      const invokeFix = invokeAuthorizerFix(api);
      if (/explicit deny/.test(msg))
        report.claim('explicit-deny', 'authorizerDeny', 0.88, {
          data,
          evidence: [msgEv, ...typeEv],
          fixes: [invokeFix, EXEC_LOGS(apiId, stage), cacheFix],
        });
      else
        report.claim('insufficient-role', 'authorizerNoAllow', 0.75, {
          data,
          evidence: [msgEv, ...typeEv],
          fixes: [cacheFix, invokeFix, EXEC_LOGS(apiId, stage)],
        });
      return;
    }

    const parsed = parseAccessDenied(msg);
    if (parsed && /execute-api:Invoke/i.test(parsed.action)) {
      const methodArn =
        parsed.resource ?? `arn:aws:execute-api:${region}:ACCOUNT_ID:${apiId}/${stage ?? '*'}/${ctx.method}${path}`;
      const gap = { required: [`execute-api:Invoke on ${methodArn}`], held: [] };
      const policyFix = resourcePolicyFix(api);
      if (parsed.principal === 'anonymous') {
        const verdict = parsed.decision === 'explicit' ? 'explicitly denies' : 'does not allow';
        report.claim('resource-policy', 'resourcePolicy', 0.85, {
          data: { msg, verdict },
          evidence: [msgEv, ...typeEv],
          fixes: [policyFix, redeployFix(api)],
          gap,
        });
        report.claim('ip-restricted', 'sourceRestricted', 0.35, { evidence: [msgEv], fixes: [policyFix] });
      } else {
        const grant: Fix = { title: 'Grant execute-api:Invoke on the method ARN to the caller', difficulty: 'medium', commands: [simulateCommand(parsed.principal, 'execute-api:Invoke', parsed.resource)] };
        report.claim('insufficient-role', 'iamInvoke', 0.75, {
          data: { msg, principal: parsed.principal },
          evidence: [msgEv, ...typeEv],
          fixes: [grant],
          gap,
        });
        report.claim('resource-policy', 'resourcePolicyToo', 0.3, { evidence: [msgEv], fixes: [policyFix] });
      }
      return;
    }

    if (type === 'UnauthorizedException' || (ctx.status === 401 && msg === 'Unauthorized')) {
      if (!auth) {
        const sent = ev('request', ctx.exchange.request ? 'no Authorization header sent' : 'request not captured');
        report.claim('credential-missing', 'noIdentitySource', 0.8, {
          data: { msg, status: ctx.status },
          evidence: [msgEv, ...typeEv, sent],
          fixes: [sendTokenFix(api, url)],
        });
        if (!ctx.exchange.request)
          report.claim('credential-invalid', 'tokenMaybeRejected', 0.35, {
            evidence: [msgEv],
            fixes: [EXEC_LOGS(apiId, stage)],
          });
      } else {
        report.claim('credential-invalid', 'tokenRejected', 0.65, {
          data,
          evidence: [msgEv, ...typeEv, ev('request-header:authorization', 'present')],
          fixes: [EXEC_LOGS(apiId, stage)],
        });
        report.claim('credential-expired', 'tokenExpired', 0.35, {
          evidence: [msgEv],
          fixes: [{ title: 'Obtain a fresh token and retry', difficulty: 'easy' }],
        });
      }
      return;
    }

    if (type === 'ForbiddenException' || msg === 'Forbidden') {
      const keyFix = apiKeyFix(api, url);
      if (!ctx.exchange.request)
        report.claim('credential-missing', 'apiKeyLikely', 0.45, {
          data,
          evidence: [msgEv, ...typeEv],
          fixes: [keyFix],
        });
      else if (ctx.requestHeader('x-api-key'))
        report.claim('credential-invalid', 'apiKeyRefused', 0.55, {
          evidence: [msgEv, ...typeEv, ev('request-header:x-api-key', 'present')],
          fixes: [keyFix],
        });
      else
        report.claim('credential-missing', 'apiKeyMissing', 0.55, {
          evidence: [msgEv, ...typeEv, ev('request-header:x-api-key', 'absent')],
          fixes: [keyFix],
        });
      report.claim('ip-restricted', 'privateApi', 0.3, { evidence: [msgEv], fixes: [privateApiFix(api)] });
      report.claim('waf-block', 'waf', 0.2, { evidence: [msgEv], fixes: [wafFix(api)] });
      return;
    }

    if (type === 'IncompleteSignatureException' || /^(Invalid key=value pair|Authorization header requires)/.test(msg))
      report.claim('credential-malformed', 'incompleteSignature', 0.85, {
        data,
        evidence: [msgEv, ...typeEv],
        fixes: [signOrSwitchFix(region, url)],
      });
    else if (/^Signature (expired|not yet current)/.test(msg))
      report.claim('clock-skew', 'clockSkew', 0.8, { data, evidence: [msgEv, ...typeEv], fixes: [CLOCK_FIX] });
    else if (type === 'ExpiredTokenException' || /token included in the request is expired/.test(msg))
      report.claim('credential-expired', 'sessionExpired', 0.88, {
        data,
        evidence: [msgEv, ...typeEv],
        fixes: [REFRESH_FIX],
      });
    else if (
      type === 'UnrecognizedClientException' ||
      type === 'InvalidSignatureException' ||
      /token included in the request is invalid|signature we calculated does not match/.test(msg)
    )
      report.claim('credential-invalid', 'badSignature', 0.8, {
        data,
        evidence: [msgEv, ...typeEv],
        fixes: [CALLER_FIX],
      });
  },
});
