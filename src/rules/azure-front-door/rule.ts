// Azure Front Door stamps every response with X-Azure-Ref, the tracking
// reference of the request — also on 403s the origin wrote, so the header
// alone only says "through Front Door". Its WAF's default block is a 403 with
// "The request is blocked." and that reference; a custom block body may embed
// the reference through {{azure-ref}}, so a body that repeats the X-Azure-Ref
// value was written by the WAF, whatever its wording.
import { defineRule, ev } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const DOCS = {
  custom: 'https://learn.microsoft.com/en-us/azure/web-application-firewall/afds/waf-front-door-configure-custom-response-code',
  settings: 'https://learn.microsoft.com/en-us/azure/web-application-firewall/afds/waf-front-door-policy-settings',
  monitor: 'https://learn.microsoft.com/en-us/azure/web-application-firewall/afds/waf-front-door-monitor',
  headers: 'https://learn.microsoft.com/en-us/azure/frontdoor/front-door-http-headers-protocol',
  exclusions: 'https://learn.microsoft.com/en-us/azure/web-application-firewall/afds/waf-front-door-exclusion',
};

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const ref = ctx.header('x-azure-ref')?.trim();
  const text = ctx.body.text;
  const defaultPage = /The request is blocked\./.test(text);
  const echoed = Boolean(ref && ref.length >= 16 && text.includes(ref));
  if (ref) evidence.push(ev('header:x-azure-ref', ref));
  if (defaultPage) evidence.push(ev('body', 'Front Door WAF’s default block message "The request is blocked."'));
  if (echoed) evidence.push(ev('body', 'the body repeats the X-Azure-Ref value: a WAF custom block response ({{azure-ref}})'));
  let confidence = 0;
  if (ref && (defaultPage || echoed)) confidence = 0.95;
  else if (defaultPage && /x-azure-ref|azure/i.test(text)) confidence = 0.7;
  else if (ref) confidence = 0.4;
  return { confidence, evidence, ref, waf: defaultPage || echoed };
}

function fixes(ref: string | undefined): Fix[] {
  const r = ref ?? 'TRACKING_REFERENCE';
  return [
    {
      title: `Find the rule in the WAF log by the tracking reference ${ref ? `(${ref})` : '(X-Azure-Ref)'}: Front Door → Logs, or Log Analytics`,
      difficulty: 'medium',
      commands: [
        `az monitor log-analytics query -w WORKSPACE_ID --analytics-query "AzureDiagnostics | where Category == 'FrontDoorWebApplicationFirewallLog' and trackingReference_s == '${r}' | project TimeGenerated, ruleName_s, action_s, details_msg_s, clientIP_s, requestUri_s"`,
      ],
      verify: 'The log row names ruleName_s with action_s Block for this reference.',
      docs: DOCS.monitor,
    },
    {
      title: 'Fix that rule in the Front Door WAF policy (Azure portal → Front Door WAF policies → Managed rules / Custom rules): add an exclusion for the matched field, or allow the client, instead of disabling the policy',
      difficulty: 'medium',
      commands: ['az network front-door waf-policy show --name WAF_POLICY --resource-group RESOURCE_GROUP --query "{mode: policySettings.mode, custom: customRules.rules[].{name: name, action: action}}"'],
      verify: 'The same request returns 200, and the WAF log shows no Block for it.',
      docs: DOCS.exclusions,
    },
  ];
}

export default defineRule({
  meta: {
    id: 'azure-front-door',
    kind: 'producer',
    product: 'azure-front-door',
    layer: 'waf',
    description: 'Azure Front Door WAF blocks: the default 403 "The request is blocked." and custom block bodies that embed the X-Azure-Ref tracking reference; X-Azure-Ref alone only marks a response that passed through Front Door.',
    docs: [DOCS.custom, DOCS.settings, DOCS.monitor, DOCS.headers, DOCS.exclusions],
    causes: ['waf-block', 'ip-restricted'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'azure-front-door' as const, layer: sig.waf ? ('waf' as const) : ('cdn' as const), confidence: sig.confidence, evidence: sig.evidence };
    if (!sig.waf) return { producer, notes: ['The response passed through Azure Front Door (X-Azure-Ref) without the WAF’s block message: the refusal most likely comes from the origin.'] };
    if (ctx.status !== 403 && ctx.status !== 401) return { producer };
    const f = fixes(sig.ref);
    return {
      producer,
      causes: [
        { id: 'waf-block', weight: 0.8, summary: `A rule of the Front Door WAF policy blocked the request (managed rule set, bot protection or a custom rule)${sig.ref ? `; tracking reference ${sig.ref}` : ''}.`, evidence: sig.evidence, fixes: f },
        { id: 'ip-restricted', weight: 0.3, summary: 'Custom rules that match the client IP (RemoteAddr / SocketAddr) or its country (geo filtering) block with the same response.', evidence: sig.evidence, fixes: f },
      ],
    };
  },
});
