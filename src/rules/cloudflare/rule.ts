// Cloudflare sits in front of millions of origins, so Server: cloudflare and
// cf-ray are on every proxied response — including 403s the origin wrote.
// Only Cloudflare's own pages prove Cloudflare refused: the 1xxx error pages
// ("Access denied | … used Cloudflare to restrict access", "error code: 1020"
// for non-browser clients), the block page ("Attention Required! | Cloudflare",
// "Sorry, you have been blocked"), and challenges (cf-mitigated: challenge).
// The Cloudflare API (api.cloudflare.com) answers JSON with numeric codes.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix, } from '../../model/report.ts';
import type { CauseId, Layer } from '../../model/vocabulary.ts';

interface ApiError {
  code: number;
  message: string;
}

function apiErrors(ctx: Context): ApiError[] | undefined {
  const j = ctx.body.json as { success?: unknown; errors?: unknown } | undefined;
  if (!j || typeof j !== 'object' || j.success !== false || !Array.isArray(j.errors)) return undefined;
  const out: ApiError[] = [];
  for (const e of j.errors as Array<{ code?: unknown; message?: unknown; error_chain?: unknown }>) {
    if (typeof e?.code === 'number') out.push({ code: e.code, message: String(e.message ?? '') });
    if (Array.isArray(e?.error_chain)) for (const c of e.error_chain as Array<{ code?: unknown; message?: unknown }>) if (typeof c?.code === 'number') out.push({ code: c.code, message: String(c.message ?? '') });
  }
  return out.length ? out : undefined;
}

/** The 1xxx code, from the HTML page, its text rendering, or the plain-text answer for API clients. */
function errorCode(text: string): number | undefined {
  const m =
    /class="cf-error-code">\s*(\d{4})\s*</.exec(text) ??
    /errorCode:\s*(\d{4})/.exec(text) ??
    /\berror code:\s*(\d{4})\b/i.exec(text) ??
    /\bError (\d{4})\b[\s\S]{0,80}?Ray ID/.exec(text);
  return m ? Number(m[1]) : undefined;
}

function rayId(ctx: Context): string | undefined {
  const header = ctx.header('cf-ray');
  if (header) return header.split('-')[0].trim();
  return /Ray ID:\s*(?:<strong[^>]*>\s*)?([0-9a-f]{16})/i.exec(ctx.body.text)?.[1];
}

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const text = ctx.body.text;
  const server = ctx.header('server');
  const ray = ctx.header('cf-ray');
  const mitigated = ctx.header('cf-mitigated');
  if (server && /^cloudflare$/i.test(server.trim())) evidence.push(ev('header:server', server));
  if (ray) evidence.push(ev('header:cf-ray', ray));
  if (mitigated) evidence.push(ev('header:cf-mitigated', mitigated));
  const title = ctx.body.htmlTitle ?? /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
  const ownPage =
    /used Cloudflare to restrict access/i.test(title ?? '') ||
    /Attention Required! \| Cloudflare/i.test(title ?? '') ||
    /^Just a moment\.\.\.$/.test(title ?? '') ||
    /cf-error-details|cf-error-code|Cloudflare Ray ID|Performance &amp; security by|Performance & security by Cloudflare|sparrow\.cloudflare\.com/i.test(text) ||
    // The heading of a 1xxx page as text (tags stripped, footer lost): the word
    // "Cloudflare" may not survive, but a 1xxx code beside a 16-hex Ray ID does.
    /\bError\s*1\d{3}\s*Ray ID:\s*[0-9a-f]{16}\b/.test(text) ||
    (/^error code: \d{4}\s*$/i.test(text.trim()) && Boolean(ray || server));
  if (ownPage) evidence.push(ev('body', title ? `Cloudflare page: ${title}` : 'Cloudflare error page'));
  const api = /(^|\.)api\.cloudflare\.com$/.test(ctx.url?.hostname ?? '');
  const apiBody = apiErrors(ctx);
  if (api) evidence.push(ev('request:url', 'api.cloudflare.com'));
  const viaCloudflare = Boolean(ray || (server && /^cloudflare$/i.test(server.trim())));
  let confidence = 0;
  let kind: 'page' | 'challenge' | 'api' | 'passthrough' = 'passthrough';
  if (mitigated && /challenge|block/i.test(mitigated)) {
    confidence = 0.97;
    kind = 'challenge';
  } else if (ownPage) {
    confidence = viaCloudflare ? 0.97 : 0.9;
    kind = /^Just a moment\.\.\.$/.test(title ?? '') ? 'challenge' : 'page';
  } else if (apiBody && (api || viaCloudflare)) {
    confidence = api && viaCloudflare ? 0.97 : 0.9;
    kind = 'api';
  } else if (viaCloudflare) {
    // The origin's own 403 travels through Cloudflare with the same headers.
    confidence = 0.4;
  }
  return { confidence, evidence, kind, title };
}

interface CodeEntry {
  cause: CauseId;
  weight: number;
  what: string;
  also?: { cause: CauseId; weight: number; what: string };
}

// https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-1xxx-errors/
const CODES: Record<number, CodeEntry> = {
  1005: { cause: 'ip-restricted', weight: 0.85, what: 'the site owner banned the autonomous system (ASN) your IP address belongs to' },
  1006: { cause: 'ip-restricted', weight: 0.9, what: 'the site owner banned your IP address' },
  1007: { cause: 'ip-restricted', weight: 0.9, what: 'the site owner banned your IP address' },
  1008: { cause: 'ip-restricted', weight: 0.9, what: 'the site owner banned your IP address' },
  1106: { cause: 'ip-restricted', weight: 0.9, what: 'the site owner banned your IP address (or Zone Lockdown excludes it)' },
  1009: { cause: 'ip-restricted', weight: 0.9, what: 'the site owner banned the country or region of your IP address' },
  1010: { cause: 'waf-block', weight: 0.9, what: 'the site owner blocks your client by its browser signature (Browser Integrity Check)' },
  1011: { cause: 'waf-block', weight: 0.7, what: 'hotlink protection refused the request (the Referer is not the site itself)' },
  1012: { cause: 'ip-restricted', weight: 0.6, what: 'the site owner forbids access because of malicious activity seen from your computer or network', also: { cause: 'waf-block', weight: 0.4, what: 'an IP reputation rule matched' } },
  1015: { cause: 'rate-limited', weight: 0.9, what: 'a rate-limiting rule of the site blocked you for sending too many requests' },
  1020: { cause: 'waf-block', weight: 0.92, what: 'a firewall (WAF custom) rule of the site matched your request' },
};

function claim(id: CauseId, weight: number, summary: string, evidence: Evidence[], fixes: Fix[]): CauseClaim {
  return { id, weight, summary, evidence, fixes };
}

function ownerFixes(ray: string | undefined, host: string | undefined): Fix[] {
  const rayText = ray ?? 'RAY_ID';
  return [
    {
      title: `Give the site owner the Ray ID ${ray ?? '(the cf-ray response header, or the one printed on the page)'}${host ? ` for ${host}` : ''}, the time (UTC) and your IP address — only the owner can lift the block`,
      difficulty: 'easy',
      commands: ['curl -s https://www.cloudflare.com/cdn-cgi/trace | grep -E "^(ip|ts|colo)="  # your IP and the time as Cloudflare sees them'],
      verify: 'The owner finds the event and allows your client; the same request then passes.',
      docs: 'https://developers.cloudflare.com/fundamentals/reference/cloudflare-ray-id/',
    },
    {
      title: `Site owner: look the Ray ID up in Security → Events (or via the GraphQL API) to see which rule matched`,
      difficulty: 'medium',
      commands: [
        `curl -s https://api.cloudflare.com/client/v4/graphql -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" -H 'Content-Type: application/json' -d '{"query":"{ viewer { zones(filter:{zoneTag:\\"ZONE_ID\\"}) { firewallEventsAdaptive(limit:5, filter:{rayName:\\"${rayText}\\", datetime_geq:\\"START_ISO8601\\"}) { action source ruleId description clientIP clientRequestPath } } } }"}' | jq .`,
      ],
      verify: 'The event names the rule (source and ruleId); add a skip/allow for this client or fix the rule, then retry.',
      docs: 'https://developers.cloudflare.com/waf/analytics/security-events/',
    },
  ];
}

function apiFixes(): Fix[] {
  return [
    { title: 'Verify the API token is valid and active', difficulty: 'easy', commands: ['curl -s https://api.cloudflare.com/client/v4/user/tokens/verify -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" | jq .'], verify: '"status": "active" in the result.', docs: 'https://developers.cloudflare.com/fundamentals/api/get-started/create-token/' },
    { title: 'Give the token the permission (and zone/account resource) this endpoint needs, in My Profile → API Tokens', difficulty: 'easy', verify: 'The same call succeeds with the edited token; the endpoint’s docs list the permission group it needs.', docs: 'https://developers.cloudflare.com/fundamentals/api/reference/permissions/' },
  ];
}

export default defineRule({
  meta: {
    id: 'cloudflare',
    kind: 'producer',
    product: 'cloudflare',
    layer: 'waf',
    description: 'Cloudflare refusals: 1xxx error pages (1020 firewall rule, 1010 browser signature, 1009 country, 1006–1008 IP bans), the block page, challenges (cf-mitigated), and Cloudflare API authentication errors.',
    docs: [
      'https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-1xxx-errors/',
      'https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-1xxx-errors/error-1020/',
      'https://developers.cloudflare.com/cloudflare-challenges/challenge-types/challenge-pages/detect-response/',
      'https://developers.cloudflare.com/fundamentals/reference/cloudflare-ray-id/',
      'https://developers.cloudflare.com/fundamentals/api/reference/permissions/',
    ],
    causes: ['waf-block', 'ip-restricted', 'rate-limited', 'insufficient-scope', 'credential-invalid', 'credential-missing', 'credential-malformed'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const ray = rayId(ctx);
    const host = ctx.url?.hostname;
    const layer: Layer = sig.kind === 'api' ? 'application' : sig.kind === 'passthrough' ? 'cdn' : 'waf';
    const evidence = [...sig.evidence, ...(ray ? [ev('ray-id', ray)] : [])];
    const producer = { product: 'cloudflare' as const, layer, confidence: sig.confidence, evidence };
    if (sig.kind === 'passthrough') return { producer, notes: [`The response passed through Cloudflare${ray ? ` (Ray ID ${ray})` : ''}; no Cloudflare error page, so the refusal most likely comes from the origin behind it.`] };
    if (ctx.status !== 401 && ctx.status !== 403 && ctx.status !== 429) return { producer };

    if (sig.kind === 'api') {
      const errors = apiErrors(ctx) ?? [];
      const first = errors[0];
      const errEv = errors.map((e) => ev('body:errors', `${e.code}: ${e.message}`));
      const auth = ctx.requestHeader('authorization');
      const legacyKey = ctx.requestHeader('x-auth-key');
      const codes = new Set(errors.map((e) => e.code));
      const causes: CauseClaim[] = [];
      if (codes.has(9106) || (ctx.exchange.request && !auth && !legacyKey && codes.has(10000)))
        causes.push(claim('credential-missing', 0.8, `The Cloudflare API received no credentials: "${first.message}" (${first.code}).`, errEv, [{ title: 'Send the token as "Authorization: Bearer <token>" (or X-Auth-Email + X-Auth-Key for a Global API Key)', difficulty: 'easy', commands: ['curl -s https://api.cloudflare.com/client/v4/user/tokens/verify -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN"'] }]));
      if (codes.has(6003) || codes.has(6111) || codes.has(6103))
        causes.push(claim('credential-malformed', 0.8, `The Cloudflare API could not read the credentials: ${errors.map((e) => `"${e.message}" (${e.code})`).join(', ')} — e.g. a token without "Bearer ", or a token sent as X-Auth-Key.`, errEv, [{ title: 'Send an API token as "Authorization: Bearer <token>"; only the Global API Key goes in X-Auth-Key', difficulty: 'easy' }]));
      if (codes.has(9103) || codes.has(9109) || codes.has(10001))
        causes.push(claim('credential-invalid', 0.8, `The Cloudflare API rejected the credentials: ${errors.map((e) => `"${e.message}" (${e.code})`).join(', ')}.`, errEv, apiFixes()));
      if (codes.has(10000) && !causes.some((c) => c.id === 'credential-missing')) {
        // 10000 "Authentication error" is also what a valid token without the endpoint's permission gets.
        causes.push(claim('insufficient-scope', legacyKey ? 0.3 : 0.6, `The Cloudflare API answered "${first.message}" (10000): most often the API token is valid but lacks the permission or zone/account this endpoint needs.`, errEv, apiFixes()));
        causes.push(claim('credential-invalid', legacyKey ? 0.6 : 0.4, 'The token may also be revoked, expired, mistyped, or a Global API Key sent as a Bearer token.', errEv, apiFixes()));
      }
      if (!causes.length) causes.push(claim('credential-invalid', 0.4, `The Cloudflare API refused: ${errors.map((e) => `"${e.message}" (${e.code})`).join(', ')}.`, errEv, apiFixes()));
      return { producer, causes };
    }

    if (sig.kind === 'challenge') {
      return {
        producer,
        causes: [
          claim('waf-block', 0.85, `Cloudflare answered with a challenge${ctx.header('cf-mitigated') ? ' (cf-mitigated: challenge)' : ''} instead of the page: a bot-management, WAF or security-level rule wants proof of a real browser, which scripts and API clients cannot give.`, evidence, [
            ...ownerFixes(ray, host),
            { title: 'Site owner: exempt this client (a skip rule for its API path, token header, IP or verified bot) instead of challenging it', difficulty: 'medium', docs: 'https://developers.cloudflare.com/waf/custom-rules/skip/' },
          ]),
        ],
        notes: ['A browser passes this challenge; why403 will not try to solve or bypass it.'],
      };
    }

    const code = errorCode(ctx.body.text);
    const titleEv = sig.title ? [ev('body:title', sig.title)] : [];
    if (code && CODES[code]) {
      const entry = CODES[code];
      const codeEv = ev('body', `Cloudflare error ${code}`);
      const causes = [claim(entry.cause, entry.weight, `Cloudflare error ${code}: ${entry.what}${ray ? ` (Ray ID ${ray})` : ''}. Cloudflare cannot override the site owner’s settings.`, [codeEv, ...titleEv, ...evidence], ownerFixes(ray, host))];
      if (entry.also) causes.push(claim(entry.also.cause, entry.also.weight, `Cloudflare error ${code}: ${entry.also.what}.`, [codeEv], ownerFixes(ray, host)));
      return { producer, causes };
    }
    // The generic block page: managed rules, custom rules, IP reputation.
    const blocked = /Sorry, you have been blocked|Attention Required! \| Cloudflare|Why have I been blocked\?/i.test(ctx.body.text);
    const causes: CauseClaim[] = [
      claim('waf-block', blocked ? 0.85 : 0.6, `Cloudflare’s security service blocked the request${blocked ? ' ("Sorry, you have been blocked": a WAF rule matched a word, SQL fragment, malformed data or your client)' : ''}${ray ? ` — Ray ID ${ray}` : ''}.`, [...titleEv, ...evidence], ownerFixes(ray, host)),
    ];
    if (!blocked) causes.push(claim('ip-restricted', 0.3, 'Cloudflare’s "Access denied" page is also used for IP, ASN and country rules; the error code on the page tells which.', [...titleEv, ...evidence], ownerFixes(ray, host)));
    return { producer, causes };
  },
});
