// A small cookie engine, as curl's -b FILE turns one on: cookies read from a
// Netscape cookie file (the format curl -c and browser extensions write),
// matched to each request by domain, path, Secure and expiry as curl does,
// and updated from the Set-Cookie headers of the redirects it follows.
import net from 'node:net';

export interface StoredCookie {
  /** Lower-case, no leading dot. */
  domain: string;
  /** true: the domain and every name under it; false: that host only. */
  subdomains: boolean;
  path: string;
  secure: boolean;
  /** Seconds since the epoch; 0 for a session cookie. */
  expires: number;
  name: string;
  value: string;
}

/**
 * Parses a Netscape cookie file: one cookie a line, seven tab-separated
 * fields (domain, include-subdomains, path, secure, expires, name, value);
 * "#" starts a comment except in curl's "#HttpOnly_" prefix. Returns the
 * cookies, or the number of the first line that is not one.
 */
export function parseCookieFile(text: string): { cookies: StoredCookie[] } | { badLine: number } {
  const cookies: StoredCookie[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.startsWith('#HttpOnly_')) line = line.slice('#HttpOnly_'.length);
    else if (line.startsWith('#') || !line.trim()) continue;
    const f = line.split('\t');
    if (f.length < 6 || f.length > 7) return { badLine: i + 1 };
    const [domain, sub, path, secure, expires, name, value = ''] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string?,
    ];
    if (!/^(TRUE|FALSE)$/i.test(sub) || !/^(TRUE|FALSE)$/i.test(secure) || !/^-?\d+$/.test(expires))
      return { badLine: i + 1 };
    cookies.push({
      domain: domain.replace(/^\./, '').toLowerCase(),
      subdomains: /^TRUE$/i.test(sub) || domain.startsWith('.'),
      path: path || '/',
      secure: /^TRUE$/i.test(secure),
      expires: Number(expires),
      name,
      value,
    });
  }
  return { cookies };
}

function domainMatch(c: StoredCookie, host: string): boolean {
  if (host === c.domain) return true;
  return c.subdomains && !net.isIP(host) && host.endsWith('.' + c.domain);
}

function pathMatch(cookiePath: string, path: string): boolean {
  if (cookiePath === '/' || cookiePath === path) return true;
  if (!path.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || path[cookiePath.length] === '/';
}

const isLocalhost = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '::1';

/** The cookies curl would send to `url`, in curl's order (longest path first, then longest domain, then longest name). */
export function cookiesFor(jar: StoredCookie[], url: URL, nowMs = Date.now()): { name: string; value: string }[] {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const now = Math.floor(nowMs / 1000);
  return jar
    .filter(
      (c) =>
        (c.expires === 0 || c.expires > now) &&
        domainMatch(c, host) &&
        pathMatch(c.path, url.pathname || '/') &&
        (!c.secure || url.protocol === 'https:' || isLocalhost(host)),
    )
    .map((c, i) => ({ c, i }))
    .sort(
      (a, b) =>
        b.c.path.length - a.c.path.length ||
        b.c.domain.length - a.c.domain.length ||
        b.c.name.length - a.c.name.length ||
        a.i - b.i,
    )
    .map(({ c }) => ({ name: c.name, value: c.value }));
}

/** Takes the Set-Cookie headers of a response to `url` into the jar, as a browser or curl's engine does. */
export function storeSetCookies(jar: StoredCookie[], url: URL, setCookies: string[], nowMs = Date.now()): void {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const now = Math.floor(nowMs / 1000);
  for (const line of setCookies) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair!.indexOf('=');
    if (eq <= 0) continue;
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    let domain = host;
    let subdomains = false;
    const slash = url.pathname.lastIndexOf('/');
    let path = slash > 0 ? url.pathname.slice(0, slash) : '/';
    let secure = false;
    let expires = 0;
    let maxAge: number | undefined;
    for (const a of attrs) {
      const i = a.indexOf('=');
      const k = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
      const v = i < 0 ? '' : a.slice(i + 1).trim();
      if (k === 'domain' && v) {
        domain = v.replace(/^\./, '').toLowerCase();
        subdomains = true;
        // curl (without a public suffix list) refuses a Domain with no inner
        // dot: a cookie for "com" would follow a redirect to every .com host.
        if (domain !== 'localhost' && !/^[^.]+\.[^.]/.test(domain)) domain = '';
      } else if (k === 'path' && v.startsWith('/')) path = v;
      else if (k === 'secure') secure = true;
      else if (k === 'max-age' && /^-?\d+$/.test(v)) maxAge = Number(v);
      else if (k === 'expires') {
        const t = Date.parse(v);
        if (!Number.isNaN(t)) expires = Math.floor(t / 1000);
      }
    }
    if (maxAge !== undefined) expires = maxAge <= 0 ? 1 : now + maxAge;
    // A cookie for a domain the response's host is not in is refused.
    if (!domain) continue;
    if (domain !== host && !(subdomains && host.endsWith('.' + domain))) continue;
    const at = jar.findIndex((c) => c.name === name && c.domain === domain && c.path === path);
    if (at >= 0) jar.splice(at, 1);
    if (expires !== 0 && expires <= now) continue;
    jar.push({ domain, subdomains, path, secure, expires, name, value });
  }
}
