// Akamai's edge answers a denial with its own "Access Denied" page: "You
// don't have permission to access "URL" on this server. Reference
// #18.<hex>.<epoch>.<hex>", usually with Server: AkamaiGHost. The reference
// string is the only thing that says why: its first field is Akamai's error
// class (18 = access denied by a security product: WAF / App & API Protector,
// Bot Manager, client reputation, rate controls, IP/geo network lists), and
// only the site owner can translate the rest in Control Center. So the page
// names the product with certainty and the cause only by what the request
// itself shows. Apache's own 403 uses similar words but never a Reference #.
import { defineProducer, ev, signals } from '../define.ts';
import { decodedRequestUrl, noteRelayed, relayLayer } from '../_lib/edge-block.ts';
import { namedServer } from '../_lib/server-header.ts';
import texts from './texts.json' with { type: 'json' };

const REFERENCE = /Reference\s*#\s*(\d{1,3}\.[0-9a-f]+\.\d{9,11}\.[0-9a-f]+)/i;
const REFERENCE_HEADER = /^\d{1,3}\.[0-9a-f]+\.\d+\.[0-9a-f]+$/i;
const DENIED_TEXT = /You don(?:'|’)t have permission to access\s+(?:"[^"<]*"|[^"<\s]+)\s+on this server/i;
const EDGESUITE = /errors\.edgesuite\.net/i;
// Attack markers in the request itself: the one honest hint that a WAF signature, not the client's address, matched.
const ATTACK =
  /<\s*(script|frame|frameset|iframe|svg|img)\b|javascript:|\bunion\s+(all\s+)?select\b|\.\.\/|\/etc\/passwd|\bonerror\s*=|'\s*or\s*'?1'?\s*=\s*'?1/i;

const RELAYED_NOTE =
  'The response came through Akamai (Server: AkamaiGHost) without Akamai’s "Access Denied" page: the refusal most likely comes from the origin behind it.';

export default defineProducer({
  meta: {
    id: 'akamai',
    product: 'akamai',
    layer: 'waf',
    relays: true,
    causes: ['waf-block', 'ip-restricted', 'rate-limited'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const text = ctx.body.text;
    const ghost = namedServer(ctx, /^Akamai(GHost|NetStorage)\b/i)?.value.trim();
    const refHeader = ctx.header('x-reference-error')?.trim();
    const ref = REFERENCE.exec(text)?.[1] ?? (refHeader && REFERENCE_HEADER.test(refHeader) ? refHeader : undefined);
    const page = Boolean(ref && (DENIED_TEXT.test(text) || /^Access Denied$/i.test(ctx.body.htmlTitle ?? '')));
    const found = signals();
    // AkamaiGHost alone: Akamai delivered it, but the 403 may be the origin's; with an error reference it is Akamai's.
    if (ghost) found.add(ref ? 0.9 : 0.45, ev('header:server', ghost));
    found.headers(ctx, 0, ['x-reference-error', 'akamai-cache-status']);
    if (page) found.add(ghost ? 0.97 : 0.93, ev('body', `Akamai "Access Denied" page with Reference #${ref}`));
    else if (ref && EDGESUITE.test(text))
      found.add(0.9, ev('body', `Akamai error reference ${ref} (errors.edgesuite.net)`));
    return found.result({ ref, ...relayLayer(found.confidence) });
  },
  explain(ctx, { ref, confidence, evidence }, report) {
    if (noteRelayed(confidence, report, RELAYED_NOTE)) return;
    const host = ctx.url?.hostname;
    const fixes = ['tellOwner', 'translateReference'] as const;
    const cls = ref?.split('.')[0];
    const refEv = ref
      ? [ev('body:reference', `#${ref}${cls === '18' ? ' (class 18: access denied by a security product)' : ''}`)]
      : [];
    const data = {
      reference: ref ? ` (Reference #${ref})` : '',
      ownerHost: host ? ` (${host})` : '',
      refText: ref ? `#${ref}` : '(the "Reference #" on the page)',
      refCode: ref ?? 'REFERENCE',
    };
    const attack = ATTACK.exec(decodedRequestUrl(ctx));
    if (attack)
      report.claim('waf-block', 'attack', 0.85, {
        data: { ...data, pattern: attack[0] },
        evidence: [...refEv, ev('request:url', `attack pattern "${attack[0]}" in the URL`), ...evidence],
        fixes,
      });
    else report.claim('waf-block', 'securityRule', 0.5, { data, evidence: [...refEv, ...evidence], fixes });
    report.claim('ip-restricted', 'reputation', 0.45, { data, evidence: refEv, fixes: [...fixes, 'reputationLookup'] });
    report.claim('rate-limited', 'rateControl', 0.4, { data, evidence: refEv, fixes: ['slowDown', ...fixes] });
    report.note(
      'Only the Akamai customer can translate the Reference #; why403 cannot read the rule that matched from the page.',
    );
  },
});
