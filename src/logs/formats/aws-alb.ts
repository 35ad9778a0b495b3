// AWS Application Load Balancer access logs: space-separated fields, the
// request and user agent quoted, new fields added at the end of the line,
//   http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" 10.0.0.1:80 200 "-" "-"
// A request AWS WAF blocked has no target ("-"), elb_status_code 403, and
// "waf" as the last of actions_executed. error_reason names why an
// authenticate action failed (AuthInvalidCookie, AuthInvalidIdToken, …).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
import type { CauseId } from '../../model/vocabulary.ts';
import type { LogFormat, LogReason } from '../../model/logs.ts';
import type { Fix } from '../../model/report.ts';

const Q = '"((?:[^"\\\\]|\\\\.){0,8192})"';
// type time elb client:port target:port 3×processing-time elb_status target_status received sent "request" "user_agent"
// ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" "chosen_cert_arn" matched_rule_priority
// request_creation_time "actions_executed" "redirect_url" "error_reason" …
const LINE = new RegExp(
  `^(?:https?|h2|grpcs?|wss?) (\\S+) \\S+ (\\S+) (\\S+) \\S+ \\S+ \\S+ (\\d{3}|-) (\\d{3}|-) \\S+ \\S+ ${Q} ${Q} ` +
    `\\S+ \\S+ \\S+ "[^"]{0,1024}" "[^"]{0,1024}" "[^"]{0,2048}" \\S+ \\S+ "([^"]{0,256})" "[^"]{0,8192}" "([^"]{0,256})"`,
);

const cognitoOrOidc: Fix = {
  title: 'Sign in again through the listener’s authenticate action; check its IdP settings if it keeps failing',
  difficulty: 'medium',
  commands: ['aws elbv2 describe-rules --listener-arn LISTENER_ARN'],
  verify: 'The request’s actions_executed shows authenticate,forward and no error_reason.',
  docs: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html',
};

// error_reason codes of the authenticate action, with what the documentation says they mean.
const AUTH: Record<string, { causes: CauseId[]; words: string }> = {
  AuthInvalidCookie: { causes: ['credential-invalid'], words: 'The authentication cookie is not valid.' },
  AuthInvalidIdToken: { causes: ['credential-invalid'], words: 'The ID token is not valid.' },
  AuthInvalidGrantError: {
    causes: ['credential-invalid'],
    words: 'The authorization grant code from the token endpoint is not valid.',
  },
  AuthInvalidStateParam: { causes: ['credential-malformed'], words: 'The state parameter is not valid.' },
  AuthMissingCodeParam: {
    causes: ['credential-malformed'],
    words: "The authentication response from the authorization endpoint is missing a query parameter named 'code'.",
  },
  AuthMissingStateParam: {
    causes: ['credential-malformed'],
    words: "The authentication response from the authorization endpoint is missing a query parameter named 'state'.",
  },
};

function reasonOf(status: number, target: string, actions: string[], error: string): LogReason | undefined {
  if (status === 403 && target === '-' && actions[actions.length - 1] === 'waf')
    return {
      causes: ['waf-block'],
      product: 'aws-waf',
      code: 'waf',
      words: 'actions_executed "waf": AWS WAF determined that the request should be rejected',
      fix: {
        title: 'Find the rule of the load balancer’s AWS WAF web ACL that blocked the request',
        difficulty: 'medium',
        commands: [
          'aws wafv2 get-web-acl-for-resource --resource-arn LOAD_BALANCER_ARN',
          'aws wafv2 get-sampled-requests --web-acl-arn WEB_ACL_ARN --rule-metric-name RULE --scope REGIONAL --time-window StartTime=START,EndTime=END --max-items 100',
        ],
        verify: 'The request is no longer in the web ACL’s sampled blocked requests.',
        docs: 'https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-testing-activities.html',
      },
    };
  const auth = AUTH[error];
  if (auth) return { ...auth, product: 'aws-elb', code: error, fix: cognitoOrOidc };
  return undefined;
}

export default {
  id: 'aws-alb',
  product: 'AWS Application Load Balancer',
  kind: 'access',
  description: 'AWS Application Load Balancer access log',
  docs: ['https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html'],
  parse(line) {
    const m = LINE.exec(line);
    if (!m) return undefined;
    const [, time, client, target, elbStatus, , request, , actions, error] = m;
    if (elbStatus === '-') return undefined;
    const status = Number(elbStatus);
    const at = new Date(time);
    const [method, url] = request.split(' ');
    // The request line keeps the client's URL: protocol://host:port/uri.
    const path = url ? /^[a-z][a-z0-9+.-]{0,16}:\/\/[^/\s]{0,1024}(\/[^?#\s]{0,8192})/i.exec(url)?.[1] : undefined;
    const reason = reasonOf(status, target, actions === '-' ? [] : actions.split(','), error);
    return {
      kind: 'access',
      ...(Number.isNaN(at.getTime()) ? {} : { time: at }),
      client: client.replace(/:\d{1,5}$/, ''),
      ...(method && method !== '-' ? { method } : {}),
      ...(path ? { path } : {}),
      status,
      ...(reason ? { reason } : {}),
    };
  },
} satisfies LogFormat;
