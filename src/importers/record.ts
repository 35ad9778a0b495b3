// The one JSON → Exchange mapper. Every input that gives an exchange as a JSON
// record goes through it: a JSON file ({ "request": …, "response": … }, json.ts),
// a denied HAR entry (har/entry.ts) and a rule fixture (rules/_lib/fixtures.ts),
// so a fixture reads as the same file would when a user hands it over.
//
// A record has HAR-shaped parts. Headers (and cookies, query, form
// parameters) may be a HAR name/value list or an object ({ "Server": "nginx" },
// a list value for a repeated header); "body" is shorthand for content.text
// (a request's "body" for postData.text). An empty list is as if absent.
import { InputError } from '../errors.ts';
import type {
  Exchange,
  ExchangeRequest,
  ExchangeResponse,
  NameValue,
  PostData,
  ResponseContent,
} from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import { clip, completeRequest } from './common.ts';

export interface RecordOptions {
  /** How the input is named in errors. */
  name: string;
  /**
   * "strict" (default): a field of the wrong type is an InputError naming it
   * (a JSON exchange a person wrote). "lenient": such a field is left out, as
   * if absent, and a request without a URL is no request (an entry of a HAR
   * a tool wrote, read as far as it makes sense).
   */
  mode?: 'strict' | 'lenient';
  /**
   * Derive what the record leaves out (default true): a body's size and
   * type from Content-Type, the request's cookies and query from its headers
   * and URL. Rule fixtures map exactly what they say (false).
   */
  complete?: boolean;
  /** The HTTP version of a request or response that gives none (default: none). */
  httpVersion?: string;
}

/** The parts of one record, before it is known to hold a response. */
export interface RecordParts {
  request?: ExchangeRequest;
  response?: ExchangeResponse;
  startedDateTime?: string;
  serverIPAddress?: string;
}

type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const lenient = (o: RecordOptions) => o.mode === 'lenient';

/** A string as is, a number as written; anything else is no string. */
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** JSON text of a value, for a message; a value JSON.stringify cannot write (nested too deeply) is named instead. */
export function shown(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return 'a value nested too deeply to show';
  }
}

/** JSON text of a value given where text was expected; InputError (strict) or undefined when it cannot be written. */
function asText(v: unknown, where: string, o: RecordOptions): string | undefined {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch (err) {
    if (lenient(o)) return undefined;
    const why = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    throw new InputError(o.name, `${where}: cannot be read as text (${why})`, { cause: err });
  }
}

/** A body: a string as is; a JSON body written as a JSON value rather than as a string, as its JSON text. */
function bodyText(body: unknown, where: string, o: RecordOptions): string | undefined {
  return typeof body === 'string' ? body : asText(body, where, o);
}

/** A header (or cookie, parameter) value: a string as is, another scalar as written, an object or list as JSON. */
function valueText(v: unknown, where: string, o: RecordOptions): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? (asText(v, where, o) ?? '') : String(v);
}

/** Headers, cookies or parameters: a HAR name/value list or an object of names. */
export function nameValues(v: unknown, where: string, o: RecordOptions): NameValue[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    const out: NameValue[] = [];
    v.forEach((item, i) => {
      if (isObj(item) && typeof item.name === 'string') {
        out.push({ name: item.name, value: valueText(item.value, `${where}[${i}].value`, o) });
      } else if (!lenient(o)) {
        const found = clip(shown(item) ?? String(item));
        throw new InputError(o.name, `${where}[${i}]: expected { "name": …, "value": … }, found ${found}`);
      }
    });
    return out;
  }
  if (isObj(v)) {
    const out: NameValue[] = [];
    for (const [n, val] of Object.entries(v)) {
      for (const one of Array.isArray(val) ? val : [val])
        out.push({ name: n, value: valueText(one, `${where}.${n}`, o) });
    }
    return out;
  }
  if (lenient(o)) return [];
  const expected = 'expected a list of { "name", "value" } or an object of header names';
  throw new InputError(o.name, `${where}: ${expected}, found ${typeof v}`);
}

/** A request; undefined (lenient) when the record has none that can be read. */
export function requestFromRecord(r: unknown, o: RecordOptions): ExchangeRequest | undefined {
  const complete = o.complete !== false;
  if (!isObj(r)) {
    if (lenient(o)) return undefined;
    throw new InputError(
      o.name,
      `request: expected an object, found ${shown(r) === undefined ? typeof r : clip(shown(r)!)}`,
    );
  }
  let method: string;
  if (lenient(o)) {
    if (typeof r.url !== 'string') return undefined;
    // An empty method is no method: GET, as when it is missing.
    method = str(r.method) || 'GET';
  } else {
    if (typeof r.url !== 'string' || !URL.canParse(r.url)) {
      const found = clip(shown(r.url) ?? 'nothing');
      throw new InputError(
        o.name,
        `request.url: expected an absolute URL such as "https://example.com/path", found ${found}`,
      );
    }
    if (r.method !== undefined && (typeof r.method !== 'string' || !/^[A-Za-z][\w-]*$/.test(r.method))) {
      const found = clip(shown(r.method) ?? String(r.method));
      throw new InputError(o.name, `request.method: expected an HTTP method such as "GET", found ${found}`);
    }
    method = (r.method as string | undefined) ?? 'GET';
  }
  const headers = nameValues(r.headers, 'request.headers', o);
  const req: ExchangeRequest = { method, url: r.url, headers };
  const httpVersion = nonEmpty(r.httpVersion) ?? o.httpVersion;
  if (httpVersion) req.httpVersion = httpVersion;
  const cookies = nameValues(r.cookies, 'request.cookies', o);
  if (cookies.length) req.cookies = cookies;
  const query = nameValues(r.queryString, 'request.queryString', o);
  if (query.length) req.queryString = query;
  const contentType = complete ? (headerValue(headers, 'content-type') ?? '') : '';
  if (isObj(r.postData)) {
    const pd: PostData = { mimeType: typeof r.postData.mimeType === 'string' ? r.postData.mimeType : contentType };
    if (typeof r.postData.text === 'string') pd.text = r.postData.text;
    const params = nameValues(r.postData.params, 'request.postData.params', o);
    if (params.length) pd.params = params;
    req.postData = pd;
  } else if (r.body !== undefined && r.body !== null) {
    const text = bodyText(r.body, 'request.body', o);
    req.postData = { mimeType: contentType, ...(text === undefined ? {} : { text }) };
  }
  return complete ? completeRequest(req) : req;
}

/** The status of a response record: a number, or three digits as a string. */
function statusOf(r: Obj, o: RecordOptions): number {
  const status = typeof r.status === 'string' && /^\d{3}$/.test(r.status) ? Number(r.status) : r.status;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 999) return status;
  if (lenient(o)) return Number(r.status);
  const found = clip(shown(r.status) ?? 'nothing');
  throw new InputError(o.name, `response.status: expected an HTTP status code such as 403, found ${found}`);
}

/** A response. */
export function responseFromRecord(r: unknown, o: RecordOptions): ExchangeResponse {
  const complete = o.complete !== false;
  if (!isObj(r)) {
    if (!lenient(o)) throw new InputError(o.name, `response: expected an object, found ${clip(shown(r) ?? typeof r)}`);
    r = {};
  }
  const rec = r as Obj;
  const headers = nameValues(rec.headers, 'response.headers', o);
  const contentType = complete ? (headerValue(headers, 'content-type') ?? '') : '';
  let content: ResponseContent;
  if (isObj(rec.content)) {
    // Only the fields of the model, each of its type: the engine reads them as such.
    const c = rec.content;
    content = {};
    if (typeof c.size === 'number' && Number.isFinite(c.size)) content.size = c.size;
    if (typeof c.mimeType === 'string') content.mimeType = c.mimeType;
    else if (complete) content.mimeType = contentType;
    if (c.text !== undefined && c.text !== null) {
      const text = bodyText(c.text, 'response.content.text', o);
      if (text !== undefined) content.text = text;
    }
    if (typeof c.encoding === 'string' && c.encoding) content.encoding = c.encoding;
    if (typeof c.truncated === 'boolean') content.truncated = c.truncated;
  } else {
    const text = (rec.body === undefined || rec.body === null ? '' : bodyText(rec.body, 'response.body', o)) ?? '';
    content = complete
      ? { size: Buffer.byteLength(text, 'utf8'), mimeType: contentType, text }
      : { mimeType: '', text };
  }
  const res: ExchangeResponse = { status: statusOf(rec, o), statusText: str(rec.statusText) ?? '', headers, content };
  const httpVersion = nonEmpty(rec.httpVersion) ?? o.httpVersion;
  if (httpVersion) res.httpVersion = httpVersion;
  const redirectURL = nonEmpty(rec.redirectURL);
  if (redirectURL) res.redirectURL = redirectURL;
  return res;
}

/** The parts a record gives: its request and response (each when present), when and where it was sent. */
export function readRecord(v: Obj, o: RecordOptions): RecordParts {
  const out: RecordParts = {};
  if (v.request !== undefined) {
    const request = requestFromRecord(v.request, o);
    if (request) out.request = request;
  }
  if (v.response !== undefined) out.response = responseFromRecord(v.response, o);
  if (typeof v.startedDateTime === 'string') out.startedDateTime = v.startedDateTime;
  const ip = nonEmpty(v.serverIPAddress);
  if (ip) out.serverIPAddress = ip;
  return out;
}

/** An exchange from parts that hold a response. */
export function exchangeOf(p: RecordParts & { response: ExchangeResponse }, source: Exchange['source']): Exchange {
  const e: Exchange = { response: p.response, source };
  if (p.request) e.request = p.request;
  if (p.startedDateTime) e.startedDateTime = p.startedDateTime;
  if (p.serverIPAddress) e.serverIPAddress = p.serverIPAddress;
  return e;
}
