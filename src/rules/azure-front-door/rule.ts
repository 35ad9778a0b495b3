// Azure Front Door stamps every response with X-Azure-Ref, the tracking
// reference of the request — also on 403s the origin wrote, so the header
// alone only says "through Front Door". Its WAF's default block is a 403 with
// "The request is blocked." and that reference; a custom block body may embed
// the reference through {{azure-ref}}, so a body that repeats the X-Azure-Ref
// value was written by the WAF, whatever its wording.
import { defineProducer, ev, signals, type Fix } from '../define.ts';
import { noteRelayed, relayLayer } from '../_lib/edge-block.ts';

const CUSTOM_DOCS =
  'https://learn.microsoft.com/en-us/azure/web-application-firewall/afds/waf-front-door-configure-custom-response-code';
const SETTINGS_DOCS =
  'https://learn.microsoft.com/en-us/azure/web-application-firewall/afds/waf-front-door-policy-settings';
const MONITOR_DOCS = 'https://learn.microsoft.com/en-us/azure/web-application-firewall/afds/waf-front-door-monitor';
const HEADERS_DOCS = 'https://learn.microsoft.com/en-us/azure/frontdoor/front-door-http-headers-protocol';
const EXCLUSIONS_DOCS =
  'https://learn.microsoft.com/en-us/azure/web-application-firewall/afds/waf-front-door-exclusion';

const WAF_LOG_QUERY = (ref: string) =>
  `az monitor log-analytics query -w WORKSPACE_ID --analytics-query "AzureDiagnostics | where Category == 'FrontDoorWebApplicationFirewallLog' and trackingReference_s == '${ref}' | project TimeGenerated, ruleName_s, action_s, details_msg_s, clientIP_s, requestUri_s"`;

const RELAYED_NOTE =
  'The response passed through Azure Front Door (X-Azure-Ref) without the WAF’s block message: the refusal most likely comes from the origin.';

function fixes(ref: string | undefined): Fix[] {
  return [
    {
      title: `Find the rule in the WAF log by the tracking reference ${ref ? `(${ref})` : '(X-Azure-Ref)'}: Front Door → Logs, or Log Analytics`,
      difficulty: 'medium',
      commands: [WAF_LOG_QUERY(ref ?? 'TRACKING_REFERENCE')],
      verify: 'The log row names ruleName_s with action_s Block for this reference.',
      docs: MONITOR_DOCS,
    },
    {
      title:
        'Fix that rule in the Front Door WAF policy (Azure portal → Front Door WAF policies → Managed rules / Custom rules): add an exclusion for the matched field, or allow the client, instead of disabling the policy',
      difficulty: 'medium',
      commands: [
        'az network front-door waf-policy show --name WAF_POLICY --resource-group RESOURCE_GROUP --query "{mode: policySettings.mode, custom: customRules.rules[].{name: name, action: action}}"',
      ],
      verify: 'The same request returns 200, and the WAF log shows no Block for it.',
      docs: EXCLUSIONS_DOCS,
    },
  ];
}

export default defineProducer({
  meta: {
    id: 'azure-front-door',
    product: 'azure-front-door',
    layer: 'waf',
    description:
      'Azure Front Door WAF blocks: the default 403 "The request is blocked." and custom block bodies that embed the X-Azure-Ref tracking reference; X-Azure-Ref alone only marks a response that passed through Front Door.',
    docs: [CUSTOM_DOCS, SETTINGS_DOCS, MONITOR_DOCS, HEADERS_DOCS, EXCLUSIONS_DOCS],
    causes: ['waf-block', 'ip-restricted'],
    statuses: [401, 403],
    messages: {
      policyRule:
        'A rule of the Front Door WAF policy blocked the request (managed rule set, bot protection or a custom rule){{reference}}.',
      clientRule:
        'Custom rules that match the client IP (RemoteAddr / SocketAddr) or its country (geo filtering) block with the same response.',
    },
  },
  recognise(ctx) {
    const ref = ctx.header('x-azure-ref')?.trim();
    const text = ctx.body.text;
    const defaultPage = /The request is blocked\./.test(text);
    const echoed = Boolean(ref && ref.length >= 16 && text.includes(ref));
    const found = signals();
    // X-Azure-Ref alone is on the origin's own 403s too: only "through Front Door".
    if (ref) found.add(0.4, ev('header:x-azure-ref', ref));
    if (defaultPage) {
      const confidence = ref ? 0.95 : /x-azure-ref|azure/i.test(text) ? 0.7 : 0;
      found.add(confidence, ev('body', 'Front Door WAF’s default block message "The request is blocked."'));
    }
    if (echoed)
      found.add(
        0.95,
        ev('body', 'the body repeats the X-Azure-Ref value: a WAF custom block response ({{azure-ref}})'),
      );
    return found.result({ ref, ...relayLayer(found.confidence) });
  },
  explain(_ctx, { ref, confidence, evidence }, report) {
    if (noteRelayed(confidence, report, RELAYED_NOTE)) return;
    const f = fixes(ref);
    report.claim('waf-block', 'policyRule', 0.8, {
      data: { reference: ref ? `; tracking reference ${ref}` : '' },
      evidence,
      fixes: f,
    });
    report.claim('ip-restricted', 'clientRule', 0.3, { evidence, fixes: f });
  },
});
