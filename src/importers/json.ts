// A JSON exchange: { "request": …, "response": … } with HAR-shaped parts,
// or a single HAR entry. Headers may be HAR name/value lists or objects
// ({ "Server": "nginx" }, a list value for a repeated header); "body" is
// shorthand for content.text (a request's "body" for postData.text).
import { InputError } from '../errors.ts';
import type { Exchange, ExchangeRequest, ExchangeResponse, NameValue, PostData, ResponseContent } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import { clip, completeRequest } from './common.ts';

export interface JsonParse {
  request?: ExchangeRequest;
  response?: ExchangeResponse;
  startedDateTime?: string;
  serverIPAddress?: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseText(input: string | unknown, name: string): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new InputError(name, `expected JSON, ${(err as Error).message.replace(/^JSON\.parse: /, '')}`, { cause: err });
  }
}

function nameValues(v: unknown, where: string, name: string): NameValue[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    return v.map((item, i) => {
      if (!isObj(item) || typeof item.name !== 'string') {
        throw new InputError(name, `${where}[${i}]: expected { "name": …, "value": … }, found ${clip(shown(item) ?? String(item))}`);
      }
      return { name: item.name, value: valueText(item.value, `${where}[${i}].value`, name) };
    });
  }
  if (isObj(v)) {
    const out: NameValue[] = [];
    for (const [n, val] of Object.entries(v)) {
      for (const one of Array.isArray(val) ? val : [val]) out.push({ name: n, value: valueText(one, `${where}.${n}`, name) });
    }
    return out;
  }
  throw new InputError(name, `${where}: expected a list of { "name", "value" } or an object of header names, found ${typeof v}`);
}

/** JSON text of a value, for a message; a value JSON.stringify cannot write (nested too deeply) is named instead. */
function shown(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return 'a value nested too deeply to show';
  }
}

/** JSON text of a value the input gave where text was expected; InputError when JSON.stringify cannot write it. */
function asText(v: unknown, where: string, name: string): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch (err) {
    const why = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    throw new InputError(name, `${where}: cannot be read as text (${why})`, { cause: err });
  }
}

function bodyText(body: unknown, where: string, name: string): string {
  // A JSON body written as a JSON value rather than as a string.
  return typeof body === 'string' ? body : asText(body, where, name);
}

/** A header (or cookie, parameter) value: a string as is, another scalar as written, an object or list as JSON. */
function valueText(v: unknown, where: string, name: string): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? asText(v, where, name) : String(v);
}

function readRequest(r: unknown, name: string): ExchangeRequest {
  if (!isObj(r)) throw new InputError(name, `request: expected an object, found ${shown(r) === undefined ? typeof r : clip(shown(r)!)}`);
  if (typeof r.url !== 'string' || !URL.canParse(r.url)) {
    throw new InputError(name, `request.url: expected an absolute URL such as "https://example.com/path", found ${clip(shown(r.url) ?? 'nothing')}`);
  }
  if (r.method !== undefined && (typeof r.method !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(r.method))) {
    throw new InputError(name, `request.method: expected an HTTP method such as "GET", found ${clip(shown(r.method) ?? String(r.method))}`);
  }
  const headers = nameValues(r.headers, 'request.headers', name);
  const req: ExchangeRequest = { method: (r.method as string | undefined) ?? 'GET', url: r.url, headers };
  if (typeof r.httpVersion === 'string') req.httpVersion = r.httpVersion;
  if (r.cookies !== undefined) req.cookies = nameValues(r.cookies, 'request.cookies', name);
  if (r.queryString !== undefined) req.queryString = nameValues(r.queryString, 'request.queryString', name);
  if (isObj(r.postData)) {
    const pd: PostData = { mimeType: typeof r.postData.mimeType === 'string' ? r.postData.mimeType : (headerValue(headers, 'content-type') ?? '') };
    if (typeof r.postData.text === 'string') pd.text = r.postData.text;
    if (r.postData.params !== undefined) pd.params = nameValues(r.postData.params, 'request.postData.params', name);
    req.postData = pd;
  } else if (r.body !== undefined && r.body !== null) {
    req.postData = { mimeType: headerValue(headers, 'content-type') ?? '', text: bodyText(r.body, 'request.body', name) };
  }
  return completeRequest(req);
}

function readResponse(r: unknown, name: string): ExchangeResponse {
  if (!isObj(r)) throw new InputError(name, `response: expected an object, found ${clip(shown(r) ?? typeof r)}`);
  const status = typeof r.status === 'string' && /^\d{3}$/.test(r.status) ? Number(r.status) : r.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) {
    throw new InputError(name, `response.status: expected an HTTP status code such as 403, found ${clip(shown(r.status) ?? 'nothing')}`);
  }
  const headers = nameValues(r.headers, 'response.headers', name);
  let content: ResponseContent;
  if (isObj(r.content)) {
    // Only the fields of the model, each of its type: the engine reads them as such.
    const c = r.content;
    content = {};
    if (typeof c.size === 'number' && Number.isFinite(c.size)) content.size = c.size;
    content.mimeType = typeof c.mimeType === 'string' ? c.mimeType : (headerValue(headers, 'content-type') ?? '');
    if (c.text !== undefined && c.text !== null) content.text = bodyText(c.text, 'response.content.text', name);
    if (typeof c.encoding === 'string' && c.encoding) content.encoding = c.encoding;
    if (typeof c.truncated === 'boolean') content.truncated = c.truncated;
  } else {
    const text = r.body === undefined || r.body === null ? '' : bodyText(r.body, 'response.body', name);
    content = { size: Buffer.byteLength(text, 'utf8'), mimeType: headerValue(headers, 'content-type') ?? '', text };
  }
  const res: ExchangeResponse = {
    status,
    statusText: typeof r.statusText === 'string' ? r.statusText : '',
    headers,
    content,
  };
  if (typeof r.httpVersion === 'string') res.httpVersion = r.httpVersion;
  if (typeof r.redirectURL === 'string' && r.redirectURL) res.redirectURL = r.redirectURL;
  return res;
}

function isHar(v: unknown): boolean {
  return isObj(v) && isObj(v.log) && Array.isArray(v.log.entries);
}

function readOne(v: unknown, name: string): JsonParse {
  if (!isObj(v)) throw new InputError(name, 'expected a JSON object {"request": …, "response": …}');
  if (isHar(v)) throw new InputError(name, 'this is a HAR file (it has log.entries), not a single exchange; read it as a HAR');
  if (v.request === undefined && v.response === undefined) {
    throw new InputError(name, `expected a JSON object {"request": …, "response": …}, found keys ${clip(Object.keys(v).join(', ') || 'none')}`);
  }
  const out: JsonParse = {};
  if (v.request !== undefined) out.request = readRequest(v.request, name);
  if (v.response !== undefined) out.response = readResponse(v.response, name);
  if (typeof v.startedDateTime === 'string') out.startedDateTime = v.startedDateTime;
  if (typeof v.serverIPAddress === 'string' && v.serverIPAddress) out.serverIPAddress = v.serverIPAddress;
  return out;
}

function toExchange(p: JsonParse, name: string, index?: number): Exchange {
  if (!p.response) {
    throw new InputError(name, `${index === undefined ? '' : `[${index}] `}expected a "response" object beside the request`);
  }
  const e: Exchange = { response: p.response, source: { kind: 'json', name, ...(index === undefined ? {} : { index }) } };
  if (p.request) e.request = p.request;
  if (p.startedDateTime) e.startedDateTime = p.startedDateTime;
  if (p.serverIPAddress) e.serverIPAddress = p.serverIPAddress;
  return e;
}

/**
 * Reads a JSON document (text or an already parsed value) without requiring a
 * response: an object gives one part, an array one per element.
 */
export function parseJson(input: string | unknown, name = 'json'): JsonParse[] {
  const v = parseText(input, name);
  if (Array.isArray(v)) {
    if (!v.length) throw new InputError(name, 'expected a JSON object {"request": …, "response": …}, found an empty list');
    return v.map((item, i) => {
      try {
        return readOne(item, name);
      } catch (err) {
        if (err instanceof InputError) throw new InputError(name, `[${i}] ${err.detail}`, { cause: err });
        throw err;
      }
    });
  }
  return [readOne(v, name)];
}

/** One exchange from {request, response} JSON or a single HAR entry. */
export function fromJson(input: string | unknown, name = 'json'): Exchange {
  const parts = parseJson(input, name);
  if (parts.length !== 1) throw new InputError(name, `expected one exchange, found a list of ${parts.length}`);
  return toExchange(parts[0]!, name);
}

/** Every exchange of a JSON object or list of them. */
export function fromJsonAll(input: string | unknown, name = 'json'): Exchange[] {
  const parts = parseJson(input, name);
  return parts.map((p, i) => toExchange(p, name, parts.length > 1 ? i : undefined));
}
