// How a request travels, beyond what it carries: the options of a curl
// command that change the route or the connection (curl's -x, --resolve,
// --connect-to, --unix-socket, --interface, -4/-6, --cacert, --cert, --http2,
// -b FILE's cookie engine…). `check -- curl …` fills it so the request it
// sends takes the route curl would take (src/importers/curl-options.ts);
// sendRequest honours it. Nothing here forges an address: --interface binds
// to an address this machine has, --resolve and --connect-to only choose
// where the connection goes (design.md section 4).
import { networkInterfaces } from 'node:os';
import net from 'node:net';
import type { NameValue } from '../model/exchange.ts';
import { redactUrl } from '../credentials/redact.ts';
import type { StoredCookie } from './cookies.ts';

export interface ResolveEntry {
  /** Lower-case host name, or "*" for every host. */
  host: string;
  port: number;
  addresses: string[];
  /** As written, for messages. */
  spec: string;
}

export interface ConnectToEntry {
  /** "" matches every host / port. */
  host: string;
  port: number | '';
  /** "" keeps the request's host / port. */
  toHost: string;
  toPort: number | '';
  spec: string;
}

export interface RouteTls {
  /** PEM certificates that replace the default trust store (--cacert, --capath). */
  ca?: string[];
  /** Client certificate and key, PEM (--cert, --key), and the key's passphrase (--pass, --cert FILE:PASS). */
  cert?: string;
  key?: string;
  passphrase?: string;
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
  ecdhCurve?: string;
  /** false: offer no ALPN at all (--no-alpn). */
  alpn?: boolean;
}

export interface Route {
  /** A proxy named on the command line; it replaces the environment's. "" turns proxies off. */
  proxy?: string;
  /** How the proxy was given, for the report ("-x in the curl command"). */
  proxyLabel?: string;
  /** Hosts that bypass the proxy; replaces NO_PROXY (--noproxy). */
  noProxy?: string;
  /** Tunnel plain http through the proxy with CONNECT too (-p). */
  proxyTunnel?: boolean;
  /** Proxy-Authorization credentials (--proxy-user). */
  proxyUser?: { user: string; password: string };
  /** Headers for the proxy only (--proxy-header). */
  proxyHeaders?: NameValue[];
  tls?: RouteTls;
  /** Offer HTTP/2 by ALPN (--http2); https only. */
  http2?: boolean;
  resolve?: ResolveEntry[];
  connectTo?: ConnectToEntry[];
  /** Connect to this Unix socket instead of the network (--unix-socket, --abstract-unix-socket). */
  unixSocket?: { path: string; abstract: boolean };
  family?: 4 | 6;
  /** --interface as written; resolved to a local address when the connection is made. */
  interface?: string;
  /**
   * curl's cookie engine (-b FILE): these cookies, and the ones a redirect
   * sets, go with each hop they match. The first request already carries
   * the ones for its URL in its Cookie header.
   */
  cookieJar?: StoredCookie[];
  /** On a followed redirect, send the previous URL as Referer (-e ';auto'). */
  autoReferer?: boolean;
  /** Follow redirects as curl -L does: 301/302 turn POST into GET, 303 turns any method but HEAD into GET. */
  curlRedirects?: boolean;
  /** One phrase per honoured route option, credentials redacted (the report's notes, the dry-run plan). */
  describe?: string[];
}

const defaultPort = (protocol: string) => (protocol === 'https:' ? 443 : 80);

/** Where a connection to host:port really goes under --connect-to and --resolve. */
export function connectTarget(
  route: Route | undefined,
  host: string,
  port: number,
): { host: string; port: number; via?: string } {
  let h = host.toLowerCase();
  let p = port;
  const via: string[] = [];
  for (const c of route?.connectTo ?? []) {
    if ((c.host === '' || c.host === h) && (c.port === '' || c.port === p)) {
      if (c.toHost) h = c.toHost.toLowerCase();
      if (c.toPort !== '') p = c.toPort;
      via.push(`--connect-to ${c.spec}`);
      break;
    }
  }
  const r = route?.resolve?.find((e) => (e.host === h || e.host === '*') && e.port === p);
  if (r) {
    via.push(`--resolve ${r.spec}`);
    return { host: r.addresses[0]!, port: p, via: via.join(', ') };
  }
  return { host: h, port: p, ...(via.length ? { via: via.join(', ') } : {}) };
}

/** True when a --resolve or --connect-to entry would apply to a connection to host:port. */
export function routeMatches(route: Route | undefined, url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port) || defaultPort(url.protocol);
  const c = route?.connectTo?.find((e) => (e.host === '' || e.host === host) && (e.port === '' || e.port === port));
  if (c) return `--connect-to ${c.spec}`;
  const r = route?.resolve?.find((e) => (e.host === host || e.host === '*') && e.port === port);
  return r ? `--resolve ${r.spec}` : undefined;
}

/** The local address --interface names: an address of this machine, or an interface's. */
export function localAddressFor(spec: string, family: 4 | 6 | undefined, remote: string): string {
  const name = spec.replace(/^if!/, '');
  if (net.isIP(name)) return name;
  const addrs = networkInterfaces()[name];
  if (!addrs?.length) throw new Error(`--interface ${spec}: this machine has no interface or address of that name`);
  const want = family ?? (net.isIPv6(remote) ? 6 : 4);
  const a = addrs.find((x) => (want === 6 ? x.family === 'IPv6' : x.family === 'IPv4'));
  if (!a) throw new Error(`--interface ${spec}: the interface has no IPv${want} address`);
  return a.address;
}

/** The proxy URL as shown in output: the password never appears. */
export function shownProxy(url: string): string {
  return redactUrl(url);
}
