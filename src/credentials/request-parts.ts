// Credentials outside the Authorization header: API-key headers, tokens in
// the query string or a form body, and cookies (by name only: a cookie's value
// is the session itself).
import type { NameValue } from '../model/exchange.ts';
import { addItem, observe, secret, type Collector } from './collector.ts';
import { inspectTokenValue, PLACEHOLDER, SHELL_VARIABLE } from './authorization.ts';
import { looksLikeJwt } from './jwt.ts';
import { isSecretParam } from './redact.ts';
import { SIGNED_URL_PARAMS, signedUrlFormat } from '../knowledge/signed-urls.ts';
import { recogniseToken } from './token-kinds.ts';
import { isApiKeyHeader } from './api-key-headers.ts';

function inspectKeyValue(c: Collector, value: string, location: string): void {
  const v = value.trim();
  if (looksLikeJwt(v)) {
    inspectTokenValue(c, v, location, 'other-scheme');
    return;
  }
  // An empty value is no key either: the header went out without one (an unset variable, most often).
  if (!v || PLACEHOLDER.test(v)) {
    addItem(c, { kind: 'api-key', location, display: v ? `"${v}" (a placeholder, not a key)` : '(empty: no key)' });
    const sharedCommand = c.source === 'curl' && SHELL_VARIABLE.test(v);
    observe(c, {
      kind: 'key-placeholder',
      measure: { sharedCommand },
      text: sharedCommand
        ? `The command sends ${v} as the key (${location}); if it ran in single quotes, the shell did not expand it and the server got the variable's name instead of a key.`
        : v
          ? `${location} reads \`${v}\`: the variable meant to hold the key was empty or never filled in when the request was built.`
          : `${location} is sent empty: the variable meant to hold the key was empty or never set when the request was built.`,
      source: location,
    });
    return;
  }
  const kind = recogniseToken(v);
  addItem(c, { kind: 'api-key', location, display: `${secret(c, v)}${kind ? `, ${kind.name}` : ''}` });
}

export function inspectApiKeyHeaders(c: Collector, headers: NameValue[]): void {
  for (const h of headers) if (isApiKeyHeader(h.name)) inspectKeyValue(c, h.value, `header:${h.name.toLowerCase()}`);
}

/** RFC 6750 section 2.3 and 2.2 name `access_token`; the rest are API-key conventions. */
const BEARER_PARAMS = new Set(['access_token', 'id_token']);

/** Signature parameters that an application's own signed URLs use too (Laravel's `signature`, many `sig`s). */
const APP_SIGNATURE_PARAMS = new Set(['signature', 'sig']);

export function inspectQueryTokens(c: Collector, params: NameValue[], prefix: 'query' | 'body'): void {
  const names = new Set(params.map((p) => p.name.toLowerCase()));
  // Outside a signed-URL format inspection knows, a lone signature is the application's own.
  const signedUrl = signedUrlFormat((n) => names.has(n)) !== undefined;
  for (const p of params) {
    const name = p.name.toLowerCase();
    if ((SIGNED_URL_PARAMS.has(name) && (signedUrl || !APP_SIGNATURE_PARAMS.has(name))) || !p.value) continue;
    const location = `${prefix}:${p.name}`;
    if (BEARER_PARAMS.has(name)) inspectTokenValue(c, p.value, location, prefix);
    else if (name !== 'code' && isSecretParam(name, p.value)) inspectKeyValue(c, p.value, location);
  }
}

// Names frameworks give their session and anti-forgery cookies: Django
// (sessionid, csrftoken), PHP (PHPSESSID), Java servlets (JSESSIONID),
// ASP.NET (ASP.NET_SessionId, .AspNetCore.Antiforgery.*), Express
// (connect.sid), Rails and Laravel (_app_session, XSRF-TOKEN).
const CSRF_COOKIE = /csrf|xsrf|antiforgery|requestverificationtoken/i;
const SESSION_COOKIE = /sess|(^|[._-])sid$|^sid|auth|token|jwt|identity|remember|login/i;

export function cookieNames(headers: NameValue[], cookies: NameValue[] | undefined): string[] {
  const names: string[] = [];
  for (const h of headers)
    if (h.name.toLowerCase() === 'cookie')
      for (const pair of h.value.split(';')) {
        const name = pair.split('=')[0].trim();
        if (name) names.push(name);
      }
  for (const ck of cookies ?? []) if (ck.name) names.push(ck.name);
  return [...new Set(names)];
}

export function inspectCookies(c: Collector, headers: NameValue[], cookies: NameValue[] | undefined): void {
  const names = cookieNames(headers, cookies);
  if (!names.length) return;
  const csrf = names.filter((n) => CSRF_COOKIE.test(n));
  const session = names.filter((n) => !CSRF_COOKIE.test(n) && SESSION_COOKIE.test(n));
  const label = (n: string) => (csrf.includes(n) ? `${n} (CSRF)` : session.includes(n) ? `${n} (session)` : n);
  addItem(c, {
    kind: 'cookie',
    location: 'header:cookie',
    display: `${names.length} cookie${names.length === 1 ? '' : 's'}: ${names.map(label).join(', ')}`,
    claims: { names, session, csrf },
  });
}
