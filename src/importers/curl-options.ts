// "The request as copied": what `why403 check -- curl …` sends must be what
// curl would send, by the route curl would take. Every option of the command
// is looked up in OPTIONS below and is either honoured (the request or its
// Route carries it), accepted as changing nothing that is sent (output,
// progress, retries), or refused with one line naming it. An option missing
// from the table is refused too: nothing is silently dropped.
//
// Honouring never means circumventing (design.md section 4): no option makes
// why403 claim a client address, and credentials given in options (-u,
// --proxy-user, a proxy URL's password, --pass) are redacted wherever the
// request or its route is shown.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { InputError } from '../errors.ts';
import type { ExchangeRequest, NameValue } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import { CURL_INPUT, parseCurl } from './curl.ts';
import { roughArgv, scanOptions } from './curl-argv.ts';
import { unreadable } from './common.ts';
import type { ConnectToEntry, ResolveEntry, Route, RouteTls } from '../live/route.ts';
import { normaliseProxy } from '../live/proxy.ts';
import { shownProxy } from '../live/route.ts';
import { cookiesFor, parseCookieFile, type StoredCookie } from '../live/cookies.ts';
import { redactSecret } from '../credentials/redact.ts';

/** "send": honoured; "none": changes nothing that is sent; any other string: refused, for this reason. */
type Rule = 'send' | 'none' | string;

const SEND = 'send';
const NONE = 'none';
const rules = (names: string, rule: Rule): [string, Rule][] =>
  names
    .trim()
    .split(/\s+/)
    .map((n) => [n, rule]);

/** curl's options by their long name (as curlconverter reports them). */
export const OPTIONS: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  // What is sent: method, URL, headers, body, credentials, cookies.
  ...rules(
    `url request get head header user-agent referer range time-cond cookie junk-session-cookies oauth2-bearer user basic
    data data-raw data-ascii data-binary data-urlencode json url-query globoff disallow-username-in-url proto-default compressed next`,
    SEND,
  ),
  // The route: redirects, TLS, HTTP version, proxy, where and how the connection is made.
  ...rules(
    `location max-redirs insecure cacert capath cert key pass cert-type key-type tlsv1 tlsv1.0 tlsv1.1 tlsv1.2 tlsv1.3 tls-max
    ciphers curves alpn http1.1 http2 proxy proxy-user proxy-basic noproxy proxytunnel proxy-header resolve connect-to unix-socket
    abstract-unix-socket interface ipv4 ipv6 max-time`,
    SEND,
  ),
  // Output, progress, timing and retries: nothing in the request changes.
  ...rules(
    `verbose silent show-error include output remote-name remote-name-all remote-header-name output-dir create-dirs
    create-file-mode clobber dump-header write-out trace trace-ascii trace-time trace-ids stderr progress-bar progress-meter
    styled-output libcurl fail fail-with-body fail-early remove-on-error buffer raw xattr remote-time connect-timeout
    happy-eyeballs-timeout-ms keepalive keepalive-time tcp-nodelay tcp-fastopen sessionid limit-rate speed-limit speed-time
    max-filesize retry retry-delay retry-max-time retry-connrefused retry-all-errors parallel parallel-max parallel-immediate rate
    ssl-no-revoke ssl-revoke-best-effort disable npn false-start suppress-connect-headers etag-save expect100-timeout
    ignore-content-length random-file egd-file`,
    NONE,
  ),
  ['digest', 'Digest authentication'],
  ['ntlm', 'NTLM authentication'],
  ['ntlm-wb', 'NTLM authentication'],
  ['negotiate', 'SPNEGO/Kerberos authentication'],
  ['anyauth', 'it lets curl choose the authentication scheme after a first answer'],
  ['aws-sigv4', 'AWS Signature Version 4 signing'],
  ...rules('krb delegation service-name', 'Kerberos authentication'),
  ...rules('sasl-authzid sasl-ir login-options', 'SASL authentication'),
  ['proxy-digest', 'Digest authentication to the proxy'],
  ['proxy-ntlm', 'NTLM authentication to the proxy'],
  ['proxy-negotiate', 'SPNEGO/Kerberos authentication to the proxy'],
  ['proxy-anyauth', 'it lets curl choose the proxy authentication scheme'],
  ['proxy-service-name', 'SPNEGO/Kerberos authentication to the proxy'],
  ...rules(
    'socks4 socks4a socks5 socks5-hostname socks5-basic socks5-gssapi socks5-gssapi-nec socks5-gssapi-service',
    'SOCKS proxies',
  ),
  ['preproxy', 'a proxy in front of the proxy'],
  ['proxy1.0', 'HTTP/1.0 proxies'],
  ['proxy-http2', 'HTTP/2 to the proxy'],
  ...rules(
    `proxy-cacert proxy-capath proxy-cert proxy-cert-type proxy-key proxy-key-type proxy-pass proxy-ciphers proxy-crlfile
    proxy-insecure proxy-pinnedpubkey proxy-tlsv1 proxy-tls13-ciphers proxy-tlsuser proxy-tlspassword proxy-tlsauthtype
    proxy-ssl-allow-beast proxy-ssl-auto-client-cert proxy-ca-native`,
    'TLS to an https:// proxy',
  ),
  ['haproxy-clientip', 'it claims a client address of your choosing, and why403 never forges a source address'],
  ['haproxy-protocol', 'a PROXY protocol header'],
  ['local-port', 'choosing the local port'],
  ...rules('dns-servers dns-interface dns-ipv4-addr dns-ipv6-addr', 'other name servers'),
  ...rules('doh-url doh-insecure doh-cert-status', 'DNS over HTTPS'),
  ['http1.0', 'HTTP/1.0'],
  ['http2-prior-knowledge', 'HTTP/2 without negotiation'],
  ...rules('http3 http3-only', 'HTTP/3'),
  ['http0.9', 'HTTP/0.9 answers'],
  ['location-trusted', 'it sends your credentials to every host a redirect leads to'],
  ...rules('post301 post302 post303', 'sending the body again after a redirect'),
  ['cookie-jar', 'writing a cookie jar'],
  ...rules('form form-string form-escape', 'multipart form bodies'),
  ['upload-file', 'uploading a file'],
  ['continue-at', 'resuming a transfer'],
  ['tr-encoding', 'a compressed transfer encoding'],
  ['path-as-is', 'sending /../ and /./ as written'],
  ['request-target', 'a custom request target'],
  ['config', 'options read from a config file'],
  ...rules('netrc netrc-optional netrc-file', 'credentials read from .netrc'),
  ['hsts', 'an HSTS cache'],
  ['alt-svc', 'an Alt-Svc cache'],
  ['crlfile', 'certificate revocation lists'],
  ...rules('pinnedpubkey', 'public key pinning'),
  ['cert-status', 'OCSP stapling checks'],
  ['ca-native', "the operating system's certificate store"],
  ['engine', 'an OpenSSL engine'],
  ...rules('tlsuser tlspassword tlsauthtype', 'TLS-SRP'),
  ...rules('sslv2 sslv3', 'SSLv2 and SSLv3'),
  ['tls13-ciphers', 'choosing TLS 1.3 cipher suites'],
  ['ssl-allow-beast', 'weakening TLS'],
  ['ssl-auto-client-cert', 'a client certificate picked by Windows'],
  ...rules('proto proto-redir', 'restricting protocols'),
  ['etag-compare', 'an If-None-Match read from a file'],
  ...rules('help version manual', 'curl would print, not send a request'),
]);

/** Warnings of curlconverter that do not change what is sent. */
const BENIGN_WARNINGS = new Set(['repeated-header']);

export interface CurlCheck {
  request: ExchangeRequest;
  route: Route;
  /** -k */
  insecure?: boolean;
  /** -m, in milliseconds */
  timeoutMs?: number;
  /** -L: follow up to this many redirects; undefined: do not follow (curl's default). */
  maxRedirects?: number;
  /** Credentials the options carry (a proxy's password, -u's), for redaction. */
  secrets: string[];
}

const HINT = 'run without it or use curl -v and why403 explain';

function refused(inputName: string, option: string, why?: string): InputError {
  return new InputError(inputName, `${option} is not supported by check${why ? ` (${why})` : ''}; ${HINT}`);
}

/** The long name and the spelling of each option curlconverter reported. */
function optionsUsed(warnings: [string, string][]): { used: Map<string, string>; other: [string, string][] } {
  const used = new Map<string, string>();
  const other: [string, string][] = [];
  for (const [name, message] of warnings) {
    const m = /^(\S+) is not a supported option/.exec(String(message));
    if (m) {
      // curlconverter looks options up in plain objects: "--constructor" finds Object.
      const written = m[1]!;
      const bare = written.replace(/^-+/, '');
      if (typeof name !== 'string' || bare in Object.prototype || name === 'Object')
        used.set(`\u0000${written}`, written);
      else if (!used.has(name)) used.set(name, written);
    } else other.push([String(name), String(message)]);
  }
  return { used, other };
}

function warningRefusal(inputName: string, [kind, message]: [string, string]): InputError {
  const first = message.split('\n')[0]!.trim().replace(/:$/, '');
  switch (kind) {
    case 'expansion':
    case 'special_variable_name':
      return new InputError(
        inputName,
        `the command uses a shell variable or $(…) (${first}), which check cannot expand; expand it first, or run it through your shell as: why403 check -- curl …`,
      );
    case 'header-file':
      return new InputError(
        inputName,
        `-H @FILE (headers read from a file) is not supported by check; give each header with -H 'Name: value'`,
      );
    case 'glob-in-url':
    case 'unbalanced-glob':
      return new InputError(
        inputName,
        `the URL holds [ ] or { }, which curl expands into several URLs; add -g (--globoff) to send it as written`,
      );
    default:
      return new InputError(inputName, `${first}; check sends a request only as curl would send it`);
  }
}

const text = (w: { toString(): string } | undefined | null) =>
  w === undefined || w === null ? undefined : w.toString();

function readOptionFile(inputName: string, option: string, path: string, at = ''): string {
  if (path === '-') throw refused(inputName, `${option} ${at}-`, 'reading standard input');
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new InputError(inputName, `${option} ${at}${path}: ${unreadable(err)}`, { cause: err });
  }
  try {
    // Bodies are sent as text: bytes that are not UTF-8 could not be sent as they are.
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw refused(inputName, `${option} ${at}${path}`, 'a file that is not UTF-8 text');
  }
}

/** curl's --data-urlencode: every byte but A-Z a-z 0-9 - . _ ~ percent-encoded, a space as "+". */
function urlencode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

type DataPart =
  { toString(): string } | { filetype: string; name?: { toString(): string }; filename: { toString(): string } };

/** A body (or -G query) built as curl builds it, the files it names read. */
function assemble(inputName: string, parts: DataPart[]): string {
  let out = '';
  for (const p of parts) {
    if (!('filetype' in p)) {
      out += p.toString();
      continue;
    }
    const option =
      { data: '-d', binary: '--data-binary', urlencode: '--data-urlencode', json: '--json' }[p.filetype] ?? '-d';
    const name = p.filetype === 'urlencode' && p.name?.toString() ? p.name.toString() : '';
    const content = readOptionFile(inputName, option, p.filename.toString(), `${name}@`);
    if (p.filetype === 'urlencode') out += (p.name?.toString() ? `${p.name.toString()}=` : '') + urlencode(content);
    else if (p.filetype === 'data') out += content.replace(/[\r\n]/g, '');
    else out += content;
  }
  return out;
}

function splitHostPort(spec: string): string[] {
  // host:port:… with IPv6 addresses in brackets.
  const out: string[] = [];
  let cur = '';
  let bracket = false;
  for (const c of spec) {
    if (c === '[') bracket = true;
    if (c === ']') bracket = false;
    if (c === ':' && !bracket) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const unbracket = (s: string) => s.replace(/^\[|\]$/g, '');

function parseResolve(inputName: string, specs: string[]): ResolveEntry[] {
  const entries: ResolveEntry[] = [];
  for (const raw of specs) {
    const remove = raw.startsWith('-');
    const spec = raw.replace(/^[+-]/, '');
    const [host, port, ...rest] = splitHostPort(spec);
    const addrs = rest
      .join(':')
      .split(',')
      .map((a) => unbracket(a.trim()))
      .filter(Boolean);
    if (!host || !/^\d+$/.test(port ?? '') || (!remove && (!addrs.length || !addrs.every((a) => net.isIP(a)))))
      throw new InputError(inputName, `--resolve ${raw}: expected HOST:PORT:ADDRESS[,ADDRESS]… (an IP address)`);
    const key = (e: ResolveEntry) => e.host === host.toLowerCase() && e.port === Number(port);
    const at = entries.findIndex(key);
    if (at >= 0) entries.splice(at, 1);
    if (!remove) entries.push({ host: host.toLowerCase(), port: Number(port), addresses: addrs, spec });
  }
  return entries;
}

function parseConnectTo(inputName: string, specs: string[]): ConnectToEntry[] {
  return specs.map((spec) => {
    const parts = splitHostPort(spec);
    const portOf = (p: string) => (p === '' ? '' : /^\d+$/.test(p) ? Number(p) : NaN);
    if (parts.length !== 4 || Number.isNaN(portOf(parts[1]!)) || Number.isNaN(portOf(parts[3]!)))
      throw new InputError(inputName, `--connect-to ${spec}: expected HOST1:PORT1:HOST2:PORT2 (parts may be empty)`);
    return {
      host: unbracket(parts[0]!).toLowerCase(),
      port: portOf(parts[1]!) as number | '',
      toHost: unbracket(parts[2]!),
      toPort: portOf(parts[3]!) as number | '',
      spec,
    };
  });
}

const TLS_VERSIONS: Record<string, RouteTls['minVersion']> = {
  '1': 'TLSv1',
  '1.0': 'TLSv1',
  '1.1': 'TLSv1.1',
  '1.2': 'TLSv1.2',
  '1.3': 'TLSv1.3',
};

function pemCertificates(inputName: string, option: string, path: string): string[] {
  const isDir = (() => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  })();
  if (!isDir) {
    const pem = readOptionFile(inputName, option, path);
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new InputError(inputName, `${option} ${path}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return [pem];
  }
  const out: string[] = [];
  for (const f of readdirSync(path)) {
    try {
      const pem = readFileSync(join(path, f), 'utf8');
      if (pem.includes('-----BEGIN CERTIFICATE-----')) out.push(pem);
    } catch {
      /* not a readable file */
    }
  }
  if (!out.length) throw new InputError(inputName, `${option} ${path}: the directory holds no PEM certificate`);
  return out;
}

function splitCredentials(s: string): { user: string; password: string; hasColon: boolean } {
  const i = s.indexOf(':');
  return i < 0
    ? { user: s, password: '', hasColon: false }
    : { user: s.slice(0, i), password: s.slice(i + 1), hasColon: true };
}

/**
 * Reads a curl command (bash quoting, or an argv as a shell or cmd.exe split
 * it) for `check`: the one request it sends and the route it takes. Every
 * option is honoured or refused (InputError, exit 2).
 */
export async function curlForCheck(command: string | string[], inputName = CURL_INPUT): Promise<CurlCheck> {
  const { requests, warnings } = await parseCurl(command, inputName, { options: true });
  const { used, other } = optionsUsed(warnings);
  for (const [name, written] of used) {
    if (name.startsWith('\u0000'))
      throw new InputError(inputName, `not a curl command curl would accept: option ${written}: is unknown`);
    const rule = OPTIONS.get(name);
    if (rule === SEND || rule === NONE) continue;
    throw refused(inputName, written, rule);
  }
  for (const w of other) if (!BENIGN_WARNINGS.has(w[0])) throw warningRefusal(inputName, w);
  if (requests.length !== 1)
    throw new InputError(inputName, `expected one curl request, found ${requests.length}; give one command at a time`);
  const { curl: r, url: u } = requests[0]!;
  const req: ExchangeRequest = { ...requests[0]!.request, headers: [...requests[0]!.request.headers] };
  const argv = typeof command === 'string' ? roughArgv(command) : command;
  const scanned = scanOptions(argv);
  const opt = (name: string) => used.get(name) ?? `--${name}`;
  const route: Route = {};
  const describe: string[] = [];
  const secrets: string[] = [];
  const out: CurlCheck = { request: req, route, secrets };

  // -u: Basic only (other schemes are refused above); curl asks for a missing password.
  if (used.has('user')) {
    const auth = u.auth ? { user: text(u.auth[0])!, password: text(u.auth[1])! } : undefined;
    if (auth && !auth.password) throw refused(inputName, `${opt('user')} without a password`, 'curl would ask for it');
    if (auth) secrets.push(auth.password);
  }

  // The body and the -G query, with the files they name.
  if (r.dataArray?.some((p) => typeof p === 'object' && 'filetype' in p)) {
    req.postData = {
      mimeType: headerValue(req.headers, 'content-type') ?? '',
      text: assemble(inputName, r.dataArray as DataPart[]),
    };
  }
  const queryParts = u.queryArray ?? r.queryArray;
  if (u.queryReadsFile && queryParts) {
    const base = text(u.urlWithoutQueryArray)!;
    req.url = `${/^[a-z][a-z0-9+.-]*:\/\//i.test(base) ? base : `http://${base}`}?${assemble(inputName, queryParts as DataPart[])}`;
    delete req.queryString;
  }

  // -z: a date, or a file whose modification time curl would send.
  if (used.has('time-cond')) {
    const h = req.headers.find((x) => /^(if-modified-since|if-unmodified-since|last-modified)$/i.test(x.name));
    if (h && Number.isNaN(Date.parse(h.value)))
      throw refused(inputName, `${opt('time-cond')} with a file`, 'its modification time; give a date instead');
  }

  // -r with a body: curl sends Content-Range (of the body's length), not Range.
  if (used.has('range') && req.postData?.text !== undefined && !headerValue(req.headers, 'content-range')) {
    const i = req.headers.findIndex((h) => h.name.toLowerCase() === 'range');
    if (i >= 0)
      req.headers[i] = {
        name: 'Content-Range',
        value: `bytes ${req.headers[i]!.value.replace(/^bytes=/, '')}/${Buffer.byteLength(req.postData.text)}`,
      };
  }

  // --compressed: ask for what curl asks for, and decode the answer (sendRequest does).
  if (r.compressed && !headerValue(req.headers, 'accept-encoding'))
    req.headers.push({ name: 'Accept-Encoding', value: 'deflate, gzip, br, zstd' });

  // Cookies: -b NAME=VALUE is in the Cookie header already; -b FILE turns on the cookie engine.
  if (used.has('cookie')) {
    const hCookie = scanned.some(
      (o) => (o.option === '-H' || o.option === '--header') && /^\s*cookie\s*:/i.test(o.value ?? ''),
    );
    const files = r.cookieFiles?.length
      ? r.cookieFiles.map((f) => f.toString())
      : hCookie
        ? scanned
            .filter(
              (o) => (o.option === '-b' || o.option === '--cookie') && o.value !== undefined && !o.value.includes('='),
            )
            .map((o) => o.value!)
        : [];
    if (files.length) {
      // curlconverter put the file names in the Cookie header as if they were cookies.
      if (!hCookie) {
        const i = req.headers.findIndex((h) => h.name.toLowerCase() === 'cookie');
        if (i >= 0) {
          const left = [...files];
          const pairs = req.headers[i]!.value.split('; ').filter((p) => {
            const at = left.indexOf(p);
            if (at < 0) return true;
            left.splice(at, 1);
            return false;
          });
          if (pairs.length) req.headers[i] = { name: req.headers[i]!.name, value: pairs.join('; ') };
          else req.headers.splice(i, 1);
        }
        if (req.cookies) req.cookies = req.cookies.filter((c) => !(c.value === '' && files.includes(c.name)));
      }
      let jar: StoredCookie[] = [];
      for (const f of files) {
        if (f === '') continue;
        const parsed = parseCookieFile(readOptionFile(inputName, opt('cookie'), f));
        if ('badLine' in parsed)
          throw new InputError(
            inputName,
            `${opt('cookie')} ${f}: line ${parsed.badLine} is not a Netscape cookie file line (domain, subdomains, path, secure, expires, name, value; tab-separated)`,
          );
        jar.push(...parsed.cookies);
      }
      if (r.junkSessionCookies) jar = jar.filter((c) => c.expires !== 0);
      route.cookieJar = jar;
      const mine = cookiesFor(jar, new URL(req.url));
      if (mine.length) {
        // curl sends the engine's cookies first; with a Cookie header of your own, on a line of their own before it.
        const value = mine.map((c) => `${c.name}=${c.value}`).join('; ');
        const i = req.headers.findIndex((h) => h.name.toLowerCase() === 'cookie');
        if (i >= 0 && !hCookie)
          req.headers[i] = { name: req.headers[i]!.name, value: `${value}; ${req.headers[i]!.value}` };
        else if (i >= 0) req.headers.splice(i, 0, { name: 'Cookie', value });
        else req.headers.push({ name: 'Cookie', value });
        req.cookies = [...mine, ...(req.cookies ?? [])];
        secrets.push(...mine.map((c) => c.value));
      }
      describe.push(
        `cookie engine on (${opt('cookie')} ${files.filter(Boolean).join(', ') || '""'}): ${jar.length} cookie${jar.length === 1 ? '' : 's'} read, ${mine.length} sent; redirects' cookies are kept`,
      );
    }
  }

  // Redirects: curl follows only with -L, up to --max-redirs (50 by default).
  if (r.followRedirects) {
    let max = 50;
    if (r.maxRedirects !== undefined) {
      const n = Number(text(r.maxRedirects));
      if (!Number.isInteger(n) || n < 0 || n > 50)
        throw refused(inputName, `${opt('max-redirs')} ${text(r.maxRedirects)}`, 'check follows at most 50 redirects');
      max = n;
    }
    out.maxRedirects = max;
    route.curlRedirects = true;
    describe.push(`redirects followed, at most ${max} (${opt('location')})`);
  }
  if (r.refererAuto) {
    route.autoReferer = true;
    describe.push(`on a redirect, the previous URL as Referer (${opt('referer')} ';auto')`);
  }

  // -m
  if (r.timeout !== undefined) {
    const s = Number(text(r.timeout));
    if (!(s > 0))
      throw new InputError(
        inputName,
        `${opt('max-time')} ${text(r.timeout)}: expected a number of seconds greater than 0`,
      );
    out.timeoutMs = s * 1000;
  }

  // TLS.
  if (r.insecure) {
    out.insecure = true;
    describe.push(`TLS certificates not verified (${opt('insecure')})`);
  }
  const tls: RouteTls = {};
  if (r.cacert) tls.ca = pemCertificates(inputName, opt('cacert'), text(r.cacert)!);
  if (r.capath) tls.ca = [...(tls.ca ?? []), ...pemCertificates(inputName, opt('capath'), text(r.capath)!)];
  if (tls.ca)
    describe.push(
      `trusted certificates: ${[text(r.cacert), text(r.capath)].filter(Boolean).join(', ')} (${[r.cacert && opt('cacert'), r.capath && opt('capath')].filter(Boolean).join(', ')})`,
    );
  for (const [field, option] of [
    ['certType', 'cert-type'],
    ['keyType', 'key-type'],
  ] as const) {
    const t = text(r[field]);
    if (t && t.toUpperCase() !== 'PEM')
      throw refused(inputName, `${opt(option)} ${t}`, 'certificates and keys other than PEM');
  }
  if (r.cert) {
    const certFile = text(r.cert[0])!;
    tls.cert = readOptionFile(inputName, opt('cert'), certFile);
    tls.key = r.key ? readOptionFile(inputName, opt('key'), text(r.key)!) : tls.cert;
    const pass = text(r.cert[1]) ?? text(r.pass);
    if (pass !== undefined) {
      tls.passphrase = pass;
      secrets.push(pass);
    }
    describe.push(
      `client certificate ${certFile}${r.key ? `, key ${text(r.key)}` : ''}${pass !== undefined ? ' (with its passphrase)' : ''} (${opt('cert')})`,
    );
  } else if (r.key) throw refused(inputName, opt('key'), 'a key without --cert');
  if (r.tlsVersion) tls.minVersion = TLS_VERSIONS[r.tlsVersion];
  const tlsMax = text(r.tlsMax);
  if (tlsMax && tlsMax !== 'default') {
    const v = TLS_VERSIONS[tlsMax];
    if (!v) throw new InputError(inputName, `${opt('tls-max')} ${tlsMax}: expected 1.0, 1.1, 1.2, 1.3 or default`);
    tls.maxVersion = v;
  }
  if (tls.minVersion || tls.maxVersion)
    describe.push(`TLS ${tls.minVersion ?? 'any version'} to ${tls.maxVersion ?? 'the newest'}`);
  if (r.ciphers) {
    tls.ciphers = text(r.ciphers);
    describe.push(`TLS ciphers ${tls.ciphers} (${opt('ciphers')})`);
  }
  if (r.curves) {
    tls.ecdhCurve = text(r.curves);
    describe.push(`TLS curves ${tls.ecdhCurve} (${opt('curves')})`);
  }
  if (r.alpn === false) {
    tls.alpn = false;
    describe.push('no ALPN offered (--no-alpn)');
  }
  if (Object.keys(tls).length) route.tls = tls;

  // HTTP version: HTTP/1.1 unless --http2, which offers HTTP/2 by ALPN over https.
  if (r.httpVersion === '2') {
    if (new URL(req.url).protocol !== 'https:')
      throw refused(inputName, `${opt('http2')} with an http:// URL`, 'curl would ask the server to upgrade to h2c');
    route.http2 = true;
    describe.push(`HTTP/2 offered by ALPN (${opt('http2')})`);
  }

  // The proxy.
  if (r.proxy !== undefined) {
    const raw = text(r.proxy)!;
    if (raw !== '') {
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
      if (scheme && scheme !== 'http') {
        const why = /^socks/.test(scheme)
          ? 'SOCKS proxies'
          : scheme === 'https'
            ? 'TLS to an https:// proxy'
            : `${scheme}:// proxies`;
        throw refused(inputName, `${opt('proxy')} ${scheme}://…`, why);
      }
      let url: string;
      try {
        url = normaliseProxy(raw);
      } catch {
        const shown = shownProxy(/:\/\//.test(raw) ? raw : `http://${raw}`);
        throw new InputError(
          inputName,
          `${opt('proxy')}: "${shown}" is not a proxy address (expected [http://][USER:PASSWORD@]HOST[:PORT])`,
        );
      }
      const p = new URL(url);
      if (p.password) {
        // A malformed %-escape ("%zz") stays as written: it is still the secret to hide.
        let password = p.password;
        try {
          password = decodeURIComponent(password);
        } catch {
          /* kept as written */
        }
        secrets.push(password);
      }
    }
    route.proxy = raw;
    route.proxyLabel = `${opt('proxy')} in the curl command`;
    describe.push(
      raw === ''
        ? `no proxy (${opt('proxy')} "")`
        : `through the proxy ${shownProxy(normaliseProxy(raw))} (${opt('proxy')})`,
    );
  }
  if (r.proxyUser !== undefined) {
    const c = splitCredentials(text(r.proxyUser)!);
    if (!c.hasColon) throw refused(inputName, `${opt('proxy-user')} without a password`, 'curl would ask for it');
    route.proxyUser = { user: c.user, password: c.password };
    if (c.password) secrets.push(c.password);
    describe.push(`proxy credentials for ${c.user}, password ${redactSecret(c.password)} (${opt('proxy-user')})`);
  }
  if (r.noproxy !== undefined) {
    route.noProxy = text(r.noproxy)!;
    describe.push(`no proxy for ${route.noProxy || '(none)'} (${opt('noproxy')})`);
  }
  if (r.proxytunnel) {
    route.proxyTunnel = true;
    describe.push(`http:// through the proxy in a CONNECT tunnel too (${opt('proxytunnel')})`);
  }
  if (r.proxyHeaders?.length) {
    const list: NameValue[] = [];
    for (const [n, v] of r.proxyHeaders.headers) if (v !== null) list.push({ name: n.toString(), value: v.toString() });
    if (list.length) {
      route.proxyHeaders = list;
      describe.push(`to the proxy only: ${list.map((h) => h.name).join(', ')} (${opt('proxy-header')})`);
    }
  }

  // Where the connection goes.
  if (r.resolve?.length) {
    route.resolve = parseResolve(
      inputName,
      r.resolve.map((w) => w.toString()),
    );
    for (const e of route.resolve)
      describe.push(`${e.host}:${e.port} connects to ${e.addresses.join(', ')} (--resolve)`);
  }
  if (r.connectTo?.length) {
    route.connectTo = parseConnectTo(
      inputName,
      r.connectTo.map((w) => w.toString()),
    );
    for (const e of route.connectTo)
      describe.push(
        `${e.host || '*'}:${e.port || '*'} connects to ${e.toHost || '(same host)'}:${e.toPort || '(same port)'} (--connect-to)`,
      );
  }
  if (r.unixSocket !== undefined || r.abstractUnixSocket !== undefined) {
    // curlconverter keeps both in unixSocket.
    const abstract = used.has('abstract-unix-socket') && !used.has('unix-socket');
    route.unixSocket = { path: text(r.abstractUnixSocket ?? r.unixSocket)!, abstract };
    describe.push(
      `through the Unix socket ${abstract ? '@' : ''}${route.unixSocket.path} (${opt(abstract ? 'abstract-unix-socket' : 'unix-socket')})`,
    );
  }
  if (r.ipv4 || r.ipv6) {
    route.family = r.ipv6 && !r.ipv4 ? 6 : 4;
    describe.push(`IPv${route.family} only (${opt(route.family === 6 ? 'ipv6' : 'ipv4')})`);
  }
  if (r.interface !== undefined) {
    const spec = text(r.interface)!;
    if (/^(host|ifhost)!/.test(spec)) throw refused(inputName, `${opt('interface')} ${spec}`, 'a host name to bind to');
    route.interface = spec;
    describe.push(`from the local address of ${spec} (${opt('interface')})`);
  }

  if (describe.length) route.describe = describe;
  return out;
}
