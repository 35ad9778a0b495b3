// The fallback when no product rule recognises the response: a layer guessed
// from generic evidence (Via / X-Cache, an HTML error page, a JSON error body,
// a Bearer challenge) and a few keyword causes, all deliberately weak so that
// any real product rule outranks them. It never names a product.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence } from '../../model/report.ts';
import type { CauseId, Layer } from '../../model/vocabulary.ts';

// Kept below every product rule's floor (0.45 for a bare Server header), so it only shows when nothing else does.
const MAX_CONFIDENCE = 0.3;

function jsonMessages(json: unknown): { source: string; text: string }[] {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return [];
  const o = json as Record<string, unknown>;
  const out: { source: string; text: string }[] = [];
  for (const key of ['error', 'message', 'error_description', 'detail', 'title', 'reason', 'msg', 'description']) {
    const v = o[key];
    if (typeof v === 'string') out.push({ source: `body:${key}`, text: v });
    else if (v && typeof v === 'object' && !Array.isArray(v)) {
      const inner = v as Record<string, unknown>;
      for (const k of ['message', 'code', 'type', 'reason']) if (typeof inner[k] === 'string') out.push({ source: `body:${key}.${k}`, text: inner[k] as string });
    }
  }
  return out;
}

function texts(ctx: Context): { source: string; text: string }[] {
  const out = jsonMessages(ctx.body.json);
  if (ctx.body.htmlTitle) out.push({ source: 'body:title', text: ctx.body.htmlTitle });
  if (ctx.body.htmlH1 && ctx.body.htmlH1 !== ctx.body.htmlTitle) out.push({ source: 'body:h1', text: ctx.body.htmlH1 });
  const plain = ctx.body.text.trim();
  if (!ctx.body.json && !ctx.body.htmlTitle && !ctx.body.xml && plain && plain.length <= 300 && !plain.startsWith('<')) out.push({ source: 'body', text: plain });
  return out;
}

interface Keyword {
  re: RegExp;
  id: CauseId;
  weight: number;
}

const KEYWORDS: Keyword[] = [
  { re: /\bcsrf\b|\bxsrf\b/i, id: 'csrf', weight: 0.3 },
  { re: /\b(token|jwt|session|signature|credentials?) (has |is )?expired\b|\bexpired (token|jwt|session|signature|credentials?)\b/i, id: 'credential-expired', weight: 0.3 },
  { re: /\b(insufficient|missing|required) scopes?\b|\bscopes? (is |are )?(insufficient|missing|required)\b/i, id: 'insufficient-scope', weight: 0.25 },
  { re: /\bip( address)? (is )?(not allowed|blocked|denied|not whitelisted|not in)\b|\byour ip\b/i, id: 'ip-restricted', weight: 0.25 },
  { re: /\brate limit|\btoo many requests\b|\bquota (exceeded|reached)\b/i, id: 'rate-limited', weight: 0.3 },
  { re: /\binvalid (api[ _-]?key|token|credentials?|signature)\b|\bbad credentials\b/i, id: 'credential-invalid', weight: 0.25 },
  { re: /\b(missing|no) (api[ _-]?key|token|credentials?|authorization header)\b|\bauthentication (is )?required\b|\bnot authenticated\b|\blogin required\b/i, id: 'credential-missing', weight: 0.25 },
  { re: /\binsufficient (permissions?|privileges?|rights)\b|\bpermission denied\b|\brequires? (the )?\w+ role\b/i, id: 'insufficient-role', weight: 0.2 },
  { re: /\baccount (is )?(suspended|disabled|locked|banned)\b/i, id: 'account-state', weight: 0.25 },
  { re: /\b(repository|project|resource) (is |was )?archived\b|\bread[- ]only\b/i, id: 'resource-state', weight: 0.2 },
  { re: /\bnot allowed by cors\b|\bcors\b|\borigin (is )?not allowed\b/i, id: 'cors', weight: 0.2 },
];

/** An XML error document with a Code, as object stores (S3, Azure Blob, Cloud Storage's XML API) answer. */
function xmlErrorCode(ctx: Context): string | undefined {
  const x = ctx.body.xml;
  if (!x) return undefined;
  return x['Error.Code'] ?? x['Error.code'];
}

/** The query-API error envelope (<ErrorResponse><Error><Code>), in which AWS's IAM, STS and other services answer. */
function xmlErrorResponseCode(ctx: Context): string | undefined {
  return ctx.body.xml?.['ErrorResponse.Error.Code'] ?? ctx.body.xml?.['Response.Errors.Error.Code'];
}

/** Application servers and frameworks that name themselves: what they refuse, the application refused. */
const APP_SERVER = /^(WSGIServer|gunicorn|uvicorn|hypercorn|Werkzeug|waitress|Kestrel|Jetty|Puma|WEBrick|Thin|Passenger|TornadoServer|Daphne|CherryPy)\b/i;

/** A JSON error that names an authorization verdict (Google's "PERMISSION_DENIED", AWS's "AccessDenied…"), as cloud IAM answers. */
function jsonIamVerdict(ctx: Context): string | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const err = j.error && typeof j.error === 'object' ? (j.error as Record<string, unknown>) : undefined;
  const status = typeof err?.status === 'string' ? err.status : undefined;
  if (status === 'PERMISSION_DENIED') return status;
  return undefined;
}

function layerGuess(ctx: Context): { layer: Layer; confidence: number; evidence: Evidence[] } {
  const via = ctx.header('via');
  const xcache = ctx.header('x-cache') ?? ctx.header('x-cache-status') ?? ctx.header('x-served-by');
  const server = ctx.header('server');
  const bearer = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer');
  const basic = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'basic');
  const proxied = ctx.exchange.trace?.proxy?.used;
  // 407 and Proxy-Authenticate are only ever a forward proxy's; so is a denial
  // carrying Via when `check` itself sent the request through a proxy.
  if (ctx.status === 407 || ctx.header('proxy-authenticate'))
    return { layer: 'forward-proxy', confidence: MAX_CONFIDENCE, evidence: [ev(ctx.status === 407 ? 'status' : 'header:proxy-authenticate', ctx.status === 407 ? '407 Proxy Authentication Required: only a forward proxy asks for its own credentials' : 'a Proxy-Authenticate challenge')] };
  if (proxied && via)
    return { layer: 'forward-proxy', confidence: 0.25, evidence: [ev('trace:proxy', `sent through the proxy ${ctx.exchange.trace!.proxy!.url}`), ev('header:via', via)] };
  if (via || xcache) {
    return {
      layer: 'reverse-proxy',
      confidence: 0.2,
      evidence: [...(via ? [ev('header:via', via)] : []), ...(xcache ? [ev('header:x-cache', xcache)] : [])],
    };
  }
  const iamCode = xmlErrorResponseCode(ctx);
  if (iamCode) return { layer: 'cloud-iam', confidence: 0.2, evidence: [ev('body:ErrorResponse.Error.Code', `${iamCode}: the query-API <ErrorResponse> envelope cloud IAM services answer with`)] };
  const code = xmlErrorCode(ctx);
  if (code) return { layer: 'storage', confidence: 0.2, evidence: [ev('body:Error.Code', `${code}: an XML <Error> document with a Code, the shape object stores answer with`)] };
  const verdict = jsonIamVerdict(ctx);
  if (verdict) return { layer: 'cloud-iam', confidence: 0.2, evidence: [ev('body:error.status', `${verdict}: an authorization verdict in a cloud API's error model`)] };
  const poweredBy = ctx.header('x-powered-by');
  const appServer = server && APP_SERVER.test(server) ? server : undefined;
  if (poweredBy || appServer)
    return { layer: 'application', confidence: 0.2, evidence: [poweredBy ? ev('header:x-powered-by', `${poweredBy}: the application framework names itself`) : ev('header:server', `${appServer}: an application server, not a web server in front of it`)] };
  if (ctx.body.json !== undefined || bearer)
    return {
      layer: 'application',
      confidence: MAX_CONFIDENCE,
      evidence: [
        ...(ctx.body.json !== undefined ? [ev('body', 'a JSON error body, as applications and APIs send')] : []),
        ...(bearer ? [ev('header:www-authenticate', 'a Bearer challenge, as OAuth 2.0 resource servers send')] : []),
      ],
    };
  // A server's own error page: an HTML page titled with the status, or a Basic challenge (HTTP authentication configured in the server).
  const statusPage = ctx.body.htmlTitle && new RegExp(`^\\s*${ctx.status}\\b`).test(ctx.body.htmlTitle) ? ctx.body.htmlTitle : undefined;
  if ((ctx.body.htmlTitle && server) || statusPage || basic)
    return {
      layer: 'web-server',
      confidence: 0.2,
      evidence: [...(server ? [ev('header:server', server)] : []), ...(ctx.body.htmlTitle ? [ev('body:title', ctx.body.htmlTitle)] : []), ...(basic ? [ev('header:www-authenticate', 'a Basic challenge, as servers configured with HTTP authentication send')] : [])],
    };
  return { layer: 'unknown', confidence: 0.1, evidence: server ? [ev('header:server', server)] : [] };
}

export default defineRule({
  meta: {
    id: 'generic-http',
    kind: 'producer',
    product: 'unknown',
    layer: 'unknown',
    description: 'Fallback for responses no product rule recognises: a low-confidence layer guess from Via/X-Cache, HTML error pages, JSON error bodies and Bearer challenges, plus weak keyword causes. Never names a product.',
    docs: ['https://www.rfc-editor.org/rfc/rfc9110#section-15.5.4', 'https://www.rfc-editor.org/rfc/rfc9110#section-7.6.3', 'https://www.rfc-editor.org/rfc/rfc6750#section-3'],
    causes: ['csrf', 'credential-expired', 'insufficient-scope', 'ip-restricted', 'rate-limited', 'credential-invalid', 'credential-missing', 'insufficient-role', 'account-state', 'resource-state', 'cors'],
  },
  applies: (ctx) => ctx.status === 401 || ctx.status === 403 || ctx.status === 407,
  run(ctx) {
    const guess = layerGuess(ctx);
    const producer = { product: 'unknown' as const, layer: guess.layer, confidence: Math.min(guess.confidence, MAX_CONFIDENCE), evidence: guess.evidence };
    const causes: CauseClaim[] = [];
    const seen = new Set<CauseId>();
    const lines = texts(ctx);
    for (const k of KEYWORDS) {
      if (seen.has(k.id)) continue;
      const hit = lines.find((l) => k.re.test(l.text));
      if (!hit) continue;
      seen.add(k.id);
      causes.push({ id: k.id, weight: k.weight, summary: `The response text mentions it: “${hit.text.slice(0, 160)}”.`, evidence: [ev(hit.source, hit.text.slice(0, 300))] });
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
