// AWS WAF has no page of its own: its default block is a bare 403 written by
// the resource it protects. On an Application Load Balancer that is ELB's
// "403 Forbidden" page with Server: awselb/2.0 — and ELB documents WAF as the
// only reason it answers 403 itself. On CloudFront it is CloudFront's error
// page with "Request blocked." (AWS's CloudFront 403 guide names WAF for that
// text). CAPTCHA and Challenge actions add x-amzn-waf-action. A custom
// response body can be anything, so only these shapes are claimed.
import { defineRule, ev } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const DOCS = {
  kc: 'https://repost.aws/knowledge-center/waf-block-respond-403-forbidden-error',
  alb: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html',
  cf: 'https://repost.aws/knowledge-center/cloudfront-troubleshoot-403-errors',
  sampled: 'https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-testing-view-sample.html',
  captcha: 'https://docs.aws.amazon.com/waf/latest/developerguide/waf-captcha-and-challenge-how-it-works.html',
  ga: 'https://repost.aws/knowledge-center/globalaccelerator-aws-waf-filter-layer7-traffic',
};

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const text = ctx.body.text;
  const server = ctx.header('server')?.trim();
  const action = ctx.header('x-amzn-waf-action');
  const elb = Boolean(server && /^awselb\/\d/i.test(server));
  const elbPage = elb && /<title>403 Forbidden<\/title>/i.test(text) && /<h1>403 Forbidden<\/h1>/i.test(text);
  const cfBlocked = /Request blocked\.\s*We can(?:'|’)t connect to the server for this app or website/i.test(text);
  if (action) evidence.push(ev('header:x-amzn-waf-action', action));
  if (elb && server) evidence.push(ev('header:server', server));
  if (elbPage) evidence.push(ev('body', 'ELB’s own "403 Forbidden" page: an ALB answers 403 itself only when its AWS WAF web ACL blocks'));
  if (cfBlocked) evidence.push(ev('body', 'CloudFront page "Request blocked.": AWS WAF on the distribution blocked the request'));
  let confidence = 0;
  let resource: 'alb' | 'cloudfront' | 'unknown' = 'unknown';
  if (action) confidence = 0.95;
  else if (elbPage && ctx.status === 403) {
    confidence = 0.9;
    resource = 'alb';
  } else if (cfBlocked) {
    confidence = 0.9;
    resource = 'cloudfront';
  }
  return { confidence, evidence, resource, action };
}

function fixes(resource: string): Fix[] {
  const scope = resource === 'cloudfront' ? 'CLOUDFRONT --region us-east-1' : 'REGIONAL --region REGION';
  return [
    {
      title: 'Find the rule that blocked it: AWS WAF console → Web ACLs → (the web ACL on this ' + (resource === 'alb' ? 'load balancer' : resource === 'cloudfront' ? 'distribution' : 'resource') + ') → Sampled requests (last 3 hours), or the terminatingRuleId in the WAF logs',
      difficulty: 'medium',
      commands: [
        `aws wafv2 list-web-acls --scope ${scope}`,
        `aws wafv2 get-sampled-requests --scope ${scope.split(' ')[0]} --web-acl-arn WEB_ACL_ARN --rule-metric-name RULE_METRIC_NAME --time-window StartTime=$(date -u -d '-3 hours' +%s),EndTime=$(date -u +%s) --max-items 100${resource === 'cloudfront' ? ' --region us-east-1' : ''}`,
      ],
      verify: 'A sampled request with your source IP and URI shows Action BLOCK and names the rule (or rule inside a rule group).',
      docs: DOCS.sampled,
    },
    {
      title: 'Change that rule so the request passes: a scope-down statement or label match exclusion for this path, an IP set allow rule, or the rule’s action overridden to Count',
      difficulty: 'medium',
      commands: ['aws wafv2 get-web-acl --name WEB_ACL_NAME --id WEB_ACL_ID --scope ' + scope],
      verify: 'The same request returns 200, and Sampled requests shows it as ALLOW (or COUNT) for that rule.',
      docs: DOCS.kc,
    },
  ];
}

export default defineRule({
  meta: {
    id: 'aws-waf',
    kind: 'producer',
    product: 'aws-waf',
    layer: 'waf',
    description: 'AWS WAF blocks as the protected resource renders them: an Application Load Balancer’s own 403 (Server: awselb/2.0), CloudFront’s "Request blocked." page, and x-amzn-waf-action (captcha / challenge).',
    docs: [DOCS.kc, DOCS.alb, DOCS.cf, DOCS.sampled, DOCS.captcha, DOCS.ga],
    causes: ['waf-block', 'ip-restricted', 'rate-limited'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'aws-waf' as const, layer: 'waf' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (sig.action && ctx.status !== 403 && ctx.status !== 401)
      return { producer, notes: [`AWS WAF answered with a ${sig.action} action (x-amzn-waf-action): a browser can solve it; scripts need the web ACL to exempt them or an AWS WAF token.`] };
    if (ctx.status !== 403 && ctx.status !== 401) return { producer };
    const f = fixes(sig.resource);
    const where = sig.resource === 'alb' ? 'the Application Load Balancer’s' : sig.resource === 'cloudfront' ? 'the CloudFront distribution’s' : 'the';
    return {
      producer,
      causes: [
        { id: 'waf-block', weight: 0.75, summary: `A rule of ${where} AWS WAF web ACL blocked the request (a managed rule group, a custom match rule, or the web ACL’s default action Block); the default block response does not say which.`, evidence: sig.evidence, fixes: f },
        { id: 'ip-restricted', weight: 0.35, summary: 'The blocking rule may be an IP set, geo match or IP reputation (AWS managed IP reputation list) rule.', evidence: sig.evidence, fixes: f },
        { id: 'rate-limited', weight: 0.3, summary: 'A rate-based rule also blocks with this same response once an address exceeds its limit.', evidence: sig.evidence, fixes: f },
      ],
    };
  },
});
