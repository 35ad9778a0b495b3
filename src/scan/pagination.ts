// Walking a list endpoint: where a page keeps its records, what each
// record's id is, and how to ask for the next page. The style is detected on
// the first page (or set with --next / --cursor-param / --page-param /
// --offset-param) and then kept, so a last page that simply lacks the
// next-page sign ends the walk instead of being read another way.
import type { NameValue } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import type { ListSource } from './config.ts';
import { flattenFields, getPath } from './json-path.ts';

export type PaginationStyle =
  | { kind: 'link' }
  | { kind: 'next-url'; path: string }
  | { kind: 'cursor'; path: string; param: string }
  | { kind: 'page'; param: string; totalPath?: string }
  | { kind: 'offset'; param: string; totalPath?: string }
  | { kind: 'single' };

export interface PageRecords {
  records: { id: string; fields: string }[];
  /** The next page's URL, or null when this was the last one. */
  next: string | null;
  style: PaginationStyle;
  itemsPath: string;
  /** Said to the user once: how the walk was understood, or why it stopped. */
  note?: string;
}

export class PageError extends Error {}

const ITEM_KEYS = [
  'items',
  'data',
  'results',
  'records',
  'entries',
  'values',
  'value',
  'elements',
  'rows',
  'list',
  'hits.hits',
  'data.items',
  'data.results',
];
const NEXT_URL_KEYS = [
  'next',
  'next_url',
  'nextUrl',
  'next_page_url',
  'nextPageUrl',
  'nextLink',
  '@odata.nextLink',
  'links.next',
  'links.next.href',
  '_links.next.href',
  'paging.next',
  'pagination.next',
  'pagination.next_url',
  'meta.next',
];
/** Cursor fields and the query parameter each API expects the cursor back in. */
const CURSOR_KEYS: [string, string][] = [
  ['nextPageToken', 'pageToken'],
  ['next_page_token', 'page_token'],
  ['next_cursor', 'cursor'],
  ['nextCursor', 'cursor'],
  ['meta.next_cursor', 'cursor'],
  ['meta.nextCursor', 'cursor'],
  ['response_metadata.next_cursor', 'cursor'],
  ['pagination.next_cursor', 'cursor'],
  ['pagination.cursor', 'cursor'],
  ['meta.next_token', 'pagination_token'],
  ['continuationToken', 'continuationToken'],
  ['cursor', 'cursor'],
];
const PAGE_PARAMS = ['page', 'page_number', 'pageNumber'];
const OFFSET_PARAMS = ['offset', 'skip', 'start', 'startIndex'];
const TOTAL_PAGE_KEYS = [
  'total_pages',
  'totalPages',
  'pages',
  'page_count',
  'pageCount',
  'meta.total_pages',
  'meta.totalPages',
  'pagination.total_pages',
];
const TOTAL_KEYS = ['total', 'count', 'total_count', 'totalCount', 'totalResults', 'meta.total', 'pagination.total'];
const ID_KEYS = ['id', 'ID', 'Id', '_id', 'uuid', 'key'];

const isUrlish = (v: string) => /^(https?:\/\/|\/|\?)/i.test(v);
const present = (v: unknown) => v !== undefined && v !== null && v !== '' && v !== false;

/** `Link: <…>; rel="next"` (RFC 8288), as GitHub and many others send it. */
export function linkNext(headers: NameValue[]): string | undefined {
  const link = headerValue(headers, 'link');
  if (!link) return undefined;
  for (const m of link.matchAll(/<([^<>]*)>((?:\s*(?:;[^;,]+)+)?)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(m[2])?.[1];
    if (rel && rel.toLowerCase().split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

function findItems(body: unknown, path: string | undefined): { items: unknown[]; path: string } {
  if (path !== undefined) {
    const v = path === '' || path === '$' ? body : getPath(body, path);
    if (!Array.isArray(v)) throw new PageError(`--items ${path}: the page has no array there`);
    return { items: v, path };
  }
  if (Array.isArray(body)) return { items: body, path: '$' };
  for (const k of ITEM_KEYS) {
    const v = getPath(body, k);
    if (Array.isArray(v)) return { items: v, path: k };
  }
  if (body && typeof body === 'object')
    for (const [k, v] of Object.entries(body))
      if (Array.isArray(v) && v.some((x) => x && typeof x === 'object')) return { items: v, path: k };
  const keys = body && typeof body === 'object' ? Object.keys(body).join(', ') : typeof body;
  throw new PageError(`the page holds no list of records (top-level: ${keys}); name the array with --items`);
}

function idOf(item: unknown, path: string | undefined): string | undefined {
  if (typeof item === 'string' || typeof item === 'number') return String(item);
  if (!item || typeof item !== 'object') return undefined;
  const keys = path ? [path] : ID_KEYS;
  for (const k of keys) {
    const v = getPath(item, k);
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return undefined;
}

function withParam(url: string, name: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.href;
}

function numberAt(body: unknown, keys: string[]): { path: string; value: number } | undefined {
  for (const k of keys) {
    const v = getPath(body, k);
    if (typeof v === 'number' && Number.isFinite(v)) return { path: k, value: v };
  }
  return undefined;
}

/** Picks the style from the first page, or from what the user set. */
export function detectStyle(url: string, headers: NameValue[], body: unknown, source: ListSource): PaginationStyle {
  const u = new URL(url);
  if (source.next) {
    const v = getPath(body, source.next);
    if (typeof v === 'string' && isUrlish(v) && !source.cursorParam) return { kind: 'next-url', path: source.next };
    const last = source.next.split('.').pop()!;
    const param = source.cursorParam ?? CURSOR_KEYS.find(([k]) => k === source.next || k === last)?.[1] ?? last;
    return { kind: 'cursor', path: source.next, param };
  }
  if (source.cursorParam) {
    const found = CURSOR_KEYS.find(([k]) => present(getPath(body, k)));
    if (!found)
      throw new PageError(
        `--cursor-param ${source.cursorParam}: no cursor field in the first page; name it with --next`,
      );
    return { kind: 'cursor', path: found[0], param: source.cursorParam };
  }
  if (source.pageParam)
    return { kind: 'page', param: source.pageParam, totalPath: numberAt(body, TOTAL_PAGE_KEYS)?.path };
  if (source.offsetParam)
    return { kind: 'offset', param: source.offsetParam, totalPath: numberAt(body, TOTAL_KEYS)?.path };
  if (linkNext(headers) !== undefined) return { kind: 'link' };
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const k of NEXT_URL_KEYS) {
      const v = getPath(body, k);
      if (typeof v === 'string' && isUrlish(v)) return { kind: 'next-url', path: k };
    }
    for (const [k, param] of CURSOR_KEYS)
      if (present(getPath(body, k)) && typeof getPath(body, k) !== 'object') return { kind: 'cursor', path: k, param };
  }
  const pageParam = PAGE_PARAMS.find((p) => u.searchParams.has(p));
  const totalPages = numberAt(body, TOTAL_PAGE_KEYS);
  if (pageParam || totalPages) return { kind: 'page', param: pageParam ?? 'page', totalPath: totalPages?.path };
  const offsetParam =
    OFFSET_PARAMS.find((p) => u.searchParams.has(p)) ??
    (numberAt(body, ['offset', 'skip', 'start'])
      ? String(numberAt(body, ['offset', 'skip', 'start'])!.path)
      : undefined);
  if (offsetParam) return { kind: 'offset', param: offsetParam, totalPath: numberAt(body, TOTAL_KEYS)?.path };
  return { kind: 'single' };
}

export function describeStyle(s: PaginationStyle): string {
  switch (s.kind) {
    case 'link':
      return 'Link: rel="next" headers';
    case 'next-url':
      return `the next-page URL in "${s.path}"`;
    case 'cursor':
      return `the cursor in "${s.path}", sent back as ?${s.param}=`;
    case 'page':
      return `?${s.param}= counted up one a page${s.totalPath ? ` to "${s.totalPath}"` : ' until a page is empty'}`;
    case 'offset':
      return `?${s.param}= advanced by each page's records${s.totalPath ? ` up to "${s.totalPath}"` : ' until a page is empty'}`;
    case 'single':
      return 'one page (no next-page sign found)';
  }
}

/**
 * Reads one page: its records, and the URL of the next page. `style` is the
 * one detected on the first page; pass undefined there.
 */
export function readPage(
  url: string,
  headers: NameValue[],
  bodyText: string,
  source: ListSource,
  style: PaginationStyle | undefined,
  itemsPath: string | undefined,
): PageRecords {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    throw new PageError(`the page is not JSON (it starts "${bodyText.slice(0, 40).replace(/\s+/g, ' ')}")`);
  }
  const { items, path } = findItems(body, source.items ?? itemsPath);
  const records: PageRecords['records'] = [];
  for (const item of items) {
    const id = idOf(item, source.id);
    if (id === undefined) {
      const keys = item && typeof item === 'object' ? Object.keys(item).slice(0, 12).join(', ') : typeof item;
      throw new PageError(
        `a record in "${path}" has no ${source.id ? `"${source.id}"` : 'id'} field (its fields: ${keys}); name the id with --id`,
      );
    }
    records.push({ id, fields: typeof item === 'object' && item ? JSON.stringify(flattenFields(item)) : '{}' });
  }
  const s = style ?? detectStyle(url, headers, body, source);
  let next: string | null = null;
  switch (s.kind) {
    case 'link': {
      const l = linkNext(headers);
      next = l === undefined ? null : new URL(l, url).href;
      break;
    }
    case 'next-url': {
      const v = getPath(body, s.path);
      next = typeof v === 'string' && v ? new URL(v, url).href : null;
      break;
    }
    case 'cursor': {
      const v = getPath(body, s.path);
      next = (typeof v === 'string' || typeof v === 'number') && v !== '' ? withParam(url, s.param, String(v)) : null;
      break;
    }
    case 'page': {
      const current = Number(new URL(url).searchParams.get(s.param) ?? '1') || 1;
      const total = s.totalPath ? getPath(body, s.totalPath) : undefined;
      next =
        items.length === 0 || (typeof total === 'number' && current >= total)
          ? null
          : withParam(url, s.param, String(current + 1));
      break;
    }
    case 'offset': {
      const current = Number(new URL(url).searchParams.get(s.param) ?? '0') || 0;
      const total = s.totalPath ? getPath(body, s.totalPath) : undefined;
      const after = current + items.length;
      next =
        items.length === 0 || (typeof total === 'number' && after >= total)
          ? null
          : withParam(url, s.param, String(after));
      break;
    }
    case 'single':
      next = null;
  }
  return { records, next, style: s, itemsPath: path };
}
