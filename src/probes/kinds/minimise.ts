// Minimisation: the smallest set of things the user sent (headers, cookies,
// query parameters) whose removal turns the denial into something else, by
// delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating
// Failure-Inducing Input", IEEE TSE 2002: ddmin). Here the "input" is the set
// of removals, and a set is interesting when the request without it gets a
// different status: ddmin halves, tries complements, and refines until
// removing any single member of the set no longer changes the answer.
//
// Two passes. Removing a credential almost always turns a 403 into a 401,
// which says only that the server read the credential (the without-credential
// probe's ground) and would hide a User-Agent rule behind it. So the first
// pass removes only what carries no credential; the second, run only when the
// first changes nothing and the request carries a session cookie or a
// credential in the query, looks for a credential whose removal lets the
// request through (a stale session on a public page), and there a 401 or 403
// does not count as a change.
import type { ExchangeRequest } from '../../model/exchange.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import type { CauseClaim } from '../../model/rule.ts';
import { isSecretHeader, isSecretParam } from '../../credentials/redact.ts';
import { defineProbe, type ProbeContext, type ProbeFinding, type ProbeRequest, type Send } from '../define.ts';
import { combine, withoutCookies, withoutHeaders, withoutQuery } from '../vary.ts';
import { CALLER } from '../compare.ts';

const NAME = 'minimise';
const SOURCE = `probe:${NAME}`;
const lower = (s: string) => s.toLowerCase();
const SAFE = ['GET', 'HEAD', 'OPTIONS'];

// What HTTP itself needs, or what is rebuilt from the rest; Cookie is taken
// apart into its cookies; Proxy-Authorization is for the proxy, not the server.
const KEEP = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'cookie',
  'proxy-authorization',
  'te',
  'upgrade',
  'expect',
]);
// The session-cookie names credential inspection uses (src/credentials/request-parts.ts).
const SESSION_COOKIE = /sess|(^|[._-])sid$|^sid|auth|token|jwt|identity|remember|login/i;
const CSRF_COOKIE = /csrf|xsrf|antiforgery|requestverificationtoken/i;

type ItemKind = 'header' | 'cookie' | 'query';
interface Item {
  kind: ItemKind;
  /** As the user spelled it. */
  name: string;
  credential: boolean;
}

const idOf = (i: Item) => `${i.kind}:${i.kind === 'header' ? lower(i.name) : i.name}`;

function itemsOf(ctx: ProbeContext): Item[] {
  const req = ctx.original;
  const located = new Set(ctx.report.credential.items.map((i) => lower(i.location)));
  const cookieItem = ctx.report.credential.items.find((i) => i.kind === 'cookie');
  const sessions = Array.isArray(cookieItem?.claims?.session) ? (cookieItem!.claims!.session as string[]) : undefined;
  const hasBody = Boolean(req.postData?.text);
  const items: Item[] = [];
  const seen = new Set<string>();
  const push = (i: Item) => {
    if (seen.has(idOf(i))) return;
    seen.add(idOf(i));
    items.push(i);
  };
  for (const h of req.headers) {
    const n = lower(h.name);
    if (KEEP.has(n) || n.startsWith(':') || (hasBody && n === 'content-type')) continue;
    push({ kind: 'header', name: h.name, credential: isSecretHeader(n) || located.has(`header:${n}`) });
  }
  for (const h of req.headers)
    if (lower(h.name) === 'cookie')
      for (const pair of h.value.split(/;\s*/)) {
        const name = pair.split('=')[0].trim();
        if (!name) continue;
        const session = sessions ? sessions.includes(name) : !CSRF_COOKIE.test(name) && SESSION_COOKIE.test(name);
        push({ kind: 'cookie', name, credential: session });
      }
  let url: URL | undefined;
  try {
    url = new URL(req.url);
  } catch {
    url = undefined;
  }
  for (const [name, value] of url?.searchParams ?? [])
    push({ kind: 'query', name, credential: isSecretParam(name, value) || located.has(lower(`query:${name}`)) });
  return items;
}

function without(req: ExchangeRequest, items: Item[]): ProbeRequest {
  let p: ProbeRequest = { request: req, removed: [], added: [] };
  const headers = new Set(items.filter((i) => i.kind === 'header').map((i) => lower(i.name)));
  const cookies = items.filter((i) => i.kind === 'cookie').map((i) => i.name);
  const query = items.filter((i) => i.kind === 'query').map((i) => i.name);
  if (headers.size) p = combine(p, (r) => withoutHeaders(r, (h) => headers.has(lower(h.name))));
  if (cookies.length) p = combine(p, (r) => withoutCookies(r, cookies));
  if (query.length) p = combine(p, (r) => withoutQuery(r, query));
  return p;
}

function describe(items: Item[]): string {
  const one = (i: Item) =>
    i.kind === 'header'
      ? `the ${i.name} header`
      : i.kind === 'cookie'
        ? `the cookie ${i.name}`
        : `the query parameter ${i.name}`;
  if (items.length === 1) return one(items[0]);
  if (items.length <= 4) return `${items.slice(0, -1).map(one).join(', ')} and ${one(items.at(-1)!)} together`;
  return `${items.length} items (${items.map(idOf).join(', ')})`;
}

/**
 * ddmin over `items`, given that removing all of them is interesting. Returns
 * the smallest interesting set found, and whether ddmin finished (it stops
 * early when `test` answers undefined: the budget is spent).
 */
export async function ddmin<T>(
  items: T[],
  test: (subset: T[]) => Promise<boolean | undefined>,
): Promise<{ set: T[]; complete: boolean }> {
  let c = items;
  let n = 2;
  while (c.length >= 2) {
    const size = Math.ceil(c.length / n);
    const parts: T[][] = [];
    for (let i = 0; i < c.length; i += size) parts.push(c.slice(i, i + size));
    let next: { set: T[]; n: number } | undefined;
    for (const part of parts) {
      const r = await test(part);
      if (r === undefined) return { set: c, complete: false };
      if (r) {
        next = { set: part, n: 2 };
        break;
      }
    }
    // With two parts each complement is the other part, already tried.
    if (!next && parts.length > 2)
      for (const part of parts) {
        const complement = c.filter((x) => !part.includes(x));
        const r = await test(complement);
        if (r === undefined) return { set: c, complete: false };
        if (r) {
          next = { set: complement, n: Math.max(parts.length - 1, 2) };
          break;
        }
      }
    if (next) {
      c = next.set;
      n = next.n;
    } else if (n < c.length) n = Math.min(c.length, n * 2);
    else break;
  }
  return { set: c, complete: true };
}

interface Tried {
  items: Item[];
  status: number;
  finding: ProbeFinding;
}

const IDENTITY_CAUSES: CauseId[] = [...CALLER, 'ip-restricted'];

function claimsFor(
  ctx: ProbeContext,
  set: Item[],
  status: number,
  text: string,
): { claims: CauseClaim[]; confirms: CauseId[]; rulesOut: CauseId[] } {
  const original = ctx.first.response.status;
  const through = status < 400;
  const strength = through ? 0.85 : 0.5;
  const evidence = [{ source: SOURCE, text }];
  const claims: CauseClaim[] = [];
  const add = (id: CauseId, weight: number, summary: string) => claims.push({ id, weight, summary, evidence });
  const credentials = set.filter((i) => i.credential);
  if (credentials.length) {
    add(
      'credential-invalid',
      through ? 0.6 : 0.3,
      `The server refuses ${describe(credentials)} but ${through ? 'admits the request without it' : 'answers differently without it'}: a stale, revoked or foreign credential.`,
    );
    if (through)
      add(
        'account-state',
        0.35,
        `The request is admitted anonymously but not with ${describe(credentials)}: the session or account behind it may be disabled.`,
      );
  } else {
    // Origin and Referer say where a request comes from: a denial that follows
    // them is an origin check (CSRF for state-changing methods, CORS otherwise).
    const originLike = (i: Item) => i.kind === 'header' && ['origin', 'referer'].includes(lower(i.name));
    const origin = set.some(originLike);
    const query = set.filter((i) => i.kind === 'query');
    const content = set.filter((i) => !originLike(i) && i.kind !== 'query');
    if (origin)
      add(
        SAFE.includes(ctx.original.method.toUpperCase()) ? 'cors' : 'csrf',
        strength,
        `The denial follows the Origin header: an origin check refuses ${ctx.original.headers.find((h) => lower(h.name) === 'origin')?.value}.`,
      );
    if (content.length)
      add(
        'waf-block',
        strength,
        `A rule matches ${describe(content)}: a WAF, bot-management or server rule on the request’s content.`,
      );
    if (query.length) {
      add('waf-block', through ? 0.6 : 0.4, `A rule matches ${describe(query)}.`);
      add('path-forbidden', 0.3, `A server rule denies this path with ${describe(query)}.`);
    }
  }
  const rulesOut: CauseId[] = [];
  if (through) {
    // Same path, same address, and (in the first pass) the same credentials: allowed.
    const out: CauseId[] = credentials.length
      ? ['ip-restricted', 'path-forbidden', 'waf-block']
      : [...IDENTITY_CAUSES, ...(set.some((i) => i.kind === 'query') ? [] : (['path-forbidden'] as CauseId[]))];
    for (const id of out) {
      claims.push({
        id,
        weight: -0.7,
        summary: `The same request without ${describe(set)} is allowed (${original} → ${status}).`,
        evidence,
      });
      rulesOut.push(id);
    }
  }
  return { claims, confirms: [...new Set(claims.filter((c) => c.weight > 0).map((c) => c.id))], rulesOut };
}

function applies(ctx: ProbeContext): true | string {
  const method = ctx.original.method.toUpperCase();
  if (!SAFE.includes(method) && !ctx.options.allowUnsafe) return `replaying ${method} needs --allow-unsafe`;
  if (!itemsOf(ctx).length) return 'the request carries no header, cookie or query parameter that can be removed';
  return true;
}

export default defineProbe({
  name: NAME,
  separates: ['waf-block', 'credential-invalid', 'account-state', 'path-forbidden'],
  order: 50,
  // Declared for the plan; ddmin itself runs until the runner's budget is spent.
  maxRequests: 12,
  applies,
  plan(ctx) {
    const items = itemsOf(ctx);
    const plain = items.filter((i) => !i.credential);
    return [without(ctx.original, plain.length ? plain : items)];
  },
  async run(ctx, send: Send) {
    if (applies(ctx) !== true) return [];
    const original = ctx.first.response.status;
    const all = itemsOf(ctx);
    const tried = new Map<string, Tried>();
    const findings: ProbeFinding[] = [];
    const attempt = async (set: Item[], changed: (s: number) => boolean): Promise<boolean | undefined> => {
      const key = set.map(idOf).sort().join('\u0000');
      const known = tried.get(key);
      if (known) return changed(known.status);
      const vary = without(ctx.original, set);
      const ex = await send(NAME, vary);
      if (!ex) return undefined;
      const status = ex.response.status;
      const finding: ProbeFinding = {
        result: {
          name: NAME,
          status,
          meaning: `without ${describe(set)}: ${status}${changed(status) ? ` instead of ${original}` : status === original ? ', unchanged' : ''}`,
          request: { method: vary.request.method, url: vary.request.url, removed: vary.removed, added: vary.added },
        },
        claims: [],
      };
      findings.push(finding);
      tried.set(key, { items: set, status, finding });
      return changed(status);
    };

    const passes: { items: Item[]; changed: (s: number) => boolean }[] = [
      { items: all.filter((i) => !i.credential), changed: (s) => s !== original },
      // A credential removed and a 401 or 403 back is the without-credential probe's finding, not this one's.
      ...(all.some((i) => i.credential && i.kind !== 'header')
        ? [{ items: all.filter((i) => i.credential), changed: (s: number) => s !== original && s !== 401 && s !== 403 }]
        : []),
    ];
    for (const pass of passes) {
      if (!pass.items.length) continue;
      const everything = await attempt(pass.items, pass.changed);
      if (everything === undefined) break;
      if (!everything) {
        const first = tried.get(pass.items.map(idOf).sort().join('\u0000'))!;
        if (!pass.items.some((i) => i.credential)) {
          first.finding.result.meaning = `without any of the ${pass.items.length} header(s), cookie(s) and query parameter(s) that carry no credential: still ${first.status} — the denial does not follow the request’s content`;
          // Not ruled out: a rule may still match the path or the address, which no removal touches.
          first.finding.claims.push({
            id: 'waf-block',
            weight: -0.4,
            summary: 'Nothing removable in the request’s content changes the denial.',
            evidence: [{ source: SOURCE, text: first.finding.result.meaning }],
          });
        } else
          first.finding.result.meaning += ` — without its credentials the request is still refused (${first.status}): no stale credential stands in the way of an anonymous answer`;
        continue;
      }
      const { set, complete } = await ddmin(pass.items, (s) => attempt(s, pass.changed));
      const best = tried.get(set.map(idOf).sort().join('\u0000'))!;
      const text = `removing ${describe(set)} turns ${original} into ${best.status}${complete ? '' : ' (the budget ran out before the change was minimal)'}`;
      const { claims, confirms, rulesOut } = claimsFor(ctx, set, best.status, text);
      best.finding.result.meaning = `${text} — the smallest change found in ${findings.length} request(s)`;
      best.finding.claims.push(...claims);
      if (confirms.length) best.finding.result.confirms = confirms;
      if (rulesOut.length) best.finding.result.rulesOut = rulesOut;
      break;
    }
    return findings;
  },
});
