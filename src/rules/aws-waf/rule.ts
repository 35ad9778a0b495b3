// AWS WAF has no page of its own: its default block is a bare 403 written by
// the resource it protects. On an Application Load Balancer that is ELB's
// "403 Forbidden" page with Server: awselb/2.0 — and ELB documents WAF as the
// only reason it answers 403 itself. On CloudFront it is CloudFront's error
// page with "Request blocked." (AWS's CloudFront 403 guide names WAF for that
// text). CAPTCHA and Challenge actions add x-amzn-waf-action. A custom
// response body can be anything, so only these shapes are claimed.
import { defineProducer, ev, signals, type Fix } from '../define.ts';
import { namedServer } from '../_lib/server-header.ts';

const KC_DOCS = 'https://repost.aws/knowledge-center/waf-block-respond-403-forbidden-error';
const ALB_DOCS =
  'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html';
const CF_DOCS = 'https://repost.aws/knowledge-center/cloudfront-troubleshoot-403-errors';
const SAMPLED_DOCS = 'https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-testing-view-sample.html';
const CAPTCHA_DOCS =
  'https://docs.aws.amazon.com/waf/latest/developerguide/waf-captcha-and-challenge-how-it-works.html';
const GA_DOCS = 'https://repost.aws/knowledge-center/globalaccelerator-aws-waf-filter-layer7-traffic';

const CLOUDFRONT_NOTE =
  'CloudFront rendered this page, but the "Request blocked." text is what CloudFront shows when AWS WAF on the distribution blocks the request.';

type Resource = 'alb' | 'cloudfront' | 'unknown';

const RESOURCE_NAME: Record<Resource, string> = {
  alb: 'load balancer',
  cloudfront: 'distribution',
  unknown: 'resource',
};
const WEB_ACL_OF: Record<Resource, string> = {
  alb: 'the Application Load Balancer’s',
  cloudfront: 'the CloudFront distribution’s',
  unknown: 'the',
};

function fixes(resource: Resource): Fix[] {
  const scope = resource === 'cloudfront' ? 'CLOUDFRONT --region us-east-1' : 'REGIONAL --region REGION';
  const window = "StartTime=$(date -u -d '-3 hours' +%s),EndTime=$(date -u +%s)";
  return [
    {
      title: `Find the rule that blocked it: AWS WAF console → Web ACLs → (the web ACL on this ${RESOURCE_NAME[resource]}) → Sampled requests (last 3 hours), or the terminatingRuleId in the WAF logs`,
      difficulty: 'medium',
      commands: [
        `aws wafv2 list-web-acls --scope ${scope}`,
        `aws wafv2 get-sampled-requests --scope ${scope.split(' ')[0]} --web-acl-arn WEB_ACL_ARN --rule-metric-name RULE_METRIC_NAME --time-window ${window} --max-items 100${resource === 'cloudfront' ? ' --region us-east-1' : ''}`,
      ],
      verify:
        'A sampled request with your source IP and URI shows Action BLOCK and names the rule (or rule inside a rule group).',
      docs: SAMPLED_DOCS,
    },
    {
      title:
        'Change that rule so the request passes: a scope-down statement or label match exclusion for this path, an IP set allow rule, or the rule’s action overridden to Count',
      difficulty: 'medium',
      commands: [`aws wafv2 get-web-acl --name WEB_ACL_NAME --id WEB_ACL_ID --scope ${scope}`],
      verify: 'The same request returns 200, and Sampled requests shows it as ALLOW (or COUNT) for that rule.',
      docs: KC_DOCS,
    },
  ];
}

export default defineProducer({
  meta: {
    id: 'aws-waf',
    product: 'aws-waf',
    layer: 'waf',
    description:
      'AWS WAF blocks as the protected resource renders them: an Application Load Balancer’s own 403 (Server: awselb/2.0), CloudFront’s "Request blocked." page, and x-amzn-waf-action (captcha / challenge).',
    docs: [KC_DOCS, ALB_DOCS, CF_DOCS, SAMPLED_DOCS, CAPTCHA_DOCS, GA_DOCS],
    causes: ['waf-block', 'ip-restricted', 'rate-limited'],
    // CAPTCHA answers 405 and Challenge 202: no denial, but worth a note.
    statuses: [202, 401, 403, 405],
    messages: {
      webAcl:
        'A rule of {{webAcl}} AWS WAF web ACL blocked the request (a managed rule group, a custom match rule, or the web ACL’s default action Block); the default block response does not say which.',
      ipRule: 'The blocking rule may be an IP set, geo match or IP reputation (AWS managed IP reputation list) rule.',
      rateRule: 'A rate-based rule also blocks with this same response once an address exceeds its limit.',
    },
  },
  recognise(ctx) {
    const text = ctx.body.text;
    const action = ctx.header('x-amzn-waf-action');
    const elb = namedServer(ctx, /^awselb\/\d/i)?.value.trim();
    const elbPage =
      Boolean(elb) && /<title>403 Forbidden<\/title>/i.test(text) && /<h1>403 Forbidden<\/h1>/i.test(text);
    const cfBlocked = /Request blocked\.\s*We can(?:'|’)t connect to the server for this app or website/i.test(text);
    // ELB documents WAF as the only reason it answers 403 itself.
    const albBlock = elbPage && ctx.status === 403;
    const found = signals();
    if (action) found.add(0.95, ev('header:x-amzn-waf-action', action));
    if (elb) found.add(0, ev('header:server', elb));
    if (elbPage)
      found.add(
        albBlock ? 0.9 : 0,
        ev('body', 'ELB’s own "403 Forbidden" page: an ALB answers 403 itself only when its AWS WAF web ACL blocks'),
      );
    if (cfBlocked)
      found.add(0.9, ev('body', 'CloudFront page "Request blocked.": AWS WAF on the distribution blocked the request'));
    const resource: Resource = action ? 'unknown' : albBlock ? 'alb' : cfBlocked ? 'cloudfront' : 'unknown';
    return found.result({ resource, action });
  },
  explain(ctx, { resource, action, evidence }, report) {
    if (ctx.status !== 401 && ctx.status !== 403) {
      if (action)
        report.note(
          `AWS WAF answered with a ${action} action (x-amzn-waf-action): a browser can solve it; scripts need the web ACL to exempt them or an AWS WAF token.`,
        );
      return;
    }
    const f = fixes(resource);
    report.claim('waf-block', 'webAcl', 0.75, { data: { webAcl: WEB_ACL_OF[resource] }, evidence, fixes: f });
    report.claim('ip-restricted', 'ipRule', 0.35, { evidence, fixes: f });
    report.claim('rate-limited', 'rateRule', 0.3, { evidence, fixes: f });
    if (resource === 'cloudfront') report.note(CLOUDFRONT_NOTE);
  },
});
