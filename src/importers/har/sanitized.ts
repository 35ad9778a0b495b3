// Sanitized exports: whether a HAR's credentials were stripped or redacted
// after capture, so that "no credential was sent" is not taken at its word.
import type { Exchange, NameValue } from '../../model/exchange.ts';
import type { CredentialSigns } from './scan.ts';

/** Strings longer than this are never compared by the scanner, so never taken for a placeholder. */
export const CAPTURE_MAX = 64;

/** Placeholders that HAR sanitizers and proxies put where a secret was. */
const REDACTION_MARKER = /(^|[^a-z])(redacted|sanitized|scrubbed|removed|censored)([^a-z]|$)/i;

/** A header value that a sanitizer put where a secret was. */
export function isRedactionPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v === '') return true;
  if (v.length > CAPTURE_MAX) return false;
  if (/^\*{3,}$/.test(v)) return true;
  // A real token or cookie value has a long run of token characters; a placeholder does not.
  return REDACTION_MARKER.test(v) && !/[A-Za-z0-9+/_.-]{24,}/.test(v);
}

/**
 * Chromium DevTools writes "WebInspector" as log.creator.name, and since 2024
 * its default "Export HAR (sanitized)" drops the Cookie and Authorization
 * request headers, Set-Cookie response headers and both cookie lists
 * (devtools-frontend front_end/models/har/Log.ts, `options.sanitize`).
 */
const CHROMIUM_DEVTOOLS_CREATOR = 'WebInspector';

export const SANITIZED_NOTE =
  'This HAR looks like a sanitized export: it carries no Cookie, Set-Cookie or Authorization header in any entry. Chrome and Edge DevTools strip them by default ("Export HAR (sanitized)"), so "no credential was sent" may only mean the export removed it. To export it whole: DevTools → Settings → Preferences → Network → tick "Allow to generate HAR with sensitive data", then Network panel → Export HAR (with sensitive data). Or run `why403 check` against the URL to see the live exchange.';

export const REDACTED_NOTE =
  'This HAR has Cookie, Set-Cookie or Authorization headers whose values were replaced by a placeholder (such as "REDACTED") or emptied, so the credential that was really sent cannot be inspected. Export the HAR again without redaction, or run `why403 check` against the URL to see the live exchange.';

/**
 * Evidence in one parsed HTTP/1.x entry that headers were removed after
 * capture: Chromium fills headersSize from the raw header text it received
 * and keeps it when the sanitized export drops Cookie, Authorization and
 * Set-Cookie. In Chromium 156 captures the listed headers rebuild the request
 * block to within 2 characters and the response block exactly; a dropped
 * "Cookie: a=b" line is at least 13.
 */
function headerBytesMissing(headersSize: unknown, firstLine: string, headers: NameValue[]): boolean {
  if (typeof headersSize !== 'number' || headersSize <= 0) return false;
  let size = firstLine.length + 2 + 2;
  for (const h of headers) size += h.name.length + 2 + h.value.length + 2;
  return headersSize - size >= 10;
}

function requestLine(method: string, url: string, httpVersion: string): string {
  try {
    const u = new URL(url);
    return `${method} ${u.pathname}${u.search} ${httpVersion}`;
  } catch {
    return `${method} ${url} ${httpVersion}`;
  }
}

/**
 * The note for one denied entry, from what is known when it is yielded: the
 * entry itself and the entries before it. A file that carries a real cookie
 * anywhere earlier was not sanitized.
 */
export function sanitizedNoteFor(
  signs: CredentialSigns,
  before: CredentialSigns,
  creator: string | undefined,
  headers: HeaderSizes,
): string | undefined {
  if (signs.redacted > 0) return REDACTED_NOTE;
  if (signs.present > 0) return undefined;
  if (before.redacted > 0) return REDACTED_NOTE;
  if (before.present > 0) return undefined;
  if (headers === 'shrunk') return SANITIZED_NOTE;
  // Without header sizes (HTTP/2 and later), a Chromium export that carries no credential anywhere is taken as sanitized.
  if (headers === 'unknown' && creator === CHROMIUM_DEVTOOLS_CREATOR) return SANITIZED_NOTE;
  return undefined;
}

/** The verdict for the whole file. */
export function sanitizedVerdict(
  signs: CredentialSigns,
  creator: string | undefined,
  sizes: { shrunk: boolean; intact: boolean },
  total: number,
): string | undefined {
  if (signs.redacted > 0) return REDACTED_NOTE;
  if (signs.present > 0 || total === 0) return undefined;
  if (sizes.shrunk) return SANITIZED_NOTE;
  if (!sizes.intact && creator === CHROMIUM_DEVTOOLS_CREATOR) return SANITIZED_NOTE;
  return undefined;
}

/** What an entry's header sizes say: headers were removed, all are there, or they cannot tell (no sizes). */
export type HeaderSizes = 'shrunk' | 'intact' | 'unknown';

/**
 * What one parsed entry's headersSize fields say about its HTTP/1.x headers
 * (`entry` is the entry as parsed, `exchange` what it was mapped to).
 */
export function headerSizes(entry: Record<string, unknown>, exchange: Exchange): HeaderSizes {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const req = isObject(entry.request) ? entry.request : {};
  const res = isObject(entry.response) ? entry.response : {};
  const request = exchange.request;
  const checks: boolean[] = [];
  if (
    request &&
    /^http\/1/i.test(request.httpVersion ?? '') &&
    typeof req.headersSize === 'number' &&
    req.headersSize > 0
  ) {
    const line = requestLine(request.method, request.url, request.httpVersion ?? '');
    checks.push(headerBytesMissing(req.headersSize, line, request.headers));
  }
  const { response } = exchange;
  const rv = response.httpVersion ?? '';
  if (/^http\/1/i.test(rv) && typeof res.headersSize === 'number' && res.headersSize > 0) {
    const line = `${rv} ${response.status} ${response.statusText}`;
    checks.push(headerBytesMissing(res.headersSize, line, response.headers));
  }
  return checks.includes(true) ? 'shrunk' : checks.length ? 'intact' : 'unknown';
}
