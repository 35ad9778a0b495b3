// AWS WAF has no page of its own: its default block is a bare 403 written by
// the resource it protects. On an Application Load Balancer that is ELB's
// "403 Forbidden" page with Server: awselb/2.0 — and ELB documents WAF as the
// only reason it answers 403 itself. On CloudFront it is CloudFront's error
// page with "Request blocked." (AWS's CloudFront 403 guide names WAF for that
// text). CAPTCHA and Challenge actions add x-amzn-waf-action. A custom
// response body can be anything, so only these shapes are claimed.
import { defineProducer, ev, signals } from '../define.ts';
import { namedServer } from '../_lib/server-header.ts';
import texts from './texts.json' with { type: 'json' };

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

export default defineProducer({
  meta: {
    id: 'aws-waf',
    product: 'aws-waf',
    layer: 'waf',
    causes: ['waf-block', 'ip-restricted', 'rate-limited'],
    // CAPTCHA answers 405 and Challenge 202: no denial, but worth a note.
    statuses: [202, 401, 403, 405],
    ...texts,
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
    const scope = resource === 'cloudfront' ? 'CLOUDFRONT --region us-east-1' : 'REGIONAL --region REGION';
    const data = {
      webAcl: WEB_ACL_OF[resource],
      resourceName: RESOURCE_NAME[resource],
      scope,
      scopeName: scope.split(' ')[0],
      cloudfrontRegion: resource === 'cloudfront' ? ' --region us-east-1' : '',
    };
    const fixes = ['findRule', 'changeRule'] as const;
    report.claim('waf-block', 'webAcl', 0.75, { data, evidence, fixes });
    report.claim('ip-restricted', 'ipRule', 0.35, { data, evidence, fixes });
    report.claim('rate-limited', 'rateRule', 0.3, { data, evidence, fixes });
    if (resource === 'cloudfront') report.note(CLOUDFRONT_NOTE);
  },
});
