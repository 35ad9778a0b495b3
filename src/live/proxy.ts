// Which proxy, if any, a request to `url` goes through under the usual
// environment variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, lower case
// winning as curl does), and why — the report says so either way. A proxy
// named on the command line (curl's -x, --noproxy) replaces the environment's.

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
    const [name, p] = raw.toLowerCase().split(/:(?=\d+$)/);
    if (p && p !== port) continue;
    // As curl does: "example.com", ".example.com" and "*.example.com" all cover
    // example.com and every name under it.
    const pattern = name.replace(/^\*?\./, '');
    if (host === pattern || host.endsWith('.' + pattern)) return raw;
  }
  return undefined;
}

export interface ExplicitProxy {
  /** The proxy to use instead of the environment's; "" means none at all. */
  proxy?: string;
  /** How it was given ("-x in the curl command"). */
  proxyLabel?: string;
  /** Replaces NO_PROXY. */
  noProxy?: string;
}

/** curl's reading of a proxy string: http:// when it names no scheme, port 1080 when it names no port. */
export function normaliseProxy(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  const u = new URL(withScheme);
  if (!u.port && /^https?:$/.test(u.protocol) && !/:\d+\/?$/.test(withScheme.replace(/\/$/, ''))) u.port = '1080';
  return u.href.replace(/\/$/, '');
}

export function proxyFor(url: URL, e: NodeJS.ProcessEnv = process.env, explicit?: ExplicitProxy): ProxyDecision {
  if (explicit?.proxy !== undefined) {
    const label = explicit.proxyLabel ?? 'the proxy option';
    if (explicit.proxy === '') return { used: false, reason: `${label} is "", which turns proxies off` };
    const proxy = normaliseProxy(explicit.proxy);
    const no = explicit.noProxy ?? env(e, 'NO_PROXY');
    const hit = no ? matchesNoProxy(url, no) : undefined;
    if (hit)
      return {
        url: proxy,
        used: false,
        reason: `${url.hostname} matches ${explicit.noProxy !== undefined ? '--noproxy' : 'NO_PROXY'} entry "${hit}"`,
      };
    return {
      url: proxy,
      used: true,
      reason: `given with ${label}${no ? `, and ${explicit.noProxy !== undefined ? '--noproxy' : 'NO_PROXY'} does not cover ${url.hostname}` : ''}`,
    };
  }
  const name = url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY';
  const proxy = env(e, name) ?? env(e, 'ALL_PROXY');
  if (!proxy) return { used: false, reason: `no ${name} or ALL_PROXY set` };
  const no = explicit?.noProxy ?? env(e, 'NO_PROXY');
  const noName = explicit?.noProxy !== undefined ? '--noproxy' : 'NO_PROXY';
  const hit = no ? matchesNoProxy(url, no) : undefined;
  if (hit) return { url: proxy, used: false, reason: `${url.hostname} matches ${noName} entry "${hit}"` };
  return {
    url: proxy,
    used: true,
    reason: `${env(e, name) ? name : 'ALL_PROXY'} is set and ${noName} does not cover ${url.hostname}`,
  };
}
