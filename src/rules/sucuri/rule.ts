// Sucuri's Website Firewall (also sold white-labelled as "GoDaddy Website
// Firewall") answers a blocked request with its own page, "Access Denied -
// Sucuri Website Firewall", and the headers X-Sucuri-ID (the firewall node)
// and X-Sucuri-Block (the block ID, e.g. XSS027, EVA079). The Server header
// may be Sucuri/Cloudproxy or the origin's (nginx), so the page and the
// X-Sucuri-* headers are what identify it. X-Sucuri-ID alone is on every
// response the firewall proxies, including the origin's own 403s.
import { defineRule, ev } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const DOCS = {
  firewall: 'https://docs.sucuri.net/website-firewall/',
  blocked: 'https://docs.sucuri.net/website-firewall/troubleshooting/how-to-find-the-block-id/',
  whitelist: 'https://docs.sucuri.net/website-firewall/whitelist-and-blacklist/whitelist-ip-addresses/',
  sqlmap: 'https://github.com/sqlmapproject/sqlmap/pull/2761',
};

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const text = ctx.body.text;
  const server = ctx.header('server');
  const id = ctx.header('x-sucuri-id');
  const blockHeader = ctx.header('x-sucuri-block');
  const title = ctx.body.htmlTitle ?? '';
  const page =
    /Sucuri WebSite Firewall - Access Denied|Access Denied - Sucuri Website Firewall/i.test(text) ||
    (/Access Denied/i.test(title) && /cdn\.sucuri\.net\/(sucuri-firewall-block\.css|css\/whitelabel)/i.test(text));
  const block = blockHeader?.trim() ?? /Block ID:\s*(?:<[^>]+>\s*)*([A-Z]{2,5}\d{2,4})/.exec(text)?.[1];
  if (server && /^Sucuri\//i.test(server.trim())) evidence.push(ev('header:server', server));
  if (id) evidence.push(ev('header:x-sucuri-id', id));
  if (blockHeader) evidence.push(ev('header:x-sucuri-block', blockHeader));
  if (page) evidence.push(ev('body:title', title || 'Sucuri Website Firewall block page'));
  let confidence = 0;
  if (page || blockHeader) confidence = 0.96;
  else if (id || (server && /^Sucuri\//i.test(server.trim()))) confidence = 0.45;
  return { confidence, evidence, block, page };
}

// Block ID families as Sucuri's page groups them; the attack classes are WAF signatures.
const FAMILIES: { re: RegExp; what: string }[] = [
  { re: /^XSS/, what: 'a cross-site scripting (XSS) signature' },
  { re: /^SQLI?/, what: 'an SQL injection signature' },
  { re: /^EVA/, what: 'an evasion / malicious-pattern signature' },
  { re: /^(RFI|LFI)/, what: 'a file-inclusion signature' },
  { re: /^(CMD|RCE|EXE)/, what: 'a command-injection signature' },
];

function fixes(block: string | undefined, host: string | undefined): Fix[] {
  return [
    {
      title: `Give the site owner${host ? ` of ${host}` : ''} the block ID ${block ?? '(X-Sucuri-Block, or "Block ID" on the page)'}, your IP address and the time`,
      difficulty: 'easy',
      verify: 'The owner finds the blocked request in the firewall’s Audit Trails and allows it; the same request then succeeds.',
      docs: DOCS.blocked,
    },
    {
      title: 'Site owner: Sucuri dashboard → Firewall → Audit Trails → Blocked requests, find the entry; whitelist the IP (Access Control → Whitelist IP) or the URL path if it is a false positive',
      difficulty: 'medium',
      verify: 'The request no longer appears under Blocked requests, and the response has no X-Sucuri-Block header.',
      docs: DOCS.whitelist,
    },
  ];
}

export default defineRule({
  meta: {
    id: 'sucuri',
    kind: 'producer',
    product: 'sucuri',
    layer: 'waf',
    description: 'Sucuri Website Firewall (and its GoDaddy white label) block pages: "Access Denied - Sucuri Website Firewall", X-Sucuri-Block with the block ID (XSS…, SQLI…, EVA…), X-Sucuri-ID.',
    docs: [DOCS.firewall, DOCS.blocked, DOCS.whitelist, DOCS.sqlmap],
    causes: ['waf-block', 'ip-restricted'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'sucuri' as const, layer: sig.confidence >= 0.5 ? ('waf' as const) : ('cdn' as const), confidence: sig.confidence, evidence: sig.evidence };
    if (sig.confidence < 0.5) return { producer, notes: ['The response passed through the Sucuri firewall (X-Sucuri-ID) without its block page or block ID: the refusal most likely comes from the origin.'] };
    if (ctx.status !== 403 && ctx.status !== 401) return { producer };
    const host = ctx.url?.hostname;
    const family = sig.block ? FAMILIES.find((f) => f.re.test(sig.block!)) : undefined;
    const text = ctx.body.text;
    const ipReason = /Access from your Country was disabled|IP address (?:is )?(?:blacklisted|blocked)|blacklisted IP/i.exec(text);
    const blockEv = sig.block ? [ev('block-id', sig.block)] : [];
    if (ipReason)
      return {
        producer,
        causes: [{ id: 'ip-restricted', weight: 0.85, summary: `The Sucuri firewall refused your address: "${ipReason[0]}".`, evidence: [ev('body', ipReason[0]), ...blockEv, ...sig.evidence], fixes: fixes(sig.block, host) }],
      };
    return {
      producer,
      causes: [
        {
          id: 'waf-block',
          weight: family ? 0.9 : 0.75,
          summary: `The Sucuri Website Firewall blocked the request${sig.block ? ` (block ID ${sig.block}${family ? `: ${family.what}` : ''})` : ''}.`,
          evidence: [...blockEv, ...sig.evidence],
          fixes: fixes(sig.block, host),
        },
      ],
    };
  },
});
