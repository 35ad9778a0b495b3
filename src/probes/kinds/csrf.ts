// Whether a denied state-changing request was denied by a CSRF check, and
// which of its CSRF inputs the denial follows: the anti-forgery token (a
// header or a form field), the CSRF cookie it is paired with, Origin, Referer.
//
// The logic. The original request was denied, so "remove X and see whether it
// is denied" proves little on its own; what tells is how the answer without X
// compares with the answer with it. A CSRF middleware runs before the
// application's own checks, so:
//  - Without X the request is allowed: the denial follows X itself (a stale
//    token the server rejects but does not require; an Origin it distrusts).
//  - Without X the server gives a CSRF failure, and with X it gave some other
//    denial: with X the CSRF check passed and the denial came from further
//    in. That rules csrf out.
//  - Both answers are CSRF failures but differ ("token missing" vs "token
//    incorrect"): the server reads X and rejects it either way: csrf, and X is
//    the input that fails.
//  - The same CSRF failure with and without X: it is a CSRF failure, but
//    not one that tells about X: the X sent may count for nothing (a stale
//    token, when the server words "missing" and "wrong" alike, as csurf does)
//    or another input fails the check first (an Origin checked before the
//    token). Another removal decides which.
//  - The same denial with and without X, on a page that names no CSRF
//    failure: no evidence either way. A CSRF check that fails with a bad token
//    fails without one too, and a non-CSRF denial ignores X: both hypotheses
//    predict exactly this outcome.
// One request per input present, at most four; only with --allow-unsafe,
// since each one replays the user's own state-changing request.
import { headerValue, type Exchange, type ExchangeRequest } from '../../model/exchange.ts';
import type { CauseClaim } from '../../model/rule.ts';
import { decodeBody } from '../../engine/context.ts';
import { defineProbe, type ProbeContext, type ProbeFinding, type ProbeRequest } from '../define.ts';
import { withoutCookies, withoutHeaders } from '../vary.ts';

const NAME = 'csrf';
const SOURCE = `probe:${NAME}`;
const lower = (s: string) => s.toLowerCase();
const SAFE = ['GET', 'HEAD', 'OPTIONS'];

// Header and form-field names of the frameworks' anti-forgery tokens: Express
// csurf and Spring (_csrf, X-CSRF-Token, X-XSRF-TOKEN), Django
// (csrfmiddlewaretoken, X-CSRFToken), Rails (authenticity_token,
// X-CSRF-Token), Laravel (_token, X-XSRF-TOKEN), ASP.NET
// (__RequestVerificationToken).
const TOKEN_HEADER = /^(x-)?(csrf|xsrf)[-_]?token$/i;
const TOKEN_FIELDS = new Set([
  '_csrf',
  'csrf_token',
  'csrfmiddlewaretoken',
  'authenticity_token',
  '_token',
  '__requestverificationtoken',
]);
const CSRF_COOKIE = /csrf|xsrf|antiforgery|requestverificationtoken/i;
const CSRF_TEXT =
  /csrf|xsrf|forgery|authenticity[ _-]?token|antiforgery|request ?verification ?token|referr?er check|origin check|page expired/i;

type InputKind = 'token' | 'cookie' | 'origin' | 'referer';

interface Input {
  kind: InputKind;
  /** "the CSRF token (header:X-CSRFToken)". */
  label: string;
  vary: ProbeRequest;
}

function isForm(req: ExchangeRequest): boolean {
  const type = req.postData?.mimeType || headerValue(req.headers, 'content-type') || '';
  return /application\/x-www-form-urlencoded/i.test(type) && typeof req.postData?.text === 'string';
}

const fieldName = (pair: string) => {
  const raw = pair.split('=')[0];
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
};

/** The form body's token fields, kept verbatim otherwise so the guard sees a subset of the user's form. */
function withoutTokenFields(req: ExchangeRequest): ProbeRequest {
  if (!isForm(req)) return { request: req, removed: [], added: [] };
  const pairs = req.postData!.text!.split('&');
  const removed = pairs.filter((p) => TOKEN_FIELDS.has(lower(fieldName(p)))).map((p) => `body:${fieldName(p)}`);
  const text = pairs.filter((p) => !TOKEN_FIELDS.has(lower(fieldName(p)))).join('&');
  return {
    request: { ...req, postData: { mimeType: req.postData!.mimeType, text } },
    removed: [...new Set(removed)],
    added: [],
  };
}

function inputsOf(req: ExchangeRequest): Input[] {
  const inputs: Input[] = [];
  const headerTokens = req.headers.filter((h) => TOKEN_HEADER.test(h.name));
  const byHeader = withoutHeaders(req, (h) => TOKEN_HEADER.test(h.name));
  const both = withoutTokenFields(byHeader.request);
  if (headerTokens.length || both.removed.length) {
    const removed = [...byHeader.removed, ...both.removed];
    inputs.push({
      kind: 'token',
      label: `the CSRF token (${removed.join(', ')})`,
      vary: { request: both.request, removed, added: [] },
    });
  }
  const cookies = withoutCookies(
    req,
    cookieNamesOf(req).filter((n) => CSRF_COOKIE.test(n)),
  );
  if (cookies.removed.length)
    inputs.push({ kind: 'cookie', label: `the CSRF cookie (${cookies.removed.join(', ')})`, vary: cookies });
  for (const [kind, name] of [
    ['origin', 'Origin'],
    ['referer', 'Referer'],
  ] as const)
    if (headerValue(req.headers, name) !== undefined)
      inputs.push({ kind, label: `the ${name} header`, vary: withoutHeaders(req, (h) => lower(h.name) === kind) });
  return inputs;
}

function cookieNamesOf(req: ExchangeRequest): string[] {
  const names = req.headers
    .filter((h) => lower(h.name) === 'cookie')
    .flatMap((h) => h.value.split(/;\s*/).map((p) => p.split('=')[0].trim()));
  return [...new Set(names.filter(Boolean))];
}

interface Answer {
  status: number;
  /** Visible text, whitespace collapsed: what a person reads on the page. */
  text: string;
  lines: string[];
  /** The line naming a CSRF failure, when the answer has one. */
  csrf?: string;
}

const clip = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}…` : s);

/** The first line of `a` that `b` lacks: where two failure pages differ is the reason each gives. */
function reasonOf(a: Answer, b: Answer): string {
  const own = a.lines.filter((l) => !b.lines.some((m) => normalise(m) === normalise(l)));
  // Failure pages put the headline first and the particular reason last.
  return clip(own.findLast((l) => CSRF_TEXT.test(l)) ?? own[0] ?? a.csrf ?? a.lines[0] ?? '');
}

/**
 * Replaces each <script>…</script> and <style>…</style> (any case) with a space,
 * as `/<(script|style)[\s\S]*?<\/\1>/gi` did, without its rescans: that regex
 * searched the rest of the body again from every unclosed `<script`. Here an
 * element's end is searched for once; when one has none, no later element of
 * that name has either.
 */
function dropScriptsAndStyles(html: string): string {
  const open = /<(script|style)/gi;
  const unclosed = new Set<string>();
  let out = '';
  let last = 0;
  for (let m = open.exec(html); m && unclosed.size < 2; m = open.exec(html)) {
    const name = m[1].toLowerCase();
    if (unclosed.has(name)) continue;
    const end = name === 'script' ? /<\/script>/gi : /<\/style>/gi;
    end.lastIndex = open.lastIndex;
    const e = end.exec(html);
    if (!e) {
      unclosed.add(name);
      continue;
    }
    out += `${html.slice(last, m.index)} `;
    last = open.lastIndex = e.index + e[0].length;
  }
  return out + html.slice(last);
}

function answerOf(ex: Exchange): Answer {
  const text = dropScriptsAndStyles(decodeBody(ex))
    // Tags (with their attributes: a layout's <meta name="csrf-token"> is no CSRF failure) go.
    .replace(/<[^<>]*>/g, '\n');
  const lines = text
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  const csrf = lines.find((l) => CSRF_TEXT.test(l));
  return { status: ex.response.status, text: lines.join(' '), lines, ...(csrf ? { csrf: clip(csrf) } : {}) };
}

// Request ids, timestamps and nonces differ between two answers to the same request.
const normalise = (s: string) => s.replace(/[0-9a-f]{8,}/gi, '#').replace(/\d+/g, '#');
const sameAnswer = (a: Answer, b: Answer) => a.status === b.status && normalise(a.text) === normalise(b.text);
const allowed = (a: Answer) => a.status < 400;

interface Judgement {
  weight: number;
  meaning: string;
  follows: boolean;
}

function judge(input: Input, before: Answer, after: Answer): Judgement {
  const credential = input.kind === 'token' || input.kind === 'cookie';
  const what = input.label;
  const got = `without ${what}: ${after.status}`;
  if (allowed(after))
    return {
      weight: 0.85,
      follows: true,
      meaning: `${got}, allowed — the denial follows ${what}: the server rejects the value it got and does not require one`,
    };
  if (sameAnswer(before, after)) {
    if (before.csrf)
      return credential
        ? {
            weight: 0.4,
            follows: false,
            meaning: `${got}, the same CSRF failure ("${before.csrf}") — it does not depend on ${what} being there: either the one sent counts for nothing (stale, or not paired with the ${input.kind === 'token' ? 'CSRF cookie' : 'token'}) or another input fails the check first`,
          }
        : { weight: 0, follows: false, meaning: `${got}, the same CSRF failure — the failure is not about ${what}` };
    return {
      weight: 0,
      follows: false,
      meaning: `${got}, the same denial — removing ${what} changes nothing; on a page that names no CSRF failure that tells neither way`,
    };
  }
  if (after.csrf && !before.csrf)
    return {
      weight: credential ? -0.8 : -0.6,
      follows: false,
      meaning: `${got}, a CSRF failure ("${reasonOf(after, before)}") — with ${what} the CSRF check passed, so the ${before.status} comes from a later check, not CSRF`,
    };
  if (after.csrf && before.csrf)
    return {
      weight: credential ? 0.8 : 0.6,
      follows: true,
      meaning: `${got}, a different CSRF failure ("${reasonOf(after, before)}" instead of "${reasonOf(before, after)}") — the server reads ${what} and rejects it: the CSRF check is what denies`,
    };
  if (before.csrf)
    return {
      weight: 0.75,
      follows: true,
      meaning: `${got}, no longer a CSRF failure — the CSRF failure follows ${what}; without it another check denies`,
    };
  return {
    weight: 0,
    follows: false,
    meaning: `${got} instead of ${before.status} — the server reads ${what}, but neither answer names a CSRF check`,
  };
}

function unsafeMethod(ctx: ProbeContext): string | undefined {
  const m = ctx.original.method.toUpperCase();
  return SAFE.includes(m) ? undefined : m;
}

function applies(ctx: ProbeContext): true | string {
  const method = unsafeMethod(ctx);
  if (!method) return `CSRF checks guard state-changing requests; ${ctx.original.method.toUpperCase()} is not one`;
  if (!ctx.options.allowUnsafe) return `replaying ${method} needs --allow-unsafe`;
  if (!inputsOf(ctx.original).length)
    return 'the request carries no CSRF token, CSRF cookie, Origin or Referer to remove';
  return true;
}

export default defineProbe({
  name: NAME,
  separates: ['csrf'],
  order: 40,
  maxRequests: 4,
  applies,
  plan(ctx) {
    return inputsOf(ctx.original).map((i) => i.vary);
  },
  async run(ctx, send) {
    if (applies(ctx) !== true) return [];
    const before = answerOf(ctx.first);
    const findings: ProbeFinding[] = [];
    const followed: string[] = [];
    for (const input of inputsOf(ctx.original).slice(0, 4)) {
      const ex = await send(NAME, input.vary);
      if (!ex) break;
      const j = judge(input, before, answerOf(ex));
      if (j.follows) followed.push(input.label);
      const claims: CauseClaim[] = j.weight
        ? [
            {
              id: 'csrf',
              weight: j.weight,
              summary:
                j.weight > 0
                  ? `The denial follows ${input.label}: a CSRF check fails.`
                  : `The denial is not the CSRF check (${input.label} tells).`,
              evidence: [{ source: SOURCE, text: j.meaning }],
              ...(j.weight > 0 && (input.kind === 'token' || input.kind === 'cookie')
                ? {
                    fixes: [
                      {
                        title:
                          'Fetch a fresh CSRF token and cookie from the same session (reload the form page) and send them together',
                        difficulty: 'easy' as const,
                        verify: 'the same request with the fresh pair is no longer answered with a CSRF failure',
                      },
                    ],
                  }
                : j.weight > 0
                  ? {
                      fixes: [
                        {
                          title: `Add the site you post from to the server’s trusted origins (e.g. Django CSRF_TRUSTED_ORIGINS), or send the request from the same origin`,
                          difficulty: 'medium' as const,
                        },
                      ],
                    }
                  : {}),
            },
          ]
        : [];
      findings.push({
        result: {
          name: NAME,
          status: ex.response.status,
          meaning: j.meaning,
          request: {
            method: input.vary.request.method,
            url: input.vary.request.url,
            removed: input.vary.removed,
            added: input.vary.added,
          },
          ...(j.weight > 0 ? { confirms: ['csrf' as const] } : j.weight <= -0.6 ? { rulesOut: ['csrf' as const] } : {}),
        },
        claims,
      });
    }
    const last = findings.at(-1);
    if (last && findings.length > 1)
      last.result.meaning += followed.length
        ? ` (over all: the denial follows ${followed.join(' and ')})`
        : ' (over all: the denial follows none of the CSRF inputs)';
    return findings;
  },
});
