// Sucuri's Website Firewall (also sold white-labelled as "GoDaddy Website
// Firewall") answers a blocked request with its own page, "Access Denied -
// Sucuri Website Firewall", and the headers X-Sucuri-ID (the firewall node)
// and X-Sucuri-Block (the block ID, e.g. XSS027, EVA079). The Server header
// may be Sucuri/Cloudproxy or the origin's (nginx), so the page and the
// X-Sucuri-* headers are what identify it. X-Sucuri-ID alone is on every
// response the firewall proxies, including the origin's own 403s.
import { defineProducer, ev, signals } from '../define.ts';
import { noteRelayed, relayLayer } from '../_lib/edge-block.ts';
import { namedServer } from '../_lib/server-header.ts';
import texts from './texts.json' with { type: 'json' };

const PAGE_TITLE = /Sucuri WebSite Firewall - Access Denied|Access Denied - Sucuri Website Firewall/i;
const PAGE_CSS = /cdn\.sucuri\.net\/(sucuri-firewall-block\.css|css\/whitelabel)/i;
const IP_REASON = /Access from your Country was disabled|IP address (?:is )?(?:blacklisted|blocked)|blacklisted IP/i;

// Block ID families as Sucuri's page groups them; the attack classes are WAF signatures.
const FAMILIES: { re: RegExp; what: string }[] = [
  { re: /^XSS/, what: 'a cross-site scripting (XSS) signature' },
  { re: /^SQLI?/, what: 'an SQL injection signature' },
  { re: /^EVA/, what: 'an evasion / malicious-pattern signature' },
  { re: /^(RFI|LFI)/, what: 'a file-inclusion signature' },
  { re: /^(CMD|RCE|EXE)/, what: 'a command-injection signature' },
];

const RELAYED_NOTE =
  'The response passed through the Sucuri firewall (X-Sucuri-ID) without its block page or block ID: the refusal most likely comes from the origin.';

export default defineProducer({
  meta: {
    id: 'sucuri',
    product: 'sucuri',
    layer: 'waf',
    relays: true,
    causes: ['waf-block', 'ip-restricted'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const text = ctx.body.text;
    const blockHeader = ctx.header('x-sucuri-block');
    const title = ctx.body.htmlTitle ?? '';
    const page = PAGE_TITLE.test(text) || (/Access Denied/i.test(title) && PAGE_CSS.test(text));
    const block = blockHeader?.trim() ?? /Block ID:\s*(?:<[^>]+>\s*)*([A-Z]{2,5}\d{2,4})/.exec(text)?.[1];
    // X-Sucuri-ID (or Server: Sucuri/…) alone is on every response the firewall proxies, the origin's own 403s too.
    const found = signals();
    const server = namedServer(ctx, /^Sucuri\//i)?.value;
    if (server) found.add(0.45, ev('header:server', server));
    found.headers(ctx, 0.45, ['x-sucuri-id']).headers(ctx, 0.96, ['x-sucuri-block']);
    if (page) found.add(0.96, ev('body:title', title || 'Sucuri Website Firewall block page'));
    return found.result({ block, ...relayLayer(found.confidence) });
  },
  explain(ctx, { block, confidence, evidence }, report) {
    if (noteRelayed(confidence, report, RELAYED_NOTE)) return;
    const host = ctx.url?.hostname;
    const owner = {
      ofHost: host ? ` of ${host}` : '',
      blockText: block ?? '(X-Sucuri-Block, or "Block ID" on the page)',
    };
    const fixes = ['tellOwner', 'ownerWhitelist'] as const;
    const blockEv = block ? [ev('block-id', block)] : [];
    const ipReason = IP_REASON.exec(ctx.body.text);
    if (ipReason) {
      report.claim('ip-restricted', 'address', 0.85, {
        data: { ...owner, reason: ipReason[0] },
        evidence: [ev('body', ipReason[0]), ...blockEv, ...evidence],
        fixes,
      });
      return;
    }
    const family = block ? FAMILIES.find((f) => f.re.test(block)) : undefined;
    const detail = block ? ` (block ID ${block}${family ? `: ${family.what}` : ''})` : '';
    report.claim('waf-block', 'blocked', family ? 0.9 : 0.75, {
      data: { ...owner, detail },
      evidence: [...blockEv, ...evidence],
      fixes,
    });
  },
});
