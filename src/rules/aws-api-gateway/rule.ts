// Amazon API Gateway answers from its own "gateway responses" before any
// integration runs; each has a fixed x-amzn-ErrorType and message, and every
// response carries x-amz-apigw-id. The famous look-alike: a request to a path,
// stage or method that does not exist gets 403 "Missing Authentication Token",
// not 404. Lambda authorizers answer 401 "Unauthorized" (token missing or
// rejected) or 403 with an explicit/implicit deny; resource policies answer
// "User: anonymous is not authorized to perform: execute-api:Invoke".
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import { parseAccessDenied, simulateCommand } from '../aws-iam/iam-message.ts';

const GATEWAY_TYPES = /^(MissingAuthenticationTokenException|AccessDeniedException|ForbiddenException|UnauthorizedException|IncompleteSignatureException|InvalidSignatureException|UnrecognizedClientException|ExpiredTokenException|BadRequestException|LimitExceededException|TooManyRequestsException)$/;
const GATEWAY_MESSAGES = /^(Missing Authentication Token|Forbidden|Unauthorized|User is not authorized to access this resource.*|User: \S+ is not authorized to perform: execute-api:Invoke.*|Invalid key=value pair.*|Authorization header requires .*|Signature expired: .*|Signature not yet current: .*|The security token included in the request is (invalid|expired)\.?|The request signature we calculated does not match.*|Credential should be scoped to .*)$/s;

function message(ctx: Context): string | undefined {
  const j = ctx.body.json;
  if (j && typeof j === 'object' && !Array.isArray(j)) return jsonString(j, 'message') ?? jsonString(j, 'Message');
  // REST APIs can answer XML when the client asks for it.
  return /<Message>([^<]*)<\/Message>/.exec(ctx.body.text)?.[1];
}

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const apigwId = ctx.header('x-amz-apigw-id');
  const errorType = ctx.header('x-amzn-errortype')?.split(':')[0];
  const reqId = ctx.header('x-amzn-requestid');
  const host = ctx.url?.hostname ?? '';
  const msg = message(ctx);
  if (apigwId) evidence.push(ev('header:x-amz-apigw-id', apigwId));
  if (errorType) evidence.push(ev('header:x-amzn-ErrorType', errorType));
  if (reqId) evidence.push(ev('header:x-amzn-RequestId', reqId));
  const apiHost = /\.execute-api\.[\w-]+\.amazonaws\.com(\.cn)?$/.test(host);
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
  else if (gatewayMessage && /^(Missing Authentication Token|User is not authorized to access this resource.*)$/s.test(msg!.trim())) confidence = 0.55;
  return { confidence, evidence, errorType, msg: msg?.trim() };
}

function apiParts(ctx: Context) {
  const host = ctx.url?.hostname ?? '';
  const apiId = /^([a-z0-9]+)\.execute-api\./.exec(host)?.[1];
  const region = /\.execute-api\.([\w-]+)\.amazonaws/.exec(host)?.[1];
  const segments = (ctx.url?.pathname ?? '/').split('/').filter(Boolean);
  return { apiId: apiId ?? 'API_ID', region: region ?? 'REGION', stage: segments[0], path: '/' + segments.slice(1).join('/'), segments };
}

function claim(id: CauseId, weight: number, summary: string, evidence: Evidence[], fixes: Fix[], gap?: CauseClaim['gap']): CauseClaim {
  return { id, weight, summary, evidence, fixes, ...(gap ? { gap } : {}) };
}

const EXEC_LOGS = (apiId: string, stage?: string): Fix => ({
  title: 'Read the API’s execution log for this request (enable it on the stage if it is off)',
  difficulty: 'medium',
  commands: [`aws logs tail API-Gateway-Execution-Logs_${apiId}/${stage ?? 'STAGE'} --since 15m --filter-pattern '"Authorizer" OR "resource policy"'`],
  verify: 'The log shows the authorizer’s output or the resource-policy decision for your request id.',
  docs: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html',
});

export default defineRule({
  meta: {
    id: 'aws-api-gateway',
    kind: 'producer',
    product: 'aws-api-gateway',
    layer: 'gateway',
    description: 'Amazon API Gateway gateway responses: Missing Authentication Token (wrong path/stage/method), API keys, Lambda authorizer allow/deny, resource policies, IAM-authorised routes and SigV4 errors.',
    docs: [
      'https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html',
      'https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden',
      'https://aws.amazon.com/premiumsupport/knowledge-center/api-gateway-403-error-lambda-authorizer/',
      'https://repost.aws/knowledge-center/api-gateway-access-denied',
    ],
    causes: ['wrong-endpoint', 'credential-missing', 'credential-invalid', 'credential-expired', 'credential-malformed', 'clock-skew', 'explicit-deny', 'insufficient-role', 'resource-policy', 'ip-restricted', 'waf-block'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'aws-api-gateway' as const, layer: 'gateway' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const msg = sig.msg ?? '';
    const type = sig.errorType;
    const { apiId, region, stage, path, segments } = apiParts(ctx);
    const msgEv = ev('body:message', msg || '(none)');
    const typeEv = type ? [ev('header:x-amzn-ErrorType', type)] : [];
    const auth = ctx.requestHeader('authorization');
    const sigv4 = Boolean(auth && /^AWS4-HMAC-SHA256 /.test(auth));
    const url = ctx.url?.href ?? 'https://API_ID.execute-api.REGION.amazonaws.com/STAGE/PATH';
    const notes: string[] = [];
    const causes: CauseClaim[] = [];
    const listRoutes: Fix = {
      title: 'List the deployed resources and methods, and compare with the URL you called',
      difficulty: 'easy',
      commands: [`aws apigateway get-stages --rest-api-id ${apiId} --region ${region} --query 'item[].stageName'`, `aws apigateway get-resources --rest-api-id ${apiId} --region ${region} --query 'items[].[path,keys(resourceMethods||\`{}\`)]' --output text`],
      verify: `The stage "${stage ?? 'STAGE'}" exists and "${path}" is listed with the ${ctx.method} method (and the API was redeployed after the change).`,
    };

    if (type === 'MissingAuthenticationTokenException' || msg === 'Missing Authentication Token') {
      notes.push('API Gateway answers 403 "Missing Authentication Token" for a path, stage or method that does not exist — it is usually a wrong URL, not a missing token.');
      const noStage = ctx.url && /\.execute-api\./.test(ctx.url.hostname) && segments.length === 0;
      const where = !ctx.url ? 'there is no such route' : noStage ? `the URL has no stage segment (${ctx.url.pathname})` : `there is no ${ctx.method} method on ${path} in stage "${stage}"`;
      causes.push(claim('wrong-endpoint', sigv4 ? 0.8 : noStage ? 0.8 : 0.65, `API Gateway answered "${msg}": ${where} — a wrong path, stage or method, or an API not redeployed after the change.`, [msgEv, ...typeEv, ...(noStage ? [ev('request:url', 'no stage segment in the path')] : [])], [listRoutes]));
      causes.push(claim('credential-missing', sigv4 ? 0.1 : 0.3, 'If the route exists and uses IAM authorization (AWS_IAM), the request must be signed with SigV4.', [msgEv], [{ title: 'Sign the request with SigV4 for service execute-api', difficulty: 'medium', commands: [`curl --aws-sigv4 "aws:amz:${region}:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-security-token: $AWS_SESSION_TOKEN" '${url}'`], verify: 'The signed request no longer gets "Missing Authentication Token".' }]));
      return { producer, causes, notes };
    }

    if (/^User is not authorized to access this resource/.test(msg)) {
      const explicit = /explicit deny/.test(msg);
      const cacheFix: Fix = { title: 'Check the authorizer’s policy covers this method ARN — a cached policy from another route is the classic trap', difficulty: 'medium', commands: [`aws apigateway get-authorizers --rest-api-id ${apiId} --region ${region} --query 'items[].[name,type,authorizerResultTtlInSeconds,identitySource]' --output table`], verify: `The policy the authorizer returns allows arn:aws:execute-api:${region}:ACCOUNT_ID:${apiId}/${stage ?? '*'}/${ctx.method}${path} (use a wildcard, or set the result TTL to 0 while testing).`, docs: 'https://aws.amazon.com/premiumsupport/knowledge-center/api-gateway-403-error-lambda-authorizer/' };
      const invokeAuthorizer: Fix = { title: 'Test the authorizer with the same token and read the policy it returns', difficulty: 'easy', commands: [`aws apigateway test-invoke-authorizer --rest-api-id ${apiId} --authorizer-id AUTHORIZER_ID --headers Authorization=TOKEN --region ${region}`], verify: 'policyDocument.Statement[].Effect is "Allow" for the method ARN.' };
      if (explicit)
        causes.push(claim('explicit-deny', 0.88, `API Gateway says "${msg}": the Lambda authorizer ran and returned a policy that denies this method — the token was read, and the authorizer decided no.`, [msgEv, ...typeEv], [invokeAuthorizer, EXEC_LOGS(apiId, stage), cacheFix]));
      else causes.push(claim('insufficient-role', 0.75, `API Gateway says "${msg}": the authorizer’s policy (or an IAM policy) does not allow this method ARN — often a cached policy issued for another route.`, [msgEv, ...typeEv], [cacheFix, invokeAuthorizer, EXEC_LOGS(apiId, stage)]));
      return { producer, causes, notes };
    }

    const parsed = parseAccessDenied(msg);
    if (parsed && /execute-api:Invoke/i.test(parsed.action)) {
      const gap = { required: [`execute-api:Invoke on ${parsed.resource ?? `arn:aws:execute-api:${region}:ACCOUNT_ID:${apiId}/${stage ?? '*'}/${ctx.method}${path}`}`], held: [] as string[] };
      const policyFix: Fix = { title: 'Read the API’s resource policy and find the statement that excludes you (source IP, VPC endpoint, account)', difficulty: 'medium', commands: [`aws apigateway get-rest-api --rest-api-id ${apiId} --region ${region} --query policy --output text | sed 's/\\\\//g' | jq .`, 'curl -s https://checkip.amazonaws.com  # the address API Gateway sees (for aws:SourceIp conditions)'], verify: 'An Allow statement matches your source IP / VPC endpoint / principal and no Deny does; after editing the policy, redeploy the stage.', docs: 'https://repost.aws/knowledge-center/api-gateway-access-denied' };
      const redeploy: Fix = { title: 'Redeploy the stage after changing the resource policy', difficulty: 'easy', commands: [`aws apigateway create-deployment --rest-api-id ${apiId} --stage-name ${stage ?? 'STAGE'} --region ${region}`] };
      if (parsed.principal === 'anonymous') {
        causes.push(claim('resource-policy', 0.85, `API Gateway says "${msg}": the API’s resource policy ${parsed.decision === 'explicit' ? 'explicitly denies' : 'does not allow'} this caller.`, [msgEv, ...typeEv], [policyFix, redeploy], gap));
        causes.push(claim('ip-restricted', 0.35, 'Resource policies usually decide on aws:SourceIp or aws:SourceVpce: your address or VPC endpoint may be outside the allowed set (private APIs need the right VPC endpoint).', [msgEv], [policyFix]));
      } else {
        causes.push(claim('insufficient-role', 0.75, `API Gateway says "${msg}": the route uses IAM authorization and ${parsed.principal} lacks execute-api:Invoke on it.`, [msgEv, ...typeEv], [{ title: 'Grant execute-api:Invoke on the method ARN to the caller', difficulty: 'medium', commands: [simulateCommand(parsed.principal, 'execute-api:Invoke', parsed.resource)] }], gap));
        causes.push(claim('resource-policy', 0.3, 'The API’s resource policy may also exclude this principal.', [msgEv], [policyFix]));
      }
      return { producer, causes, notes };
    }

    if (type === 'UnauthorizedException' || (ctx.status === 401 && msg === 'Unauthorized')) {
      const sent = Boolean(auth);
      if (!sent) {
        causes.push(claim('credential-missing', 0.8, `API Gateway answered ${ctx.status} "${msg}" before calling the authorizer: the request lacks the authorizer’s identity source (usually the Authorization header).`, [msgEv, ...typeEv, ev('request', ctx.exchange.request ? 'no Authorization header sent' : 'request not captured')], [{ title: 'Send the token in the header the authorizer reads', difficulty: 'easy', commands: [`curl -i -H "Authorization: Bearer $TOKEN" '${url}'`, `aws apigateway get-authorizers --rest-api-id ${apiId} --region ${region} --query 'items[].identitySource'`], verify: 'The response is no longer 401 Unauthorized.' }]));
        if (!ctx.exchange.request) causes.push(claim('credential-invalid', 0.35, 'A token authorizer also answers 401 "Unauthorized" when it rejects the token (bad signature, wrong issuer, failed validation expression).', [msgEv], [EXEC_LOGS(apiId, stage)]));
      } else {
        causes.push(claim('credential-invalid', 0.65, `API Gateway answered 401 "${msg}" although a token was sent: the authorizer rejected it (validation expression, signature, issuer or audience) — Cognito authorizers also answer so for an ID/access token mix-up.`, [msgEv, ...typeEv, ev('request-header:authorization', 'present')], [EXEC_LOGS(apiId, stage)]));
        causes.push(claim('credential-expired', 0.35, 'An expired token is rejected the same way.', [msgEv], [{ title: 'Obtain a fresh token and retry', difficulty: 'easy' }]));
      }
      return { producer, causes, notes };
    }

    if (type === 'ForbiddenException' || msg === 'Forbidden') {
      const key = ctx.requestHeader('x-api-key');
      const keyFix: Fix = { title: 'Send a valid API key of a usage plan attached to this stage', difficulty: 'easy', commands: [`aws apigateway get-usage-plans --key-id KEY_ID --region ${region} --query 'items[].apiStages'`, `curl -i -H "x-api-key: $API_KEY" '${url}'`], verify: `The key is enabled and its usage plan lists ${apiId}:${stage ?? 'STAGE'}.` };
      if (ctx.exchange.request) causes.push(key ? claim('credential-invalid', 0.55, 'An x-api-key was sent but API Gateway refused it: disabled key, or its usage plan does not include this API stage.', [msgEv, ...typeEv, ev('request-header:x-api-key', 'present')], [keyFix]) : claim('credential-missing', 0.55, 'The method requires an API key and the request sent no x-api-key header.', [msgEv, ...typeEv, ev('request-header:x-api-key', 'absent')], [keyFix]));
      else causes.push(claim('credential-missing', 0.45, `API Gateway answered "${msg}": most often an API key is required and missing (or invalid).`, [msgEv, ...typeEv], [keyFix]));
      causes.push(claim('ip-restricted', 0.3, 'A private API reached from outside its VPC endpoint (or through a VPC endpoint with private DNS intercepting a public API) also answers "Forbidden".', [msgEv], [{ title: 'For a private API, call it through its VPC endpoint (x-apigw-api-id header or the vpce DNS name)', difficulty: 'medium', commands: [`aws apigateway get-rest-api --rest-api-id ${apiId} --region ${region} --query endpointConfiguration`], docs: 'https://repost.aws/knowledge-center/api-gateway-vpc-connections' }]));
      causes.push(claim('waf-block', 0.2, 'An AWS WAF web ACL on the stage answers "Forbidden" too.', [msgEv], [{ title: 'Check the stage’s web ACL sampled requests', difficulty: 'medium', commands: [`aws wafv2 get-web-acl-for-resource --resource-arn arn:aws:apigateway:${region}::/restapis/${apiId}/stages/${stage ?? 'STAGE'}`] }]));
      return { producer, causes, notes };
    }

    if (type === 'IncompleteSignatureException' || /^(Invalid key=value pair|Authorization header requires)/.test(msg)) {
      causes.push(claim('credential-malformed', 0.85, `API Gateway says "${msg}": the Authorization header is not a complete SigV4 signature — a bearer token sent to an IAM-authorized route looks like this.`, [msgEv, ...typeEv], [{ title: 'Sign with SigV4 for execute-api, or switch the route to a token authorizer if you meant to send a bearer token', difficulty: 'medium', commands: [`curl --aws-sigv4 "aws:amz:${region}:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" '${url}'`] }]));
      return { producer, causes, notes };
    }
    if (/^Signature (expired|not yet current)/.test(msg)) {
      causes.push(claim('clock-skew', 0.8, `API Gateway says "${msg}": the signing clock differs from AWS’s by more than 5 minutes.`, [msgEv, ...typeEv], [{ title: 'Synchronise the client clock with NTP', difficulty: 'easy', commands: ['sudo timedatectl set-ntp true  # or: sudo chronyc makestep'] }]));
      return { producer, causes, notes };
    }
    if (type === 'ExpiredTokenException' || /token included in the request is expired/.test(msg)) {
      causes.push(claim('credential-expired', 0.88, `API Gateway says "${msg}": the session token used to sign has expired.`, [msgEv, ...typeEv], [{ title: 'Refresh the temporary credentials', difficulty: 'easy', commands: ['aws sso login  # or re-assume the role', 'aws sts get-caller-identity'] }]));
      return { producer, causes, notes };
    }
    if (type === 'UnrecognizedClientException' || type === 'InvalidSignatureException' || /token included in the request is invalid|signature we calculated does not match/.test(msg)) {
      causes.push(claim('credential-invalid', 0.8, `API Gateway says "${msg}": the access key, session token or signature is not valid.`, [msgEv, ...typeEv], [{ title: 'Check the signing credentials', difficulty: 'easy', commands: ['aws sts get-caller-identity'] }]));
      return { producer, causes, notes };
    }
    return { producer };
  },
});
