// Which proxy, if any, a request to `url` goes through under the usual
// environment variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, lower case
// winning as curl does), and why — the report says so either way.

export interface ProxyDecision {
  url?: string;
  used: boolean;
  reason: string;
}

function env(e: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = e[name.toLowerCase()] ?? e[name.toUpperCase()];
  return v && v.trim() ? v.trim() : undefined;
}

function matchesNoProxy(url: URL, noProxy: string): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[,\s]+/).filter(Boolean)) {
    if (raw === '*') return raw;
    let [pattern, p] = raw.toLowerCase().split(/:(?=\d+$)/);
    if (p && p !== port) continue;
    // As curl does: "example.com", ".example.com" and "*.example.com" all cover
    // example.com and every name under it.
    pattern = pattern.replace(/^\*?\./, '');
    if (host === pattern || host.endsWith('.' + pattern)) return raw;
  }
  return undefined;
}

export function proxyFor(url: URL, e: NodeJS.ProcessEnv = process.env): ProxyDecision {
  const name = url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY';
  const proxy = env(e, name) ?? env(e, 'ALL_PROXY');
  if (!proxy) return { used: false, reason: `no ${name} or ALL_PROXY set` };
  const no = env(e, 'NO_PROXY');
  const hit = no ? matchesNoProxy(url, no) : undefined;
  if (hit) return { url: proxy, used: false, reason: `${url.hostname} matches NO_PROXY entry "${hit}"` };
  return { url: proxy, used: true, reason: `${env(e, name) ? name : 'ALL_PROXY'} is set and NO_PROXY does not cover ${url.hostname}` };
}
