// Redaction for every output: a credential is shown by its first characters
// and its length, never whole, unless the user asks for secrets. Renderers
// pass every URL and header list through redactUrl / redactHeaders.
import type { NameValue } from '../model/exchange.ts';
import { API_KEY_HEADERS, isApiKeyHeader } from './api-key-headers.ts';

/** Shorter secrets show no prefix at all: six characters of a 10-character password is most of it. */
const MIN_LENGTH_FOR_PREFIX = 16;

export function redactSecret(value: string, keep = 6): string {
  const n = [...value].length;
  if (n === 0) return '(empty)';
  if (n < MIN_LENGTH_FOR_PREFIX) return `…(${n} chars)`;
  return `${[...value].slice(0, keep).join('')}…(${n} chars)`;
}

/** Headers whose whole value is a secret: every API-key header credential inspection knows, and a few more. */
const SECRET_HEADERS = new Set([
  ...API_KEY_HEADERS,
  'x-amz-security-token',
  'x-goog-iam-authorization-token',
  'x-csrf-token',
  'x-xsrf-token',
  'x-csrftoken',
  'x-client-secret',
  'x-ms-copy-source-authorization',
]);
const SECRET_HEADER_PATTERN = /(^|-)(token|secret|password|passwd|api-?key|session-?id|credentials?)($|-)/i;
/** Named like a secret but carrying none. */
const PUBLIC_HEADERS = new Set([
  'www-authenticate',
  'proxy-authenticate',
  'authentication-info',
  'x-amz-content-sha256',
  'x-amz-date',
  'x-ms-date',
  'access-control-allow-credentials',
]);

export function isSecretHeader(name: string): boolean {
  const n = name.toLowerCase();
  if (PUBLIC_HEADERS.has(n)) return false;
  return (
    isApiKeyHeader(n) ||
    n === 'authorization' ||
    n === 'proxy-authorization' ||
    n === 'cookie' ||
    n === 'set-cookie' ||
    SECRET_HEADERS.has(n) ||
    SECRET_HEADER_PATTERN.test(n)
  );
}

export function redactAuthorizationValue(value: string): string {
  const m = /^(\s*)(\S+)(\s+)((?!\s)[\s\S]*)$/.exec(value);
  if (!m) return redactSecret(value.trim());
  const [, lead, scheme, sep, rest] = m;
  if (/^AWS4-HMAC-SHA256$/i.test(scheme))
    return (
      lead +
      scheme +
      sep +
      rest
        .replace(/(Credential=)([^/,\s]+)/i, (_, k: string, id: string) => k + redactSecret(id, 4))
        .replace(/(Signature=)([0-9a-fA-F]+)/i, (_, k: string, sig: string) => k + redactSecret(sig))
    );
  return `${lead}${scheme}${sep}${redactSecret(rest)}`;
}

/** Rewrites each `name=value` pair of a list split on `sep`; a pair without `=` stays as it is. */
function mapPairs(
  list: string,
  sep: string,
  rewrite: (pair: string, rawName: string, rawValue: string) => string,
): string {
  return list
    .split(sep)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : rewrite(pair, pair.slice(0, eq), pair.slice(eq + 1));
    })
    .join(sep);
}

function redactCookieHeader(value: string): string {
  return mapPairs(value, ';', (_, name, raw) => `${name}=${redactSecret(raw.trim())}`);
}

function redactSetCookie(value: string): string {
  const semi = value.indexOf(';');
  const first = semi < 0 ? value : value.slice(0, semi);
  const eq = first.indexOf('=');
  const masked = eq < 0 ? first : `${first.slice(0, eq)}=${redactSecret(first.slice(eq + 1).trim())}`;
  return semi < 0 ? masked : masked + value.slice(semi);
}

export function redactHeaderValue(name: string, value: string): string {
  const n = name.toLowerCase();
  if (!isSecretHeader(n)) return value;
  if (n === 'authorization' || n === 'proxy-authorization') return redactAuthorizationValue(value);
  if (n === 'cookie') return redactCookieHeader(value);
  if (n === 'set-cookie') return value.split('\n').map(redactSetCookie).join('\n');
  return redactSecret(value.trim());
}

export function redactHeaders(headers: NameValue[]): NameValue[];
export function redactHeaders(headers: Record<string, string | string[]>): Record<string, string | string[]>;
export function redactHeaders(
  headers: NameValue[] | Record<string, string | string[]>,
): NameValue[] | Record<string, string | string[]> {
  if (Array.isArray(headers)) return headers.map((h) => ({ ...h, value: redactHeaderValue(h.name, h.value) }));
  const out: Record<string, string | string[]> = {};
  for (const [name, v] of Object.entries(headers))
    out[name] = Array.isArray(v) ? v.map((x) => redactHeaderValue(name, x)) : redactHeaderValue(name, v);
  return out;
}

/** Query parameters whose value grants access (lower-case). */
const SECRET_PARAMS = new Set([
  'x-amz-signature',
  'x-amz-security-token',
  'x-goog-signature',
  'signature',
  'sig',
  'awsaccesskeyid',
  'api_key',
  'api-key',
  'apikey',
  'access_token',
  'id_token',
  'refresh_token',
  'token',
  'auth',
  'auth_token',
  'client_secret',
  'password',
  'passwd',
  'secret',
  'session',
  'sessionid',
  'jwt',
  'policy',
  'private_token',
  'x-goog-iam-authorization-token',
]);
/** Parameters that are secret only when their value looks like one (they also carry ordinary values elsewhere). */
const MAYBE_SECRET_PARAMS = new Set(['key', 'code']);
/** Credential scopes: only the key id at their head is sensitive. */
const CREDENTIAL_SCOPE_PARAMS = new Set(['x-amz-credential', 'x-goog-credential']);

/** Named like a key, token or signature (`x-algolia-api-key`, `temp_url_sig`, `auth-token`), whatever the service. */
const SECRET_PARAM_PATTERN = /(^|[-_.])(api[-_]?key|access[-_]?token|auth[-_]?token|sig|signature|secret)$/i;

export function isSecretParam(name: string, value: string): boolean {
  const n = name.toLowerCase();
  if (SECRET_PARAMS.has(n) || SECRET_PARAM_PATTERN.test(n)) return true;
  return MAYBE_SECRET_PARAMS.has(n) && value.length >= 16 && !/\s|\//.test(value);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function redactParams(query: string): string {
  return mapPairs(query, '&', (pair, rawName, rawValue) => {
    const name = safeDecode(rawName);
    const value = safeDecode(rawValue);
    if (CREDENTIAL_SCOPE_PARAMS.has(name.toLowerCase())) {
      const slash = value.indexOf('/');
      // Google's RSA signing names a service account e-mail, which is not a secret.
      if (slash > 0 && !value.slice(0, slash).includes('@'))
        return `${rawName}=${redactSecret(value.slice(0, slash), 4)}${value.slice(slash)}`;
      return pair;
    }
    return isSecretParam(name, value) ? `${rawName}=${redactSecret(value)}` : pair;
  });
}

/** Masks credential-bearing query (and fragment) parameters and a password in the user-info part. */
export function redactUrl(url: string): string {
  let rest = url;
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  let query: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  // A password redacted already (a proxy URL in a trace) stays as it is.
  rest = rest.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^/@:]*):([^/@]*)@/i,
    (_, scheme: string, user: string, pass: string) =>
      `${scheme}${user}:${/…\(\d+ chars\)$/.test(pass) ? pass : redactSecret(safeDecode(pass))}@`,
  );
  return (
    rest +
    (query !== undefined ? `?${redactParams(query)}` : '') +
    (hash >= 0 ? `#${fragment.includes('=') ? redactParams(fragment) : fragment}` : '')
  );
}
