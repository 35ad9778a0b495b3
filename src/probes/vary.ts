// Ways a probe may vary the user's request: remove what they sent, or swap
// in what they named. Every helper returns a ProbeRequest that records the
// change, so the report can list it and `send` can check it.
import type { ExchangeRequest, NameValue } from '../model/exchange.ts';
import type { ProbeRequest } from './define.ts';

const lower = (s: string) => s.toLowerCase();

/** A copy of the request with the headers `drop` selects removed. */
export function withoutHeaders(req: ExchangeRequest, drop: (h: NameValue) => boolean): ProbeRequest {
  const removed = req.headers.filter(drop).map((h) => `header:${h.name}`);
  return { request: { ...req, headers: req.headers.filter((h) => !drop(h)), cookies: undefined }, removed, added: [] };
}

/** A copy with named cookies removed from the Cookie header (all when `names` is undefined). */
export function withoutCookies(req: ExchangeRequest, names?: string[]): ProbeRequest {
  const removed: string[] = [];
  const headers: NameValue[] = [];
  for (const h of req.headers) {
    if (lower(h.name) !== 'cookie') {
      headers.push(h);
      continue;
    }
    const kept = h.value
      .split(/;\s*/)
      .filter(Boolean)
      .filter((pair) => {
        const name = pair.split('=')[0].trim();
        const drop = !names || names.includes(name);
        if (drop) removed.push(`cookie:${name}`);
        return !drop;
      });
    if (kept.length) headers.push({ name: h.name, value: kept.join('; ') });
  }
  return { request: { ...req, headers, cookies: undefined }, removed, added: [] };
}

/** A copy with the named query parameters removed. */
export function withoutQuery(req: ExchangeRequest, names: string[]): ProbeRequest {
  const url = new URL(req.url);
  const removed: string[] = [];
  for (const n of names)
    if (url.searchParams.has(n)) {
      url.searchParams.delete(n);
      removed.push(`query:${n}`);
    }
  return { request: { ...req, url: url.href, queryString: undefined }, removed, added: [] };
}

/** A copy with `header` set (replacing any header of that name): a swap of something the user named. */
export function withHeader(req: ExchangeRequest, header: NameValue, label: string): ProbeRequest {
  const had = req.headers.some((h) => lower(h.name) === lower(header.name));
  const headers = [...req.headers.filter((h) => lower(h.name) !== lower(header.name)), header];
  return {
    request: { ...req, headers },
    removed: had ? [`header:${header.name}`] : [],
    added: [`header:${header.name} (${label})`],
  };
}

/** Combines two variations of the same request (the second applied to the first's result). */
export function combine(a: ProbeRequest, then: (req: ExchangeRequest) => ProbeRequest): ProbeRequest {
  const b = then(a.request);
  return { request: b.request, removed: [...a.removed, ...b.removed], added: [...a.added, ...b.added] };
}
