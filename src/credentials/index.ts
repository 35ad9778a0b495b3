// Credential inspection: every credential a request carried, decoded (never
// verified), read against the clock that mattered, and redacted for output.
// It measures and names what it sees (observations); what an observation
// means is for the rules to judge (Rule.judge, engine/credential.ts). The
// engine calls observeExchangeCredentials once per exchange; the `token`
// command calls observeToken on a credential given on its own.
import { headerValue, headerValues, type Exchange, type NameValue } from '../model/exchange.ts';
import type { CredentialInspection, CredentialItem, CredentialKind } from '../model/credential.ts';
import { InputError } from '../errors.ts';
import { CLOCK_DISAGREES, clockReading, formatDuration, iso, readClock, tokenClock } from './clock.ts';
import { observe, flagWhitespace, newCollector, type Collector } from './collector.ts';
import {
  inspectAuthorization,
  inspectSharedKeyContext,
  inspectSigV4Context,
  inspectTokenValue,
} from './authorization.ts';
import { inspectApiKeyHeaders, inspectCookies, inspectQueryTokens } from './request-parts.ts';
import { isApiKeyHeader } from './api-key-headers.ts';
import { inspectSignedUrl } from './signed-urls.ts';

export { redactHeaders, redactSecret, redactUrl, redactHeaderValue } from './redact.ts';

export interface InspectOptions {
  /** The local clock to read windows by when the exchange carries no reading of its own (trace or HAR time). */
  now?: Date;
  /** Show credentials whole instead of redacted. */
  showSecrets?: boolean;
}

/** The credential a server most likely judged comes first. */
const PRIORITY: Record<CredentialKind, number> = {
  'bearer-jwt': 0,
  'bearer-opaque': 0,
  basic: 0,
  'aws-sigv4': 0,
  'aws-presigned-url': 1,
  'azure-sas': 1,
  'google-signed-url': 1,
  'api-key': 2,
  other: 3,
  cookie: 4,
};

function rank(item: CredentialItem): number {
  const inHeader = item.location === 'header:authorization' || item.location === 'input' ? 0 : 0.5;
  return PRIORITY[item.kind] + (item.kind.startsWith('bearer') || item.kind === 'other' ? inHeader : 0);
}

function inspection(c: Collector): CredentialInspection {
  const main = [...c.items].sort((a, b) => rank(a) - rank(b))[0];
  return {
    scheme: main?.kind ?? 'none',
    ...(main?.claims && main.kind !== 'cookie' ? { claims: main.claims } : {}),
    items: c.items,
    observations: c.observations,
    clock: clockReading(c.clock),
  };
}

const TIME_BOUND: CredentialKind[] = ['bearer-jwt', 'aws-sigv4', 'aws-presigned-url', 'azure-sas', 'google-signed-url'];

/**
 * A measured skew matters on its own only when something time-bound was sent
 * and no window finding already explains it.
 */
function noteSkew(c: Collector): void {
  const skew = c.clock.skewSeconds;
  if (!skew || Math.abs(skew) < 60) return;
  if (c.observations.some((o) => CLOCK_DISAGREES.has(o.kind))) return;
  if (!c.items.some((i) => TIME_BOUND.includes(i.kind) || i.expiresAt)) return;
  const abs = Math.abs(skew);
  observe(c, {
    kind: 'clock-skew-measured',
    text: `The server's clock (Date: ${c.clock.serverHeader}) is ${formatDuration(abs * 1000)} ${skew > 0 ? 'ahead of' : 'behind'} the local clock (${iso(c.clock.local)}); time-bound credentials are judged by the server's clock.`,
    source: 'header:date',
    measure: { skewSeconds: abs },
  });
}

function queryParams(exchange: Exchange, url: URL | undefined): NameValue[] {
  const req = exchange.request!;
  if (req.queryString?.length) return req.queryString;
  if (!url) {
    const q = req.url.indexOf('?');
    return q < 0 ? [] : parseQuery(req.url.slice(q + 1).split('#')[0]);
  }
  return [...url.searchParams].map(([name, value]) => ({ name, value }));
}

function parseQuery(q: string): NameValue[] {
  return [...new URLSearchParams(q.replace(/^\?/, ''))].map(([name, value]) => ({ name, value }));
}

function formParams(exchange: Exchange): NameValue[] {
  const body = exchange.request?.postData;
  if (!body || !/application\/x-www-form-urlencoded/i.test(body.mimeType)) return [];
  if (body.params?.length) return body.params;
  return body.text ? parseQuery(body.text) : [];
}

export function observeExchangeCredentials(exchange: Exchange, opts: InspectOptions = {}): CredentialInspection {
  const c = newCollector(readClock(exchange, opts.now), opts.showSecrets, exchange.source?.kind);
  const req = exchange.request;
  if (!req) return inspection(c);
  const headers = req.headers ?? [];
  const requestHeader = (name: string) => headerValue(headers, name);
  const auths = headerValues(headers, 'authorization');
  for (const value of auths) inspectAuthorization(c, value, 'header:authorization');
  if (auths.length > 1)
    observe(c, {
      kind: 'authorization-repeated',
      text: `The request sends ${auths.length} Authorization headers; servers take the first, the last, or refuse the request.`,
      source: 'header:authorization',
    });
  for (const value of headerValues(headers, 'proxy-authorization'))
    inspectAuthorization(c, value, 'header:proxy-authorization');
  inspectSigV4Context(c, 'header:authorization', requestHeader);
  inspectSharedKeyContext(c, requestHeader);
  inspectApiKeyHeaders(c, headers);
  let url: URL | undefined;
  try {
    url = new URL(req.url);
  } catch {
    url = undefined;
  }
  const params = queryParams(exchange, url);
  inspectSignedUrl(c, params, url);
  inspectQueryTokens(c, params, 'query');
  inspectQueryTokens(c, formParams(exchange), 'body');
  inspectCookies(c, headers, req.cookies);
  noteSkew(c);
  return inspection(c);
}

const SCHEME_FORM =
  /^(bearer|basic|token|jwt|dpop|aws4-hmac-sha256|sharedkey|sharedkeylite|digest|negotiate|ntlm)(\s|:|$)/i;
const HEADER_LINE = /^([A-Za-z0-9-]+)[ \t]*:[ \t]*((?![ \t])[\s\S]*)$/;
const QUERY_FORM = /^\??[A-Za-z0-9_.~%-]+=[^&\s]*(&[A-Za-z0-9_.~%-]+=[^&\s]*)*$/;

function inspectUrl(c: Collector, raw: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(
      'token',
      'looks like a URL but does not parse as one; quote it so the shell keeps the whole query string.',
    );
  }
  const params = [...url.searchParams].map(([name, value]) => ({ name, value }));
  inspectSignedUrl(c, params, url);
  inspectQueryTokens(c, params, 'query');
  if (url.hash.includes('=')) inspectQueryTokens(c, parseQuery(url.hash.slice(1)), 'query');
}

/**
 * Inspects one credential given on its own: a bare JWT or token, `Bearer …`,
 * a whole `Authorization: …` line, a Basic header, a pre-signed S3 / GCS URL,
 * or an Azure SAS URL or query string. Judged by the local clock (or opts.now).
 */
export function observeToken(raw: string, opts: InspectOptions = {}): CredentialInspection {
  const c = newCollector(tokenClock(opts.now), opts.showSecrets);
  inspectGiven(c, raw);
  return inspection(c);
}

function inspectGiven(c: Collector, raw: string): void {
  const input = raw.trim();
  if (!input)
    throw new InputError(
      'token',
      'empty input: give a JWT or token, "Bearer …", an "Authorization: …" line, a pre-signed URL or a SAS query string.',
    );
  if (/^https?:\/\//i.test(input)) return inspectUrl(c, input);
  const line = HEADER_LINE.exec(input);
  if (line && !SCHEME_FORM.test(input)) {
    const name = line[1].toLowerCase();
    if (name === 'authorization' || name === 'proxy-authorization')
      return inspectAuthorization(c, line[2], `header:${name}`);
    if (name === 'cookie') return inspectCookies(c, [{ name: 'Cookie', value: line[2] }], undefined);
    if (isApiKeyHeader(name)) return inspectApiKeyHeaders(c, [{ name: line[1], value: line[2] }]);
  }
  if (SCHEME_FORM.test(input)) return inspectAuthorization(c, input, 'input');
  if (QUERY_FORM.test(input)) {
    const params = parseQuery(input);
    if (inspectSignedUrl(c, params, undefined)) return;
    const before = c.items.length;
    inspectQueryTokens(c, params, 'query');
    if (c.items.length > before) return;
  }
  flagWhitespace(c, input, 'input');
  inspectTokenValue(c, input.replace(/\s+/g, ''), 'input', 'input');
}
