// Everything a rule may read about one exchange, computed once. Rules see only
// this: the exchange's parsed evidence, never the network, never each other.
import { createRequire } from 'node:module';
import type { XMLParser } from 'fast-xml-parser';
import { headerValue, headerValues, type Exchange } from '../model/exchange.ts';
import type { CredentialReport } from '../model/credential.ts';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.ts';

export interface Body {
  text: string;
  contentType: string;
  json?: unknown;
  /** Leaf elements of an XML body by dotted path: { "Error.Code": "AccessDenied" }. */
  xml?: Record<string, string>;
  /** <title> of an HTML body, whitespace collapsed. */
  htmlTitle?: string;
  /** First <h1> of an HTML body. */
  htmlH1?: string;
}

export interface Context {
  exchange: Exchange;
  status: number;
  method: string;
  url?: URL;
  /** Response header (all values joined), case-insensitive. */
  header(name: string): string | undefined;
  headers(name: string): string[];
  /** Request header, case-insensitive. */
  requestHeader(name: string): string | undefined;
  body: Body;
  challenges: Challenge[];
  credential: CredentialReport;
}

const MAX_BODY_PARSE = 2 * 1024 * 1024;
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

function parseBody(text: string, contentType: string): Body {
  const body: Body = { text, contentType };
  const sample = text.length > MAX_BODY_PARSE ? text.slice(0, MAX_BODY_PARSE) : text;
  const trimmed = sample.trimStart();
  if (/json/i.test(contentType) || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      body.json = JSON.parse(sample);
    } catch {
      /* not JSON after all */
    }
  }
  if (body.json === undefined && (/xml/i.test(contentType) || trimmed.startsWith('<?xml') || /^<[A-Za-z][\w:-]*>/.test(trimmed)) && !/^<!doctype html|^<html/i.test(trimmed)) {
    try {
      const parsed = xml().parse(sample);
      const flat: Record<string, string> = {};
      flatten(parsed, '', flat);
      if (Object.keys(flat).length) body.xml = flat;
    } catch {
      /* not XML */
    }
  }
  if (/html/i.test(contentType) || /^<(!doctype html|html|head|body|center|h1|title)/i.test(trimmed)) {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(sample);
    if (title) body.htmlTitle = collapse(title[1]);
    const h1 = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(sample);
    if (h1) body.htmlH1 = collapse(h1[1].replace(/<[^>]+>/g, ''));
  }
  return body;
}

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

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
  return {
    exchange,
    status: res.status,
    method: (req?.method ?? 'GET').toUpperCase(),
    url,
    header: (name) => headerValue(res.headers, name),
    headers: (name) => headerValues(res.headers, name),
    requestHeader: (name) => headerValue(req?.headers, name),
    body: parseBody(decodeBody(exchange), contentType),
    challenges: parseWwwAuthenticate(headerValues(res.headers, 'www-authenticate')),
    credential,
  };
}

/** Reads a dotted path ("error.status", "errors.0.message") out of parsed JSON. */
export function jsonAt(json: unknown, path: string): unknown {
  let node: unknown = json;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

export function jsonString(json: unknown, path: string): string | undefined {
  const v = jsonAt(json, path);
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}
