// Azure Front Door stamps every response with X-Azure-Ref, the tracking
// reference of the request — also on 403s the origin wrote, so the header
// alone only says "through Front Door". Its WAF's default block is a 403 with
// "The request is blocked." and that reference; a custom block body may embed
// the reference through {{azure-ref}}, so a body that repeats the X-Azure-Ref
// value was written by the WAF, whatever its wording.
import { defineProducer, ev, signals } from '../define.ts';
import { noteRelayed, relayLayer } from '../_lib/edge-block.ts';
import texts from './texts.json' with { type: 'json' };

const RELAYED_NOTE =
  'The response passed through Azure Front Door (X-Azure-Ref) without the WAF’s block message: the refusal most likely comes from the origin.';

export default defineProducer({
  meta: {
    id: 'azure-front-door',
    product: 'azure-front-door',
    layer: 'waf',
    relays: true,
    causes: ['waf-block', 'ip-restricted'],
    statuses: [401, 403],
    ...texts,
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
    const data = {
      reference: ref ? `; tracking reference ${ref}` : '',
      refText: ref ? `(${ref})` : '(X-Azure-Ref)',
      trackingRef: ref ?? 'TRACKING_REFERENCE',
    };
    const fixes = ['findInLog', 'fixRule'] as const;
    report.claim('waf-block', 'policyRule', 0.8, { data, evidence, fixes });
    report.claim('ip-restricted', 'clientRule', 0.3, { data, evidence, fixes });
  },
});
