// What a scan is: where its records come from, the request made for each,
// and how hard to push. The configuration is stored in the state file so
// `--resume` needs nothing but the file — except secrets, which are stored
// only as a redacted preview and a fingerprint, and must be given again.
import { createHash } from 'node:crypto';
import type { NameValue } from '../model/exchange.ts';
import { isSecretHeader, redactHeaderValue, redactUrl } from '../credentials/redact.ts';
import { UsageError } from '../errors.ts';

export interface ListSource {
  kind: 'list';
  url: string;
  /** JSON path of the array of records in a page (auto-detected when absent). */
  items?: string;
  /** JSON path of the next-page URL or cursor in a page (auto-detected when absent). */
  next?: string;
  /** Query parameter that carries a cursor to the next page. */
  cursorParam?: string;
  /** Query parameter counted up one a page (page=1, 2, …). */
  pageParam?: string;
  /** Query parameter advanced by the number of records a page gave (offset=0, 25, …). */
  offsetParam?: string;
  /** JSON path of a record's id (default: id, or the record itself when it is a string or number). */
  id?: string;
}

export interface IdsSource {
  kind: 'ids';
  /** A file path, or "-" for standard input. */
  file: string;
  format: 'lines' | 'csv' | 'jsonl';
  /** CSV column holding the id. */
  column?: string;
  /** JSON path of the id in each JSON line. */
  id?: string;
}

export type Source = ListSource | IdsSource;

/** A list page is read whole (it is parsed as JSON), up to this many bytes unless --max-page says otherwise. */
export const DEFAULT_MAX_PAGE = 16 * 1024 * 1024;

/** A header as stored: secrets keep only a preview and a fingerprint. */
export interface StoredHeader {
  name: string;
  value: string;
  secret?: { sha256: string };
}

export interface ScanConfig {
  source: Source;
  /** The per-record request URL with {id}. */
  template: string;
  method: string;
  headers: StoredHeader[];
  /** Set when a URL held a secret (an API key in the query): then it must be given again too. */
  urlSecrets?: { template?: string; list?: string };
  concurrency: number;
  /** Requests a second, at most (list pages included). */
  rate?: number;
  timeoutMs: number;
  /** Extra attempts after a network error or timeout. */
  retries: number;
  /** Bytes of a denial's body kept for its diagnosis. */
  maxBody: number;
  /** Bytes of a list page read, at most (absent in state files of earlier versions: DEFAULT_MAX_PAGE). */
  maxPage?: number;
  insecure?: boolean;
  allowUnsafe?: boolean;
}

/** The live settings: the stored configuration with its secrets restored. */
export interface ScanSettings extends Omit<ScanConfig, 'headers' | 'urlSecrets'> {
  headers: NameValue[];
}

const fingerprint = (v: string) => createHash('sha256').update(v).digest('hex');

export function storeConfig(s: ScanSettings): ScanConfig {
  const urlSecrets: NonNullable<ScanConfig['urlSecrets']> = {};
  const template = redactUrl(s.template);
  if (template !== s.template) urlSecrets.template = fingerprint(s.template);
  let source = s.source;
  if (source.kind === 'list') {
    const url = redactUrl(source.url);
    if (url !== source.url) urlSecrets.list = fingerprint(source.url);
    source = { ...source, url };
  }
  return {
    ...s,
    source,
    template,
    headers: s.headers.map((h) =>
      isSecretHeader(h.name)
        ? { name: h.name, value: redactHeaderValue(h.name, h.value), secret: { sha256: fingerprint(h.value) } }
        : { ...h },
    ),
    ...(Object.keys(urlSecrets).length ? { urlSecrets } : {}),
  };
}

/**
 * Restores the secrets of a stored configuration from what the user gave
 * again on --resume. The same credential must come back: a scan whose
 * identity changed half-way would mix two answers to one question.
 */
export function restoreConfig(
  stored: ScanConfig,
  given: { headers: NameValue[]; template?: string; list?: string },
  statePath: string,
): ScanSettings {
  const headers: NameValue[] = [];
  for (const h of stored.headers) {
    if (!h.secret) {
      headers.push({ name: h.name, value: h.value });
      continue;
    }
    const again = given.headers.find((g) => g.name.toLowerCase() === h.name.toLowerCase());
    if (!again)
      throw new UsageError(
        `${statePath}: the scan was started with a ${h.name} header, whose value is not stored; give it again with -H '${h.name}: …'`,
      );
    if (fingerprint(again.value) !== h.secret.sha256)
      throw new UsageError(
        `${statePath}: the ${h.name} given now is not the one the scan started with; a scan must keep one identity (start a new scan for another one)`,
      );
    headers.push(again);
  }
  for (const g of given.headers)
    if (!stored.headers.some((h) => h.name.toLowerCase() === g.name.toLowerCase()))
      throw new UsageError(
        `-H '${g.name}: …': the scan was started without this header; start a new scan to change the request`,
      );

  const restoreUrl = (storedUrl: string, sha: string | undefined, again: string | undefined, flag: string) => {
    if (!sha) {
      if (again !== undefined && again !== storedUrl)
        throw new UsageError(`${flag} ${again}: the scan was started with ${storedUrl}; start a new scan to change it`);
      return storedUrl;
    }
    if (again === undefined)
      throw new UsageError(
        `${statePath}: the scan's ${flag} URL holds a secret that is not stored; give it again with ${flag}`,
      );
    if (fingerprint(again) !== sha) throw new UsageError(`${flag}: not the URL the scan started with`);
    return again;
  };
  const template = restoreUrl(stored.template, stored.urlSecrets?.template, given.template, '--get');
  let source = stored.source;
  if (source.kind === 'list')
    source = { ...source, url: restoreUrl(source.url, stored.urlSecrets?.list, given.list, '--list') };
  const { urlSecrets: _drop, ...rest } = stored;
  return { ...rest, source, template, headers };
}

/**
 * An id that cannot be put in the record's URL without the request naming
 * another resource (an empty id) or without changing the id (a lone UTF-16
 * surrogate has no UTF-8 form to percent-encode). Such a record is not
 * requested; it is recorded as an error with this message.
 */
export class UnsafeIdError extends Error {}

/** Where {id} sits in the template: its encoding depends on it. */
type Slot =
  | { kind: 'path'; dotsAround: boolean; around: number }
  | { kind: 'query' }
  | { kind: 'authority' }
  | { kind: 'fragment' };

function slotsOf(template: string): Slot[] {
  const parts = template.split('{id}');
  const slots: Slot[] = [];
  for (let i = 0; i + 1 < parts.length; i++) {
    const before = parts.slice(0, i + 1).join('x');
    const after = parts.slice(i + 1).join('x');
    if (before.includes('#')) slots.push({ kind: 'fragment' });
    else if (before.includes('?')) slots.push({ kind: 'query' });
    else if (/^[a-z][a-z0-9+.-]*:\/\/[^/]*$/i.test(before)) slots.push({ kind: 'authority' });
    else {
      // The rest of the path segment {id} is in: usually nothing.
      const around = before.slice(before.lastIndexOf('/') + 1) + after.split(/[/?#]/)[0];
      slots.push({ kind: 'path', dotsAround: /^\.*$/.test(around), around: around.length });
    }
  }
  return slots;
}

const percentEncode = (id: string): string => {
  try {
    return encodeURIComponent(id);
  } catch {
    throw new UnsafeIdError(
      'not requested: the id holds a lone UTF-16 surrogate, which has no UTF-8 form to percent-encode',
    );
  }
};

/**
 * One id in one slot. Everything but unreserved characters is
 * percent-encoded (/, ?, #, %, spaces, …), so the id stays inside its path
 * segment or query value; a path segment that would be "." or ".." (a dot
 * segment, which clients and servers resolve to another resource) has its
 * dots sent as %2E.
 */
function encoderFor(slot: Slot): (id: string) => string {
  const dots = slot.kind === 'path' && slot.dotsAround;
  const whole = dots && slot.around === 0;
  return (id) => {
    const e = percentEncode(id);
    if (e.length <= 2) {
      if (!e)
        throw new UnsafeIdError(
          'not requested: an empty id would make the URL name another resource (the list, or its parent)',
        );
      if (dots && (e === '.' || e === '..')) {
        if (whole) return e === '.' ? '%2E' : '%2E%2E';
        // The template's own dots around {id} cannot be encoded: ".{id}" with "." is ".." however it is sent.
        if (e.length + (slot as { around: number }).around <= 2)
          throw new UnsafeIdError(
            'not requested: with the dots around {id} in --get, the path segment would be "." or ".." (another resource)',
          );
      }
    }
    return e;
  };
}

/** The per-record URL: {id} replaced by the id, encoded for its place (see `encoderFor`). Throws UnsafeIdError. */
export function recordUrl(template: string, id: string): string {
  return recordUrlBuilder(template)(id);
}

/** The same, with the template split once: a scan builds one URL per record. */
export function recordUrlBuilder(template: string): (id: string) => string {
  const parts = template.split('{id}');
  const encoders = slotsOf(template).map(encoderFor);
  if (parts.length === 2) {
    const [head, tail] = parts;
    const enc = encoders[0];
    return (id) => head + enc(id) + tail;
  }
  return (id) => {
    let url = parts[0];
    for (let i = 1; i < parts.length; i++) url += encoders[i - 1](id) + parts[i];
    return url;
  };
}

export function assertTemplate(template: string): void {
  if (!template.includes('{id}'))
    throw new UsageError(
      `--get "${template}": expected a URL with {id} where the record's id goes, e.g. https://api.example.com/employees/{id}`,
    );
  if (slotsOf(template).some((s) => s.kind === 'fragment'))
    throw new UsageError(
      `--get "${template}": {id} is in the fragment (after #), which is never sent; put it in the path or the query`,
    );
  let url: URL;
  try {
    url = new URL(recordUrl(template, 'x'));
  } catch {
    throw new UsageError(`--get "${template}": not a URL (expected e.g. https://api.example.com/employees/{id})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--get "${template}": only http and https URLs can be scanned`);
}
