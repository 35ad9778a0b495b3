// The CORS preflight a browser would send before the user's request, and the
// browser's verdict on its answer, step by step as the Fetch standard's
// CORS-preflight fetch and CORS check do it
// (https://fetch.spec.whatwg.org/#cors-preflight-fetch, #cors-check): the
// answer must be an ok status, Access-Control-Allow-Origin must be the origin
// (or `*` without credentials), Allow-Credentials `true` with credentials,
// and Allow-Methods / Allow-Headers must cover the method and every header a
// script set. A preflight the server refuses, or answers for another origin,
// confirms an origin policy at work; one that allows all of it rules the
// origin policy out as the reason for the denial.
import { headerValue, type Exchange, type ExchangeRequest, type NameValue } from '../../model/exchange.ts';
import type { CauseClaim } from '../../model/rule.ts';
import { redactUrl } from '../../credentials/redact.ts';
import { defineProbe, type ProbeContext, type ProbeFinding, type ProbeRequest } from '../define.ts';

const NAME = 'cors-preflight';
const SOURCE = `probe:${NAME}`;
const lower = (s: string) => s.toLowerCase();

// Fetch's forbidden request-header names (and the Proxy-/Sec- prefixes): the
// browser sets these itself, a script cannot, so they never appear in
// Access-Control-Request-Headers. User-Agent and Priority are set by the
// browser too (Chrome drops a script's User-Agent); a request copied from the
// developer tools carries the browser's own, which no preflight lists.
const BROWSER_SET = new Set([
  'accept-charset',
  'accept-encoding',
  'access-control-request-headers',
  'access-control-request-method',
  'connection',
  'content-length',
  'cookie',
  'cookie2',
  'date',
  'dnt',
  'expect',
  'host',
  'keep-alive',
  'origin',
  'referer',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
  'permissions-policy',
  'feature-policy',
  'user-agent',
  'priority',
]);
const browserSet = (name: string) =>
  BROWSER_SET.has(name) || name.startsWith('proxy-') || name.startsWith('sec-') || name.startsWith(':');

// Headers the browser also puts on the preflight itself; the user's own
// values are kept so the preflight looks to the server like the browser's.
const PREFLIGHT_KEEPS = new Set([
  'user-agent',
  'accept-language',
  'accept-encoding',
  'referer',
  'sec-fetch-mode',
  'sec-fetch-site',
  'sec-fetch-dest',
]);

const UNSAFE_BYTE = /[\x00-\x08\x0a-\x1f"():<>?@[\\\]{}\x7f]/;
const SAFELISTED_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/** Fetch's CORS-safelisted request-header test for one header. */
function safelisted(name: string, value: string): boolean {
  if (value.length > 128) return false;
  switch (name) {
    case 'accept':
      return !UNSAFE_BYTE.test(value);
    case 'accept-language':
    case 'content-language':
      return /^[0-9A-Za-z *,\-.;=]*$/.test(value);
    case 'content-type':
      return !UNSAFE_BYTE.test(value) && SAFELISTED_TYPES.includes(lower(value.split(';')[0].trim()));
    case 'range':
      return /^bytes=\d+-\d*$/.test(value.trim());
    default:
      return false;
  }
}

/** Fetch's "CORS-unsafe request-header names": lower-case, sorted, without duplicates. */
export function unsafeHeaderNames(headers: NameValue[]): string[] {
  const scripted = headers.filter((h) => !browserSet(lower(h.name)));
  const safe = scripted.filter((h) => safelisted(lower(h.name), h.value));
  // Above 1024 bytes of safelisted values, every one of them needs the preflight.
  const tooLong = safe.reduce((n, h) => n + h.value.length, 0) > 1024;
  const unsafe = scripted.filter((h) => tooLong || !safe.includes(h)).map((h) => lower(h.name));
  return [...new Set(unsafe)].sort();
}

const SAFELISTED_METHODS = ['GET', 'HEAD', 'POST'];
const NORMALISED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
const methodOf = (req: ExchangeRequest) =>
  NORMALISED_METHODS.includes(req.method.toUpperCase()) ? req.method.toUpperCase() : req.method;

function originOf(ctx: ProbeContext): { value: string; label: string } | undefined {
  const sent = headerValue(ctx.original.headers, 'origin');
  if (sent) return { value: sent, label: 'the request’s Origin' };
  if (ctx.options.origin) return { value: ctx.options.origin, label: '--origin' };
  return undefined;
}

/** A browser sends cookies cross-origin only in credentials mode "include": the request's Cookie says it did. */
const credentialed = (req: ExchangeRequest) => headerValue(req.headers, 'cookie') !== undefined;

function preflightRequest(ctx: ProbeContext): ProbeRequest | undefined {
  const origin = originOf(ctx);
  if (!origin) return undefined;
  const orig = ctx.original;
  const sentOrigin = headerValue(orig.headers, 'origin') !== undefined;
  const kept = orig.headers.filter(
    (h) =>
      PREFLIGHT_KEEPS.has(lower(h.name)) ||
      (lower(h.name) === 'accept' && h.value.trim() === '*/*') ||
      lower(h.name) === 'origin',
  );
  const removed = orig.headers.filter((h) => !kept.includes(h)).map((h) => `header:${h.name}`);
  const unsafe = unsafeHeaderNames(orig.headers);
  const headers: NameValue[] = [
    ...kept,
    ...(sentOrigin ? [] : [{ name: 'Origin', value: origin.value }]),
    { name: 'Access-Control-Request-Method', value: methodOf(orig) },
    ...(unsafe.length ? [{ name: 'Access-Control-Request-Headers', value: unsafe.join(',') }] : []),
  ];
  const added = [
    ...(sentOrigin ? [] : [`header:Origin (${origin.label})`]),
    'header:Access-Control-Request-Method',
    ...(unsafe.length ? ['header:Access-Control-Request-Headers'] : []),
  ];
  const request: ExchangeRequest = { method: 'OPTIONS', url: orig.url, headers };
  return { request, removed: [...new Set([...removed, ...(orig.postData?.text ? ['body'] : [])])], added };
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

interface Verdict {
  /** What the browser blocks, in its own terms; empty when it lets the request through. */
  blocks: string[];
  /** What the answer allows, for the meaning line. */
  allows: string[];
  notes: string[];
}

/** Fetch's CORS check (Allow-Origin, Allow-Credentials) on one response. */
function corsCheck(res: Exchange['response'], origin: string, withCredentials: boolean): string[] {
  const acao = headerValue(res.headers, 'access-control-allow-origin');
  if (acao === undefined) return [`the answer has no Access-Control-Allow-Origin; the browser blocks the response`];
  const v = acao.trim();
  if (v.includes(','))
    return [
      `Access-Control-Allow-Origin has more than one value (${v}); the browser accepts exactly one; the browser blocks the response`,
    ];
  if (v === '*')
    return withCredentials
      ? [
          `Access-Control-Allow-Origin is *, which the browser does not accept for a request with credentials (cookies); the browser blocks the response`,
        ]
      : [];
  if (v !== origin)
    return [
      `Access-Control-Allow-Origin is ${v}, not ${origin}${lower(v) === lower(origin) ? ' (the browser compares it byte for byte)' : ''}; the browser blocks the response`,
    ];
  if (!withCredentials) return [];
  const acac = headerValue(res.headers, 'access-control-allow-credentials')?.trim();
  if (acac !== 'true')
    return [
      `the request carries cookies but Access-Control-Allow-Credentials is ${acac === undefined ? 'absent' : `"${acac}"`}, not "true"; the browser blocks the response`,
    ];
  return [];
}

function judgePreflight(ex: Exchange, orig: ExchangeRequest, origin: string, simple: boolean): Verdict {
  const res = ex.response;
  const withCredentials = credentialed(orig);
  const blocks: string[] = [];
  const allows: string[] = [];
  const notes: string[] = [];
  if (res.status < 200 || res.status > 299)
    blocks.push(`the preflight was answered ${res.status}, not an ok (2xx) status; the browser blocks the request`);
  blocks.push(...corsCheck(res, origin, withCredentials));
  if (!blocks.length) allows.push(`origin ${origin}${withCredentials ? ' with credentials' : ''}`);
  // A simple request is not preflighted: only the origin check above applies to it.
  if (!simple) {
    const method = methodOf(orig);
    const methods = list(headerValue(res.headers, 'access-control-allow-methods'));
    const wildcard = methods.includes('*') && !withCredentials;
    if (!SAFELISTED_METHODS.includes(method) && !methods.includes(method) && !wildcard) {
      const near = methods.find((m) => lower(m) === lower(method));
      blocks.push(
        methods.length
          ? `Access-Control-Allow-Methods is ${methods.join(', ')}; it does not include ${method}${near ? ` (the browser compares methods case-sensitively: ${near} is not ${method})` : methods.includes('*') ? ' (* does not count for a request with credentials)' : ''}; the browser blocks the request`
          : `the answer has no Access-Control-Allow-Methods, so only GET, HEAD and POST are allowed, not ${method}; the browser blocks the request`,
      );
    } else allows.push(`method ${method}`);
    const allowed = list(headerValue(res.headers, 'access-control-allow-headers')).map(lower);
    const headerWildcard = allowed.includes('*') && !withCredentials;
    const needed = unsafeHeaderNames(orig.headers);
    // Authorization is never covered by `*` (Fetch's "CORS non-wildcard request-header name").
    const missing = needed.filter((n) => !allowed.includes(n) && (!headerWildcard || n === 'authorization'));
    if (missing.length)
      blocks.push(
        `Access-Control-Allow-Headers ${allowed.length ? `is ${allowed.join(', ')}; it does not include ${missing.join(', ')}` : `is absent, so ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not allowed`}${missing.includes('authorization') && allowed.includes('*') ? ' (* never covers authorization)' : ''}; the browser blocks the request`,
      );
    else if (needed.length) allows.push(`headers ${needed.join(', ')}`);
    const maxAge = headerValue(res.headers, 'access-control-max-age');
    if (!blocks.length) {
      if (maxAge === undefined)
        notes.push('no Access-Control-Max-Age: the browser keeps this preflight 5 seconds and repeats it after that');
      else if (!/^\d+$/.test(maxAge.trim()))
        notes.push(
          `Access-Control-Max-Age "${maxAge}" is not a number of seconds; the browser keeps the preflight 5 seconds`,
        );
      else if (Number(maxAge) > 7200)
        notes.push(`Access-Control-Max-Age is ${maxAge}s; Chromium keeps a preflight at most 7200s, Firefox 86400s`);
      else notes.push(`Access-Control-Max-Age ${maxAge}s: the browser reuses this preflight that long`);
    }
  }
  return { blocks, allows, notes };
}

export default defineProbe({
  name: NAME,
  separates: ['cors'],
  order: 25,
  maxRequests: 1,
  applies(ctx) {
    if (!originOf(ctx))
      return 'the request carries no Origin header and --origin was not given, so there is no cross-origin request to preflight';
    return true;
  },
  plan(ctx) {
    const req = preflightRequest(ctx);
    return req ? [req] : [];
  },
  async run(ctx, send) {
    const origin = originOf(ctx);
    const req = preflightRequest(ctx);
    if (!origin || !req) return [];
    const orig = ctx.original;
    const method = methodOf(orig);
    const simple = SAFELISTED_METHODS.includes(method) && unsafeHeaderNames(orig.headers).length === 0;
    const ex = await send(NAME, req);
    if (!ex) return [];
    const verdict = judgePreflight(ex, orig, origin.value, simple);
    const status = ex.response.status;
    const claims: CauseClaim[] = [];
    const evidence = (text: string) => [{ source: SOURCE, text }];
    const lead = `preflight OPTIONS from ${origin.value} for ${method}${simple ? ' (a browser sends this simple request without a preflight; the answer shows the server’s origin policy)' : ''}: ${status}`;
    let meaning: string;
    if (verdict.blocks.length) {
      const refused = status === 401 || status === 403;
      const noAcao = !headerValue(ex.response.headers, 'access-control-allow-origin');
      const acao = headerValue(ex.response.headers, 'access-control-allow-origin')?.trim();
      const otherOrigin = acao !== undefined && acao !== '*' && acao !== origin.value;
      // Refused outright or answered for another origin: the origin policy said no.
      // An answer without any CORS header may be a server that does not do CORS at all.
      // A simple request with a state-changing method (a form POST) is sent by
      // the browser whatever CORS says; a 403 to it is the server's own check
      // (a CSRF defence by origin, say), which the csrf probe tests. The
      // preflight then only hints at the origin policy.
      const stateChanging = simple && !['GET', 'HEAD'].includes(method);
      const weight = stateChanging
        ? 0.2
        : refused || otherOrigin
          ? 0.85
          : status >= 200 && status <= 299 && noAcao
            ? 0.6
            : simple
              ? 0.5
              : 0.6;
      meaning = `${lead} — ${verdict.blocks[0]}`;
      claims.push({
        id: 'cors',
        weight,
        summary: `The server’s CORS policy does not admit ${origin.value}: ${verdict.blocks.join('; ')}.`,
        evidence: verdict.blocks.map((b) => ({ source: SOURCE, text: b })),
        gap: {
          required: requiredOf(ex, orig, origin.value, simple),
          held: [
            `Origin: ${origin.value}`,
            `method ${method}`,
            ...unsafeHeaderNames(orig.headers).map((h) => `header ${h}`),
          ],
        },
        fixes: [
          {
            title: `Allow ${origin.value} in the server’s CORS configuration${simple ? '' : ` for ${method}${unsafeHeaderNames(orig.headers).length ? ` with ${unsafeHeaderNames(orig.headers).join(', ')}` : ''}`}, and answer the OPTIONS preflight before any authentication check`,
            difficulty: 'medium',
            verify: `curl -si -X OPTIONS '${redactUrl(orig.url)}' -H 'Origin: ${origin.value}' -H 'Access-Control-Request-Method: ${method}' | grep -i '^access-control-allow'`,
          },
        ],
      });
    } else {
      meaning = `${lead} — allows ${verdict.allows.join(', ')}: a browser would send the request, so the denial is not the origin policy`;
      claims.push({
        id: 'cors',
        weight: -0.8,
        summary: `The preflight admits ${origin.value}: ${verdict.allows.join(', ')}.`,
        evidence: evidence(meaning),
      });
    }
    // The browser also judges the actual response: the user's own answer, when the server saw the Origin.
    if (headerValue(orig.headers, 'origin') !== undefined) {
      const actual = corsCheck(ctx.first.response, origin.value, credentialed(orig));
      if (actual.length) {
        const text = `the ${ctx.first.response.status} itself: ${actual[0].replace('; the browser blocks the response', '')}, so a page sees a CORS error instead of the ${ctx.first.response.status}`;
        verdict.notes.push(text);
        if (simple && ['GET', 'HEAD'].includes(method))
          claims.push({
            id: 'cors',
            weight: 0.3,
            summary: `The ${ctx.first.response.status} carries no CORS approval for ${origin.value}.`,
            evidence: evidence(text),
          });
      } else {
        const text = `the ${ctx.first.response.status} itself carries Access-Control-Allow-Origin for ${origin.value}: the origin policy admitted the request and something else denied it`;
        verdict.notes.push(text);
        claims.push({
          id: 'cors',
          weight: -0.7,
          summary: `The server approved ${origin.value} on the denial itself.`,
          evidence: evidence(text),
        });
      }
    }
    if (verdict.notes.length) meaning += ` (${verdict.notes.join('; ')})`;
    const finding: ProbeFinding = {
      result: {
        name: NAME,
        status,
        meaning,
        request: { method: req.request.method, url: req.request.url, removed: req.removed, added: req.added },
        ...(verdict.blocks.length ? { confirms: ['cors' as const] } : {}),
        ...(!verdict.blocks.length ? { rulesOut: ['cors' as const] } : {}),
      },
      claims,
    };
    return [finding];
  },
});

/** What the browser needed to see, for the report's gap. */
function requiredOf(ex: Exchange, orig: ExchangeRequest, origin: string, simple: boolean): string[] {
  const out = [
    `a 2xx answer to the preflight (got ${ex.response.status})`,
    `Access-Control-Allow-Origin: ${credentialed(orig) ? origin : `${origin} or *`}`,
  ];
  if (credentialed(orig)) out.push('Access-Control-Allow-Credentials: true');
  if (!simple) {
    const method = methodOf(orig);
    if (!SAFELISTED_METHODS.includes(method)) out.push(`Access-Control-Allow-Methods including ${method}`);
    const needed = unsafeHeaderNames(orig.headers);
    if (needed.length) out.push(`Access-Control-Allow-Headers including ${needed.join(', ')}`);
  }
  return out;
}
