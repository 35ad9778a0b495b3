// Akamai's edge answers a denial with its own "Access Denied" page: "You
// don't have permission to access "URL" on this server. Reference
// #18.<hex>.<epoch>.<hex>", usually with Server: AkamaiGHost. The reference
// string is the only thing that says why: its first field is Akamai's error
// class (18 = access denied by a security product: WAF / App & API Protector,
// Bot Manager, client reputation, rate controls, IP/geo network lists), and
// only the site owner can translate the rest in Control Center. So the page
// names the product with certainty and the cause only by what the request
// itself shows. Apache's own 403 uses similar words but never a Reference #.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const REFERENCE = /Reference\s*#\s*(\d{1,3}\.[0-9a-f]+\.\d{9,11}\.[0-9a-f]+)/i;
const DENIED_TEXT = /You don(?:'|’)t have permission to access\s+(?:"[^"<]*"|[^"<\s]+)\s+on this server/i;
// Attack markers in the request itself: the one honest hint that a WAF signature, not the client's address, matched.
const ATTACK = /<\s*(script|frame|frameset|iframe|svg|img)\b|javascript:|\bunion\s+(all\s+)?select\b|\.\.\/|\/etc\/passwd|\bonerror\s*=|'\s*or\s*'?1'?\s*=\s*'?1/i;

const DOCS = {
  blocking: 'https://community.akamai.com/community/cloud-security/blog/2016/04/07/why-is-akamai-blocking-me',
  translate: 'https://techdocs.akamai.com/edge-diagnostics/reference/post-error-translator',
  reputation: 'https://www.akamai.com/us/en/clientrep-lookup/',
  msKb: 'https://learn.microsoft.com/en-us/troubleshoot/windows-server/networking/access-denied-visit-website-hosted-akamai-cdn',
};

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const text = ctx.body.text;
  const server = ctx.header('server');
  const ghost = server && /^Akamai(GHost|NetStorage)\b/i.test(server.trim()) ? server.trim() : undefined;
  const refHeader = ctx.header('x-reference-error');
  const ref = REFERENCE.exec(text)?.[1] ?? (refHeader && /^\d{1,3}\.[0-9a-f]+\.\d+\.[0-9a-f]+$/i.test(refHeader.trim()) ? refHeader.trim() : undefined);
  const page = Boolean(ref && (DENIED_TEXT.test(text) || /^Access Denied$/i.test(ctx.body.htmlTitle ?? '')));
  if (ghost) evidence.push(ev('header:server', ghost));
  if (refHeader) evidence.push(ev('header:x-reference-error', refHeader));
  const cacheStatus = ctx.header('akamai-cache-status');
  if (cacheStatus) evidence.push(ev('header:akamai-cache-status', cacheStatus));
  if (page) evidence.push(ev('body', `Akamai "Access Denied" page with Reference #${ref}`));
  else if (ref && /errors\.edgesuite\.net/i.test(text)) evidence.push(ev('body', `Akamai error reference ${ref} (errors.edgesuite.net)`));
  let confidence = 0;
  if (page) confidence = ghost ? 0.97 : 0.93;
  else if (ref && (ghost || /errors\.edgesuite\.net/i.test(text))) confidence = 0.9;
  // AkamaiGHost alone: Akamai delivered it, but the 403 may be the origin's.
  else if (ghost) confidence = 0.45;
  return { confidence, evidence, ref, page, ghost };
}

function fixes(ref: string | undefined, host: string | undefined): Fix[] {
  const r = ref ?? 'REFERENCE';
  return [
    {
      title: `Send the site owner${host ? ` (${host})` : ''} the full reference ${ref ? `#${ref}` : '(the "Reference #" on the page)'}, the time and your IP address: only the Akamai customer can read why it was denied and change the policy`,
      difficulty: 'easy',
      verify: 'The owner translates the reference and names the rule; after their change the same request is answered 200.',
      docs: DOCS.blocking,
    },
    {
      title: 'Site owner: translate the reference in Akamai Control Center → Support → Diagnostic tools (Edge Diagnostics → Translate error string), then tune the matching App & API Protector / Bot Manager rule, rate control or network list',
      difficulty: 'medium',
      commands: [`http --auth-type edgegrid -a default: POST :/edge-diagnostics/v1/error-translator errorCode='${r}'  # httpie-edgegrid, credentials in ~/.edgerc`],
      verify: 'The translated error shows the security policy and rule (or rate/reputation control) that denied the request; after the change, Security Center → Web Security Analytics no longer lists a deny for this client.',
      docs: DOCS.translate,
    },
  ];
}

export default defineRule({
  meta: {
    id: 'akamai',
    kind: 'producer',
    product: 'akamai',
    layer: 'waf',
    description: 'Akamai’s edge "Access Denied" page (Reference #18.…, Server: AkamaiGHost): a security product of the site (App & API Protector / Kona WAF, Bot Manager, client reputation, rate controls, IP/geo lists) denied the request; the Reference # is translated by the site owner.',
    docs: [DOCS.blocking, DOCS.translate, DOCS.msKb, DOCS.reputation],
    causes: ['waf-block', 'ip-restricted', 'rate-limited'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const layer = sig.confidence >= 0.5 ? ('waf' as const) : ('cdn' as const);
    const producer = { product: 'akamai' as const, layer, confidence: sig.confidence, evidence: sig.evidence };
    if (sig.confidence < 0.5) return { producer, notes: ['The response came through Akamai (Server: AkamaiGHost) without Akamai’s "Access Denied" page: the refusal most likely comes from the origin behind it.'] };
    if (ctx.status !== 403 && ctx.status !== 401) return { producer };
    const host = ctx.url?.hostname;
    const f = fixes(sig.ref, host);
    const cls = sig.ref?.split('.')[0];
    const refEv = sig.ref ? [ev('body:reference', `#${sig.ref}${cls === '18' ? ' (class 18: access denied by a security product)' : ''}`)] : [];
    let decoded = ctx.exchange.request?.url ?? '';
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      /* keep the raw URL */
    }
    const attack = ATTACK.exec(decoded);
    const causes: CauseClaim[] = [
      {
        id: 'waf-block',
        weight: attack ? 0.85 : 0.5,
        summary: attack
          ? `Akamai’s WAF denied the request: the URL carries an attack pattern ("${attack[0]}") that App & API Protector rules block${sig.ref ? ` (Reference #${sig.ref})` : ''}.`
          : `An Akamai security rule (WAF, Bot Manager or a custom rule) of the site denied the request${sig.ref ? ` (Reference #${sig.ref})` : ''}; the page does not say which.`,
        evidence: [...refEv, ...(attack ? [ev('request:url', `attack pattern "${attack[0]}" in the URL`)] : []), ...sig.evidence],
        fixes: f,
      },
      {
        id: 'ip-restricted',
        weight: 0.45,
        summary: 'Akamai serves the same page when your IP address has a bad client-reputation score or is in one of the site’s IP/geo network lists.',
        evidence: refEv,
        fixes: [...f, { title: 'Check your IP address in Akamai’s Client Reputation lookup and ask for a review if it is flagged by mistake', difficulty: 'easy', commands: [`xdg-open ${DOCS.reputation}`], verify: 'The lookup shows no bad reputation score for your address; the site then loads.', docs: DOCS.reputation }],
      },
      {
        id: 'rate-limited',
        weight: 0.4,
        summary: 'Akamai’s rate controls (DoS protection) also answer with this page when one address sends too many requests; such blocks lift after a while below the threshold.',
        evidence: refEv,
        fixes: [{ title: 'Slow down: send fewer requests from this address and retry after some minutes', difficulty: 'easy', verify: 'After a quiet period the same request succeeds; if it still fails, the block is not a rate control.', docs: DOCS.msKb }, ...f],
      },
    ];
    return { producer, causes, notes: ['Only the Akamai customer can translate the Reference #; why403 cannot read the rule that matched from the page.'] };
  },
});
