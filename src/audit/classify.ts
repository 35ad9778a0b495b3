// What one answer was, read for authorization. The status decides most
// answers; a 2xx or 3xx is read further, because many APIs refuse with a
// success status: a redirect to a login page, a login form, a JSON body whose
// error says "forbidden". Counting those as allowed is the best-known blind
// spot of status-only authorization testers; here they are denials
// ("denied-by-body"), with the words or rule that said so. The audit file's
// `deniedWhen` rules are checked first; the built-in readings are deliberately
// narrow (small bodies, error-shaped fields near the top) so that a record
// which merely mentions "forbidden" is not read as a refusal.
import { headerValue, type NameValue } from '../model/exchange.ts';
import { isDenial } from '../engine/status.ts';
import type { BodyDenial, Verdict } from './model.ts';

export interface Answer {
  status: number;
  headers: NameValue[];
  body?: { text: string; mimeType: string };
}

export interface Reading {
  verdict: Exclude<Verdict, 'hidden' | 'skipped'>;
  /** For denied-by-body: what said no ("json error = forbidden", "redirect to /login"). */
  why?: string;
}

/** Words that refuse. Anchored on whole words; bounded alternations only (no nested quantifiers). */
const REFUSAL =
  /\b(?:forbidden|unauthori[sz]ed|access[ _-]denied|permission[ _-]denied|not[ _-]allowed|not[ _-]authori[sz]ed|not[ _-]permitted|insufficient[ _-](?:scope|permissions?|privileges?)|no[ _-]permission|(?:login|authentication|sign[ _-]?in)[ _-]required|(?:please[ _-])?(?:log|sign)[ _-]?in[ _-](?:first|to[ _-]continue))\b/i;

/** Fields an error body keeps its verdict in. */
const ERROR_FIELDS = ['error', 'code', 'status', 'message', 'detail', 'reason', 'error_description', 'title', 'type'];

/** A JSON body larger than this is a resource, not an error document. */
const MAX_ERROR_BODY = 8 * 1024;

/** Where a login page lives: a redirect there means "authenticate first". */
const LOGIN_PATH =
  /(?:^|\/)(?:log-?in|sign-?in|signon|sso|auth(?:enticate|orize)?|oauth2?|saml|cas|account\/login|unauthori[sz]ed|forbidden|access-denied|denied)(?:[/.?#]|$)/i;

export function classify(a: Answer, deniedWhen: readonly BodyDenial[]): Reading {
  const s = a.status;
  if (isDenial(s)) return { verdict: 'denied' };
  if (s === 404 || s === 410) return { verdict: 'not-found' };
  if (s === 429) return { verdict: 'rate-limited' };
  if (s < 200 || s >= 400) return { verdict: 'error' };
  const byRule = matchRules(a, deniedWhen);
  if (byRule) return { verdict: 'denied-by-body', why: byRule };
  const byReading = s >= 300 ? refusingRedirect(a) : refusingBody(a);
  return byReading ? { verdict: 'denied-by-body', why: byReading } : { verdict: 'allowed' };
}

function matchRules(a: Answer, rules: readonly BodyDenial[]): string | undefined {
  if (!rules.length) return undefined;
  const text = a.body?.text ?? '';
  let json: unknown;
  let parsed = false;
  for (const r of rules) {
    if (r.bodyContains !== undefined && text.toLowerCase().includes(r.bodyContains.toLowerCase()))
      return `the body contains "${r.bodyContains}"`;
    if (r.redirectTo !== undefined && a.status >= 300) {
      const path = locationPath(a);
      if (path?.startsWith(r.redirectTo)) return `redirect to ${path}`;
    }
    if (r.json) {
      if (!parsed) {
        parsed = true;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      const v = atPath(json, r.json.path);
      if (v !== undefined && v === r.json.equals) return `JSON ${r.json.path} = ${JSON.stringify(v)}`;
    }
  }
  return undefined;
}

/** A dotted path: `error.code`, `errors.0.code`. */
export function atPath(v: unknown, path: string): unknown {
  let cur = v;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function locationPath(a: Answer): string | undefined {
  const loc = headerValue(a.headers, 'location');
  if (!loc) return undefined;
  try {
    return new URL(loc, 'http://x').pathname;
  } catch {
    return undefined;
  }
}

function refusingRedirect(a: Answer): string | undefined {
  const path = locationPath(a);
  return path && LOGIN_PATH.test(path) ? `redirect to ${path}` : undefined;
}

function refusingBody(a: Answer): string | undefined {
  const body = a.body;
  if (!body || !body.text || body.text.length > MAX_ERROR_BODY) return undefined;
  const mime = body.mimeType.toLowerCase();
  const text = body.text.trim();
  if (mime.includes('json') || text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    return refusingJson(json);
  }
  if (mime.includes('html')) return refusingHtml(text);
  if (mime.startsWith('text/') && text.length <= 512 && REFUSAL.test(text)) return `the body says "${clipText(text)}"`;
  return undefined;
}

/** `{"error":"forbidden"}`, `{"success":false,"message":"Not authorized"}`, `{"errors":[{"code":"FORBIDDEN"}]}`. */
function refusingJson(json: unknown): string | undefined {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const top = json as Record<string, unknown>;
  const candidates: [string, unknown][] = [];
  for (const f of ERROR_FIELDS) if (f in top) candidates.push([f, top[f]]);
  // One level down: {"error":{"code":"forbidden"}} and {"errors":[{…}]}.
  for (const holder of ['error', 'errors']) {
    const h = top[holder];
    const inner = Array.isArray(h) ? h[0] : h;
    if (inner && typeof inner === 'object')
      for (const f of ERROR_FIELDS)
        if (f in inner)
          candidates.push([`${holder}${Array.isArray(h) ? '[0]' : ''}.${f}`, (inner as Record<string, unknown>)[f]]);
  }
  for (const [path, v] of candidates)
    if (typeof v === 'string' && v.length <= 500 && REFUSAL.test(v))
      return `JSON ${path} = ${JSON.stringify(clipText(v))}`;
  return undefined;
}

function refusingHtml(html: string): string | undefined {
  // A login form: a password field is what a page asking for credentials has.
  if (/<input\b[^>]{0,500}\btype\s*=\s*["']?password\b/i.test(html)) return 'a login form (a password field)';
  const title = /<title[^>]{0,200}>([^<]{0,300})<\/title>/i.exec(html)?.[1]?.trim();
  if (title && REFUSAL.test(title)) return `the page title "${clipText(title)}"`;
  return undefined;
}

const clipText = (s: string) => (s.length > 80 ? s.slice(0, 79) + '…' : s);
