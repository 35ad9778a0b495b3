// Builds the Context (src/model/rule.ts) every rule reads: the exchange's
// parsed evidence, computed once. Rules see only this, never the network,
// never each other.
import { createRequire } from 'node:module';
import type { XMLParser } from 'fast-xml-parser';
import { headerValue, headerValues, type Exchange } from '../model/exchange.ts';
import type { CredentialReport } from '../model/credential.ts';
import type { Body, Context, DenialWords } from '../model/rule.ts';
import { readWords } from './words.ts';
import { parseWwwAuthenticate } from './www-authenticate.ts';

export type { Body, Context };

/**
 * How much of a body rules see (64 Ki characters), for the text and for what
 * is parsed out of it (JSON, XML leaves, the HTML title and h1). The words a
 * denial is recognised by sit in small bodies: error pages and API error
 * documents are a few KiB, and the largest rule fixture is far below this.
 * Bounding the view keeps a diagnosis fast whatever a server sends — a
 * megabyte of one letter, or a 403 that carries a whole page — and every regex
 * a rule runs sees at most this much. A JSON or XML body longer than the view
 * is cut mid-document, so it is not parsed: rules then read its first 64 Ki
 * characters as text.
 */
export const BODY_VIEW_CHARS = 64 * 1024;
// Loaded the first time a body looks like XML: most denials are HTML or JSON,
// and the parser's module graph costs every start-up ~10 ms otherwise.
let xmlParser: XMLParser | undefined;
function xml(): XMLParser {
  if (!xmlParser) {
    const { XMLParser: Parser } = createRequire(import.meta.url)('fast-xml-parser') as typeof import('fast-xml-parser');
    xmlParser = new Parser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });
  }
  return xmlParser;
}

export function decodeBody(exchange: Exchange): string {
  const c = exchange.response.content;
  if (!c?.text) return '';
  if (c.encoding === 'base64') {
    try {
      return Buffer.from(c.text, 'base64').toString('utf8');
    } catch {
      return '';
    }
  }
  return c.text;
}

function flatten(node: unknown, prefix: string, out: Record<string, string>): void {
  if (node === null || node === undefined) return;
  if (typeof node !== 'object') {
    if (prefix && !(prefix in out)) out[prefix] = String(node);
    return;
  }
  if (Array.isArray(node)) {
    for (const item of node) flatten(item, prefix, out);
    return;
  }
  for (const [k, v] of Object.entries(node)) {
    if (k === '?xml') continue;
    flatten(v, prefix ? `${prefix}.${k}` : k, out);
  }
}

function parseBody(full: string, contentType: string): Body {
  const truncated = full.length > BODY_VIEW_CHARS;
  const text = truncated ? full.slice(0, BODY_VIEW_CHARS) : full;
  const body: Body = { text, contentType, ...(truncated ? { truncated } : {}) };
  const trimmed = text.trimStart();
  if (/json/i.test(contentType) || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      body.json = JSON.parse(text);
    } catch {
      /* not JSON after all */
    }
  }
  if (
    body.json === undefined &&
    (/xml/i.test(contentType) || trimmed.startsWith('<?xml') || /^<[A-Za-z][\w:-]*>/.test(trimmed)) &&
    !/^<!doctype html|^<html/i.test(trimmed)
  ) {
    try {
      const parsed = xml().parse(text);
      const flat: Record<string, string> = {};
      flatten(parsed, '', flat);
      if (Object.keys(flat).length) body.xml = flat;
    } catch {
      /* not XML */
    }
  }
  if (/html/i.test(contentType) || /^<(!doctype html|html|head|body|center|h1|title)/i.test(trimmed)) {
    const title = inner(text, /<title[^>]{0,1024}>/i, /<\/title>/gi);
    if (title !== undefined) body.htmlTitle = collapse(title);
    // A tag is `<…>` without a `<` inside: a stray `<` in the text is kept, and
    // a run of `<` cannot make each start rescan the rest of the heading.
    const h1 = inner(text, /<h1[^>]{0,1024}>/i, /<\/h1>/gi);
    if (h1 !== undefined) body.htmlH1 = collapse(h1.replace(/<[^<>]+>/g, ''));
  }
  return body;
}

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * What lies between the first opening tag and the next closing tag, as
 * `/<title[^>]*>([\s\S]*?)<\/title>/` found it, in one pass: that regex tried
 * every later `<title` again when the first had no closing tag, rescanning the
 * rest of the body each time. The opening tag's attributes are bounded (1 KiB).
 */
function inner(text: string, open: RegExp, close: RegExp): string | undefined {
  const o = open.exec(text);
  if (!o) return undefined;
  const from = o.index + o[0].length;
  close.lastIndex = from;
  const c = close.exec(text);
  return c ? text.slice(from, c.index) : undefined;
}

export function buildContext(exchange: Exchange, credential: CredentialReport): Context {
  const res = exchange.response;
  const req = exchange.request;
  let url: URL | undefined;
  try {
    url = req ? new URL(req.url) : undefined;
  } catch {
    url = undefined;
  }
  const contentType = headerValue(res.headers, 'content-type') ?? res.content?.mimeType ?? '';
  const body = parseBody(decodeBody(exchange), contentType);
  let words: DenialWords | undefined;
  return {
    exchange,
    status: res.status,
    method: (req?.method ?? 'GET').toUpperCase(),
    url,
    header: (name) => headerValue(res.headers, name),
    headers: (name) => headerValues(res.headers, name),
    requestHeader: (name) => headerValue(req?.headers, name),
    body,
    challenges: parseWwwAuthenticate(headerValues(res.headers, 'www-authenticate')),
    proxyChallenges: parseWwwAuthenticate(headerValues(res.headers, 'proxy-authenticate')),
    credential,
    get words() {
      return (words ??= readWords(body, res.headers ?? [], contentType, res.statusText));
    },
  };
}
