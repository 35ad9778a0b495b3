// The fallback when no product rule recognises the response: a layer guessed
// from generic evidence (Via / X-Cache, an HTML error page, a JSON error body,
// a Bearer challenge), deliberately weak so that any real product rule
// outranks it. It never names a product; what the words say is denial-words'.
import { defineCause, ev, type Context, type Evidence } from '../define.ts';
import type { Layer } from '../../model/vocabulary.ts';
import { challenge } from '../_lib/challenges.ts';
import texts from './texts.json' with { type: 'json' };

// Kept below every product rule's floor (0.45 for a bare Server header), so it only shows when nothing else does.
const MAX_CONFIDENCE = 0.3;

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
const APP_SERVER =
  /^(WSGIServer|gunicorn|uvicorn|hypercorn|Werkzeug|waitress|Kestrel|Jetty|Puma|WEBrick|Thin|Passenger|TornadoServer|Daphne|CherryPy)\b/i;

/** A JSON error that names an authorization verdict (Google's "PERMISSION_DENIED", AWS's "AccessDenied…"), as cloud IAM answers. */
function jsonIamVerdict(ctx: Context): string | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const err = j.error && typeof j.error === 'object' ? (j.error as Record<string, unknown>) : undefined;
  const status = typeof err?.status === 'string' ? err.status : undefined;
  if (status === 'PERMISSION_DENIED') return status;
  return undefined;
}

/** A body or reason phrase that only repeats the status: what servers and proxies answer with by default. */
const STOCK_TEXT = /^(\d{3}\s*)?(unauthori[sz]ed|forbidden|proxy authentication required|access denied)\.?$/i;

/** Headers that proxies, CDNs and web servers put on every response they relay. */
const HOP_HEADERS = ['via', 'x-cache', 'x-served-by', 'cf-ray', 'x-amz-cf-id', 'x-azure-ref', 'x-iinfo', 'x-sucuri-id'];

/** The marks of what a response passed through on the way (Server unless an application server's, Via, CDN and Envoy headers): evidence of the path, never of the producer. */
function hopEvidence(ctx: Context): Evidence[] {
  const out: Evidence[] = [];
  const server = ctx.header('server');
  if (server && !APP_SERVER.test(server))
    out.push(ev('header:server', `${server}: delivered the response, which does not make it the one that refused`));
  for (const name of HOP_HEADERS) {
    const v = ctx.header(name);
    if (v)
      out.push(
        ev(`header:${name}`, `${v.length > 60 ? `${v.slice(0, 60)}…` : v}: a proxy or CDN the response passed through`),
      );
  }
  const envoy = ctx.exchange.response.headers.find((h) => /^x-envoy-/i.test(h.name));
  if (envoy)
    out.push(ev(`header:${envoy.name.toLowerCase()}`, `${envoy.value}: an Envoy proxy the response passed through`));
  return out;
}

interface LayerGuess {
  layer: Layer;
  confidence: number;
  evidence: Evidence[];
}

const guess = (layer: Layer, confidence: number, ...evidence: (Evidence | false | '' | undefined)[]): LayerGuess => ({
  layer,
  confidence,
  evidence: evidence.filter((e): e is Evidence => Boolean(e)),
});

function layerGuess(ctx: Context): LayerGuess {
  const via = ctx.header('via');
  const xcache = ctx.header('x-cache') ?? ctx.header('x-cache-status') ?? ctx.header('x-served-by');
  const server = ctx.header('server');
  const bearer = challenge(ctx, 'bearer');
  const basic = challenge(ctx, 'basic');
  const title = ctx.body.htmlTitle;
  const json = ctx.body.json !== undefined;
  // 407 and Proxy-Authenticate are only ever a forward proxy's; so is a denial
  // carrying Via when `check` itself sent the request through a proxy.
  if (ctx.status === 407)
    return guess(
      'forward-proxy',
      MAX_CONFIDENCE,
      ev('status', '407 Proxy Authentication Required: only a forward proxy asks for its own credentials'),
    );
  if (ctx.header('proxy-authenticate'))
    return guess('forward-proxy', MAX_CONFIDENCE, ev('header:proxy-authenticate', 'a Proxy-Authenticate challenge'));
  const proxy = ctx.exchange.trace?.proxy;
  if (proxy?.used && via)
    return guess(
      'forward-proxy',
      0.25,
      ev('trace:proxy', `sent through the proxy ${proxy.url}`),
      ev('header:via', via),
    );
  const iamCode = xmlErrorResponseCode(ctx);
  if (iamCode)
    return guess(
      'cloud-iam',
      0.2,
      ev(
        'body:ErrorResponse.Error.Code',
        `${iamCode}: the query-API <ErrorResponse> envelope cloud IAM services answer with`,
      ),
    );
  const code = xmlErrorCode(ctx);
  if (code)
    return guess(
      'storage',
      0.2,
      ev('body:Error.Code', `${code}: an XML <Error> document with a Code, the shape object stores answer with`),
    );
  const verdict = jsonIamVerdict(ctx);
  if (verdict)
    return guess(
      'cloud-iam',
      0.2,
      ev('body:error.status', `${verdict}: an authorization verdict in a cloud API's error model`),
    );
  // An application's JSON is the application's answer, whatever hops it passed through:
  // their marks are evidence of the path, not of who said no.
  if (json)
    return guess(
      'application',
      MAX_CONFIDENCE,
      ev('body', 'a JSON error body, as applications and APIs send'),
      bearer && ev('header:www-authenticate', 'a Bearer challenge, as OAuth 2.0 resource servers send'),
      ...hopEvidence(ctx),
    );
  if (via || xcache)
    return guess('reverse-proxy', 0.2, via && ev('header:via', via), xcache && ev('header:x-cache', xcache));
  const poweredBy = ctx.header('x-powered-by');
  if (poweredBy)
    return guess('application', 0.2, ev('header:x-powered-by', `${poweredBy}: the application framework names itself`));
  if (server && APP_SERVER.test(server))
    return guess(
      'application',
      0.2,
      ev('header:server', `${server}: an application server, not a web server in front of it`),
    );
  if (bearer)
    return guess(
      'application',
      MAX_CONFIDENCE,
      ev('header:www-authenticate', 'a Bearer challenge, as OAuth 2.0 resource servers send'),
    );
  // A server's own error page: an HTML page titled with the status, or a Basic challenge (HTTP authentication configured in the server).
  const statusPage = title && new RegExp(`^\\s*${ctx.status}\\b`).test(title);
  if ((title && server) || statusPage || basic)
    return guess(
      'web-server',
      0.2,
      server && ev('header:server', server),
      title && ev('body:title', title),
      basic && ev('header:www-authenticate', 'a Basic challenge, as servers configured with HTTP authentication send'),
    );
  // What is left shows an application by its own words: a reason phrase it wrote, an XML document
  // other than an object store's or IAM's, a plain-text sentence with no server or proxy marks on it.
  const reason = ctx.exchange.response.statusText?.trim();
  if (reason && !STOCK_TEXT.test(reason) && reason.split(/\s+/).length >= 3)
    return guess(
      'application',
      0.2,
      ev('status', `the reason phrase "${reason}": written by the server itself, as applications do`),
    );
  if (!server && ctx.body.xml && !title)
    return guess(
      'application',
      0.2,
      ev('body', 'an XML document that is not an object store’s <Error>: an application’s own'),
    );
  const text = ctx.body.text.trim();
  const plain = /^text\/plain\b/i.test(ctx.header('content-type') ?? '');
  if (!server && plain && text && !STOCK_TEXT.test(text) && !/^\s*</.test(text))
    return guess(
      'application',
      0.15,
      ev('body', 'a plain-text message of its own, with no Server, Via or CDN header: as an application answers'),
    );
  return guess('unknown', 0.1, server && ev('header:server', server));
}

export default defineCause({
  meta: {
    id: 'generic-http',
    causes: [],
    ...texts,
  },
  explain(ctx, report) {
    const guess = layerGuess(ctx);
    report.producer({
      product: 'unknown',
      layer: guess.layer,
      confidence: Math.min(guess.confidence, MAX_CONFIDENCE),
      evidence: guess.evidence,
    });
  },
});
