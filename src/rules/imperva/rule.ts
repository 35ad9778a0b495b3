// Imperva Cloud WAF (formerly Incapsula) answers a blocked request with a
// small page whose whole content is an iframe onto /_Incapsula_Resource and
// the line "Request unsuccessful. Incapsula incident ID: <id>". The iframe URL
// carries the incident ID and the error code (edet=15 …) that the rendered
// page shows as "Access Denied / Error 15 / This request was blocked by the
// security rules". Every response Imperva proxies also carries X-Iinfo, often
// X-CDN: Imperva and incap_ses_/visid_incap_ cookies — on the origin's own
// answers too, so those alone only say the site is behind Imperva.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import { decodedRequestUrl, noteRelayed, relayLayer } from '../_lib/edge-block.ts';
import texts from './texts.json' with { type: 'json' };

const BLOCK_LINE = /Request unsuccessful\. Incapsula incident ID:\s*([\d-]+)/i;
const RESOURCE = /\/_Incapsula_Resource\?[^"'\s>]*/gi;
const INCAP_COOKIE = /^(incap_ses_|visid_incap_|nlbi_)/i;

// Attack shapes Imperva's WAF rules are built to catch; seeing one in the
// request makes a security-rule block the likely reading of the page.
const PAYLOADS: { re: RegExp; what: string }[] = [
  { re: /<!ENTITY[^>]*SYSTEM/i, what: 'an XML external entity (XXE)' },
  { re: /(?:\.\.\/){2}|\.\.%2f\.\.%2f/i, what: 'a path traversal (../../)' },
  { re: /<script\b|javascript:|onerror\s*=/i, what: 'a script injection (XSS)' },
  { re: /\bunion\b[\s+]+select\b|'\s*or\s*'?1'?\s*=\s*'?1|\bsleep\s*\(\s*\d+\s*\)/i, what: 'an SQL injection' },
  { re: /\$\{jndi:/i, what: 'a JNDI lookup (log4shell)' },
];

function payloadIn(ctx: Context): { what: string; where: string } | undefined {
  const parts: [string, string][] = [
    ['request:url', decodedRequestUrl(ctx)],
    ['request:body', ctx.exchange.request?.postData?.text ?? ''],
  ];
  for (const [where, text] of parts) for (const p of PAYLOADS) if (p.re.test(text)) return { what: p.what, where };
  return undefined;
}

const RELAYED_NOTE =
  'The response passed through Imperva (X-Iinfo / X-CDN / incap cookies) without its block page: the refusal most likely comes from the origin behind it.';

export default defineProducer({
  meta: {
    id: 'imperva',
    product: 'imperva',
    layer: 'waf',
    relays: true,
    causes: ['waf-block', 'ip-restricted'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const text = ctx.body.text;
    const iinfo = ctx.header('x-iinfo');
    const cdn = ctx.header('x-cdn');
    const cookies = ctx
      .headers('set-cookie')
      .map((c) => c.split('=')[0].trim())
      .filter((n) => INCAP_COOKIE.test(n));
    const line = BLOCK_LINE.exec(text);
    // The page loads a sensor script from /_Incapsula_Resource too; the iframe's URL is the one with the incident.
    const resource = [...text.matchAll(RESOURCE)].map((m) => m[0]).find((u) => /incident_id=|edet=/i.test(u));
    const resourceIncident = resource ? /incident_id=([\d-]+)/i.exec(resource)?.[1] : undefined;
    // The rendered variant of the same page (what a browser shows inside the iframe);
    // "Access Denied … Incident ID" alone is too common, so it must name Imperva or its proxy IP line.
    const rendered =
      /Incident ID:\s*[\d-]+/i.test(text) &&
      /Access Denied/i.test(text) &&
      /Error\s+\d+/i.test(text) &&
      /Incapsula|Imperva|Proxy IP:/i.test(text);
    const incident =
      line?.[1] ?? resourceIncident ?? (rendered ? /Incident ID:\s*([\d-]+)/i.exec(text)?.[1] : undefined);
    const code =
      (resource ? /[?&]edet=(\d+)/i.exec(resource)?.[1] : undefined) ??
      (rendered ? /Error\s+(\d+)/i.exec(text)?.[1] : undefined);
    const page = Boolean(line || (resource && resourceIncident) || rendered);
    // Imperva's marks are on every response it proxies, the origin's own answers too.
    const found = signals();
    if (iinfo) found.add(0.45, ev('header:x-iinfo', iinfo));
    if (cdn && /imperva|incapsula/i.test(cdn)) found.add(0.45, ev('header:x-cdn', cdn));
    if (cookies.length) found.add(0.45, ev('header:set-cookie', `Imperva cookies ${[...new Set(cookies)].join(', ')}`));
    if (page) found.add(0.96, ev('body', line ? line[0] : `Imperva block page (incident ${incident ?? '?'})`));
    return found.result({ incident, code, ...relayLayer(found.confidence) });
  },
  explain(ctx, { incident, code, confidence, evidence }, report) {
    if (noteRelayed(confidence, report, RELAYED_NOTE)) return;
    const owner = {
      host: ctx.url?.hostname ?? 'the site',
      incidentId: incident ?? '(the incident ID at the end of the page)',
      url: ctx.url?.href ?? 'URL',
    };
    const fixes = ['tellOwner', 'ownerException'] as const;
    const incidentEv = incident ? [ev('body:incident_id', incident)] : [];
    const codeEv = code
      ? [ev('body:edet', `error ${code}${code === '15' ? ': "This request was blocked by the security rules"' : ''}`)]
      : [];
    const payload = payloadIn(ctx);
    if (payload) {
      const detail = code ? ` (error ${code}, incident ${incident ?? '?'})` : '';
      report.claim('waf-block', 'payload', 0.9, {
        data: { ...owner, payload: payload.what, detail },
        evidence: [...codeEv, ...incidentEv, ev(payload.where, payload.what), ...evidence],
        fixes,
      });
      return;
    }
    const error = code ? ` (error ${code}${code === '15' ? ', "blocked by the security rules"' : ''})` : '';
    const detail = `${error}${incident ? `, incident ${incident}` : ''}`;
    report.claim('waf-block', 'securityRule', code === '15' ? 0.8 : 0.65, {
      data: { ...owner, detail },
      evidence: [...codeEv, ...incidentEv, ...evidence],
      fixes,
    });
    // A rule whose action is Block IP or Block User keeps blocking that client
    // (10 minutes for Block IP) after the request that tripped it, and IP,
    // reputation and country rules show the same page: without an attack in
    // this request, the client is the other reading.
    report.claim('ip-restricted', 'client', 0.3, {
      data: owner,
      evidence: [...codeEv, ...incidentEv],
      fixes: ['withoutProxy'],
    });
  },
});
