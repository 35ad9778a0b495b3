// Cloudflare sits in front of millions of origins, so Server: cloudflare and
// cf-ray are on every proxied response — including 403s the origin wrote.
// Only Cloudflare's own pages prove Cloudflare refused: the 1xxx error pages
// ("Access denied | … used Cloudflare to restrict access", "error code: 1020"
// for non-browser clients), the block page ("Attention Required! | Cloudflare",
// "Sorry, you have been blocked"), and challenges (cf-mitigated: challenge).
// The Cloudflare API (api.cloudflare.com) answers JSON with numeric codes.
import { defineProducer, ev, signals, type Context, type Evidence, type Reporter } from '../define.ts';
import { noteRelayed, relayLayer } from '../_lib/edge-block.ts';
import { namedServer } from '../_lib/server-header.ts';
import texts from './texts.json' with { type: 'json' };

interface ApiError {
  code: number;
  message: string;
}

function apiErrors(ctx: Context): ApiError[] | undefined {
  const j = ctx.body.json as { success?: unknown; errors?: unknown } | undefined;
  if (!j || typeof j !== 'object' || j.success !== false || !Array.isArray(j.errors)) return undefined;
  const out: ApiError[] = [];
  const push = (e: { code?: unknown; message?: unknown } | undefined) => {
    if (typeof e?.code === 'number') out.push({ code: e.code, message: String(e.message ?? '') });
  };
  for (const e of j.errors as Array<{ code?: unknown; message?: unknown; error_chain?: unknown }>) {
    push(e);
    if (Array.isArray(e?.error_chain))
      for (const c of e.error_chain as Array<{ code?: unknown; message?: unknown }>) push(c);
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

const OWN_PAGE_TEXT =
  /cf-error-details|cf-error-code|Cloudflare Ray ID|Performance &amp; security by|Performance & security by Cloudflare|sparrow\.cloudflare\.com/i;
const CHALLENGE_TITLE = /^Just a moment\.\.\.$/;
const BLOCK_PAGE = /Sorry, you have been blocked|Attention Required! \| Cloudflare|Why have I been blocked\?/i;

function ownPage(ctx: Context, title: string, cloudflareHeaders: boolean): boolean {
  const text = ctx.body.text;
  return (
    /used Cloudflare to restrict access/i.test(title) ||
    /Attention Required! \| Cloudflare/i.test(title) ||
    CHALLENGE_TITLE.test(title) ||
    OWN_PAGE_TEXT.test(text) ||
    // The heading of a 1xxx page as text (tags stripped, footer lost): the word
    // "Cloudflare" may not survive, but a 1xxx code beside a 16-hex Ray ID does.
    /\bError\s*1\d{3}\s*Ray ID:\s*[0-9a-f]{16}\b/.test(text) ||
    (/^error code: \d{4}\s*$/i.test(text.trim()) && cloudflareHeaders)
  );
}

const CAUSES = [
  'waf-block',
  'ip-restricted',
  'rate-limited',
  'insufficient-scope',
  'credential-invalid',
  'credential-missing',
  'credential-malformed',
] as const;
type Cause = (typeof CAUSES)[number];

interface CodeEntry {
  cause: Cause;
  weight: number;
  what: string;
  also?: { cause: Cause; weight: number; what: string };
}

// https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-1xxx-errors/
const CODES: Record<number, CodeEntry> = {
  1005: {
    cause: 'ip-restricted',
    weight: 0.85,
    what: 'the site owner banned the autonomous system (ASN) your IP address belongs to',
  },
  1006: { cause: 'ip-restricted', weight: 0.9, what: 'the site owner banned your IP address' },
  1007: { cause: 'ip-restricted', weight: 0.9, what: 'the site owner banned your IP address' },
  1008: { cause: 'ip-restricted', weight: 0.9, what: 'the site owner banned your IP address' },
  1106: {
    cause: 'ip-restricted',
    weight: 0.9,
    what: 'the site owner banned your IP address (or Zone Lockdown excludes it)',
  },
  1009: { cause: 'ip-restricted', weight: 0.9, what: 'the site owner banned the country or region of your IP address' },
  1010: {
    cause: 'waf-block',
    weight: 0.9,
    what: 'the site owner blocks your client by its browser signature (Browser Integrity Check)',
  },
  1011: {
    cause: 'waf-block',
    weight: 0.7,
    what: 'hotlink protection refused the request (the Referer is not the site itself)',
  },
  1012: {
    cause: 'ip-restricted',
    weight: 0.6,
    what: 'the site owner forbids access because of malicious activity seen from your computer or network',
    also: { cause: 'waf-block', weight: 0.4, what: 'an IP reputation rule matched' },
  },
  1015: {
    cause: 'rate-limited',
    weight: 0.9,
    what: 'a rate-limiting rule of the site blocked you for sending too many requests',
  },
  1020: { cause: 'waf-block', weight: 0.92, what: 'a firewall (WAF custom) rule of the site matched your request' },
};

type Messages = 'apiMissing' | 'apiMalformed' | 'apiRejected' | 'apiNoPermission' | 'apiTokenBad' | 'apiRefused';
type FixId = keyof typeof texts.fixes;
const API_FIXES: FixId[] = ['verifyToken', 'tokenPermission'];

/** Cloudflare API errors: the numeric codes name the credential problem. */
function explainApi(ctx: Context, report: Reporter<Cause, Messages, FixId>): void {
  const errors = apiErrors(ctx) ?? [];
  const first = errors[0];
  const evidence = errors.map((e) => ev('body:errors', `${e.code}: ${e.message}`));
  const listed = errors.map((e) => `"${e.message}" (${e.code})`).join(', ');
  const legacyKey = ctx.requestHeader('x-auth-key');
  const codes = new Set(errors.map((e) => e.code));
  const missing =
    codes.has(9106) ||
    Boolean(ctx.exchange.request && !ctx.requestHeader('authorization') && !legacyKey && codes.has(10000));
  let claimed = 0;
  const claim = (cause: Cause, message: Messages, weight: number, fixes: FixId[]) => {
    claimed++;
    report.claim(cause, message, weight, {
      data: { message: first.message, code: first.code, errors: listed },
      evidence,
      fixes,
    });
  };
  if (missing) claim('credential-missing', 'apiMissing', 0.8, ['sendToken']);
  if (codes.has(6003) || codes.has(6111) || codes.has(6103))
    claim('credential-malformed', 'apiMalformed', 0.8, ['bearerNotKey']);
  if (codes.has(9103) || codes.has(9109) || codes.has(10001))
    claim('credential-invalid', 'apiRejected', 0.8, API_FIXES);
  if (codes.has(10000) && !missing) {
    // 10000 "Authentication error" is also what a valid token without the endpoint's permission gets.
    claim('insufficient-scope', 'apiNoPermission', legacyKey ? 0.3 : 0.6, API_FIXES);
    claim('credential-invalid', 'apiTokenBad', legacyKey ? 0.6 : 0.4, API_FIXES);
  }
  if (!claimed) claim('credential-invalid', 'apiRefused', 0.4, API_FIXES);
}

export default defineProducer({
  meta: {
    id: 'cloudflare',
    product: 'cloudflare',
    layer: 'waf',
    relays: true,
    causes: CAUSES,
    statuses: [401, 403, 429],
    ...texts,
  },
  recognise(ctx) {
    const server = ctx.header('server');
    const ray = ctx.header('cf-ray');
    const mitigated = ctx.header('cf-mitigated');
    const cfServer = namedServer(ctx, /^cloudflare$/i)?.value;
    const viaCloudflare = Boolean(ray || cfServer);
    const title = ctx.body.htmlTitle ?? /<title>([^<]*)<\/title>/i.exec(ctx.body.text)?.[1]?.trim();
    const page = ownPage(ctx, title ?? '', Boolean(ray || server));
    const api = /(^|\.)api\.cloudflare\.com$/.test(ctx.url?.hostname ?? '');
    const apiBody = Boolean(apiErrors(ctx));
    const challenge = Boolean(mitigated && /challenge|block/i.test(mitigated));
    let kind: 'challenge' | 'page' | 'api' | 'relayed' = 'relayed';
    if (challenge || (page && CHALLENGE_TITLE.test(title ?? ''))) kind = 'challenge';
    else if (page) kind = 'page';
    else if (apiBody && (api || viaCloudflare)) kind = 'api';
    const found = signals();
    // The origin's own 403 travels through Cloudflare with the same headers; an API error body through it is Cloudflare's.
    const relayed = apiBody ? 0.9 : 0.4;
    if (cfServer) found.add(relayed, ev('header:server', cfServer));
    if (ray) found.add(relayed, ev('header:cf-ray', ray));
    if (mitigated) found.add(challenge ? 0.97 : 0, ev('header:cf-mitigated', mitigated));
    if (page)
      found.add(viaCloudflare ? 0.97 : 0.9, ev('body', title ? `Cloudflare page: ${title}` : 'Cloudflare error page'));
    if (api) found.add(apiBody ? (viaCloudflare ? 0.97 : 0.9) : 0, ev('request:url', 'api.cloudflare.com'));
    const rayShown = rayId(ctx);
    if (rayShown) found.add(0, ev('ray-id', rayShown));
    const layer = kind === 'api' ? { layer: 'application' as const } : relayLayer(found.confidence);
    return found.result({ kind, title, ray: rayShown, ...layer });
  },
  explain(ctx, { kind, title, ray, confidence, evidence }, report) {
    const relayed = `The response passed through Cloudflare${ray ? ` (Ray ID ${ray})` : ''}; no Cloudflare error page, so the refusal most likely comes from the origin behind it.`;
    if (noteRelayed(confidence, report, relayed)) return;
    if (kind === 'api') return explainApi(ctx, report);
    const host = ctx.url?.hostname;
    const owner = {
      rayText: ray ?? '(the cf-ray response header, or the one printed on the page)',
      forHost: host ? ` for ${host}` : '',
      rayName: ray ?? 'RAY_ID',
    };
    const fixes = ['tellOwner', 'lookupRay'] as const;
    if (kind === 'challenge') {
      const mitigated = ctx.header('cf-mitigated') ? ' (cf-mitigated: challenge)' : '';
      report.claim('waf-block', 'challenge', 0.85, {
        data: { ...owner, mitigated },
        evidence,
        fixes: [...fixes, 'skipRule'],
      });
      report.note('A browser passes this challenge; why403 will not try to solve or bypass it.');
      return;
    }
    const code = errorCode(ctx.body.text);
    const titleEv: Evidence[] = title ? [ev('body:title', title)] : [];
    const entry = code ? CODES[code] : undefined;
    if (entry) {
      const codeEv = ev('body', `Cloudflare error ${code}`);
      const data = { ...owner, code, what: entry.what, ray: ray ? ` (Ray ID ${ray})` : '' };
      report.claim(entry.cause, 'errorCode', entry.weight, {
        data,
        evidence: [codeEv, ...titleEv, ...evidence],
        fixes,
      });
      if (entry.also)
        report.claim(entry.also.cause, 'errorCodeAlso', entry.also.weight, {
          data: { ...owner, code, what: entry.also.what },
          evidence: [codeEv],
          fixes,
        });
      return;
    }
    // The generic block page: managed rules, custom rules, IP reputation.
    const blocked = BLOCK_PAGE.test(ctx.body.text);
    const pageEv = [...titleEv, ...evidence];
    report.claim('waf-block', blocked ? 'blockPage' : 'securityService', blocked ? 0.85 : 0.6, {
      data: { ...owner, ray: ray ? ` — Ray ID ${ray}` : '' },
      evidence: pageEv,
      fixes,
    });
    if (!blocked) report.claim('ip-restricted', 'accessDeniedPage', 0.3, { data: owner, evidence: pageEv, fixes });
  },
});
