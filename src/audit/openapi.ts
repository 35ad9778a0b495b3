// OpenAPI 3.0/3.1 → the audit's plan: every operation of the document, as one
// request with its parameters filled in, and what each identity should get
// (expect.ts). A document is as hostile as a server's answer: it is read within
// a size and time bound, its YAML aliases are bounded, its `$ref`s are followed
// only inside the document, within a depth and without cycles, and the URLs
// built from it must stay on the base URL's origin. What the audit cannot do
// with an operation (a parameter without a value, a body without an example, a
// reference to another file) puts it in `skipped` with the reason, never fails
// the plan; the plan's notes say what the audit could not judge.
import { parse as parseYaml } from 'yaml';
import { ProxyAgent, request, type Dispatcher } from 'undici';
import type { NameValue } from '../model/exchange.ts';
import { InputError } from '../errors.ts';
import { isSecretHeader, isSecretParam, redactUrl } from '../credentials/redact.ts';
import { networkError } from '../live/send.ts';
import { readBoundedFile } from './read-file.ts';
import { proxyFor } from '../live/proxy.ts';
import type { AuditIdentity, AuditOperation, AuditPlan, SkippedOperation } from './model.ts';
import {
  expectFor,
  requirementNotes,
  type OpenApiVersion,
  type SecurityRequirement,
  type SecurityScheme,
} from './expect.ts';

export const DEFAULT_MAX_SPEC_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SPEC_TIMEOUT_MS = 15_000;
const MAX_REDIRECTS = 5;
/** YAML aliases one document may use: enough for shared fragments, far from a billion laughs. */
const MAX_YAML_ALIASES = 100;
/** Steps one `$ref` chain may take before it is refused. */
const MAX_REF_DEPTH = 32;
/** Operations planned from one document; the rest are noted, not sent. */
const MAX_OPERATIONS = 10_000;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Json = Record<string, unknown>;

/** A parsed OpenAPI 3 document: its version and its root object as read. */
export interface OpenApiDoc {
  /** The document's `openapi` field, as written ("3.1.0"). */
  openapi: string;
  /** The semantics the audit reads it with (3.2 and later minors as 3.1). */
  version: OpenApiVersion;
  title?: string;
  root: Json;
}

export interface OpenApiPlanOptions {
  /** The file or URL, for AuditPlan.source.name. */
  name: string;
  /** --base-url; else servers[0].url if absolute (variables → their defaults); else InputError. */
  baseUrl?: string;
  /** --param name=value, for path, query and header parameters; wins over the spec. */
  params: Record<string, string>;
  identities: AuditIdentity[];
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isHttpUrl = (s: string) => /^https?:\/\//i.test(s);
/** A source as it may be shown: a URL's credentials redacted. */
const shownName = (name: string) => (isHttpUrl(name) ? redactUrl(name) : name);

// ── Reading ─────────────────────────────────────────────────────────────────

function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new InputError(source, 'is not UTF-8 text, so not an OpenAPI document');
  }
}

const tooLarge = (source: string, maxBytes: number) =>
  new InputError(source, `is larger than ${maxBytes} bytes, the most an OpenAPI document may be`);

/** The spec file, read up to its bound. */
const readSpecFile = async (path: string, maxBytes: number): Promise<string> =>
  decodeUtf8(await readBoundedFile(path, maxBytes, () => tooLarge(path, maxBytes)), path);

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Ends a body not wanted, quietly: its abort is the point, not an error. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function readBodyBounded(body: Dispatcher.ResponseData['body'], maxBytes: number, shown: string) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      discard(body);
      throw tooLarge(shown, maxBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readSpecUrl(source: string, maxBytes: number, timeoutMs: number): Promise<string> {
  const shown = redactUrl(source);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const agents: ProxyAgent[] = [];
  let url = source;
  try {
    for (let redirects = 0; ; redirects++) {
      const target = new URL(url);
      const proxy = proxyFor(target);
      const dispatcher = proxy.used && proxy.url ? new ProxyAgent(proxy.url) : undefined;
      if (dispatcher) agents.push(dispatcher);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(target, {
          method: 'GET',
          headers: { accept: 'application/yaml, application/json;q=0.9, */*;q=0.5', 'user-agent': 'why403' },
          signal: abort.signal,
          dispatcher,
        });
      } catch (err) {
        if (abort.signal.aborted) throw new InputError(shown, `no complete answer within ${timeoutMs} ms`);
        throw new InputError(shown, `could not be fetched: ${networkError(err, url, timeoutMs, proxy.url).message}`, {
          cause: err,
        });
      }
      const location = res.headers.location;
      if (REDIRECT_STATUSES.has(res.statusCode) && typeof location === 'string') {
        discard(res.body);
        if (redirects >= MAX_REDIRECTS) throw new InputError(shown, `redirected more than ${MAX_REDIRECTS} times`);
        const next = new URL(location, target);
        if (next.protocol !== 'http:' && next.protocol !== 'https:')
          throw new InputError(shown, `redirects to a ${next.protocol} URL, which is not read`);
        url = next.href;
        continue;
      }
      if (res.statusCode < 200 || res.statusCode > 299) {
        discard(res.body);
        throw new InputError(shown, `answered ${res.statusCode}, not the document`);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        discard(res.body);
        throw tooLarge(shown, maxBytes);
      }
      try {
        return decodeUtf8(await readBodyBounded(res.body, maxBytes, shown), shown);
      } catch (err) {
        if (err instanceof InputError) throw err;
        if (abort.signal.aborted) throw new InputError(shown, `no complete answer within ${timeoutMs} ms`);
        throw new InputError(shown, `the body could not be read: ${(err as Error).message}`, { cause: err });
      }
    }
  } finally {
    clearTimeout(timer);
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  }
}

/** Reads a spec from a file path or an http(s) URL. Bounded: at most maxBytes (default 16 MiB) read, 15 s for a URL,
 *  redirects followed at most 5 times. Failure → InputError(source, one clear line). */
export async function readSpecText(source: string, o: { maxBytes?: number; timeoutMs?: number } = {}): Promise<string> {
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_SPEC_BYTES;
  if (isHttpUrl(source)) {
    try {
      new URL(source);
    } catch {
      throw new InputError(redactUrl(source), 'is not a valid URL');
    }
    return readSpecUrl(source, maxBytes, o.timeoutMs ?? DEFAULT_SPEC_TIMEOUT_MS);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source))
    throw new InputError(redactUrl(source), 'only a file path or an http(s) URL can be read');
  return readSpecFile(source, maxBytes);
}

// ── Parsing ─────────────────────────────────────────────────────────────────

function parseTree(text: string, name: string): unknown {
  const body = text.replace(/^\uFEFF/, '');
  if (/^\s*[{[]/.test(body.slice(0, 64))) {
    try {
      return JSON.parse(body);
    } catch {
      // Not JSON after all: YAML flow style reads it, or says where it is wrong.
    }
  }
  try {
    return parseYaml(body, { maxAliasCount: MAX_YAML_ALIASES, uniqueKeys: false, logLevel: 'error' });
  } catch (err) {
    if (String((err as Error).message).includes('Excessive alias count'))
      throw new InputError(name, `uses YAML aliases past ${MAX_YAML_ALIASES}, a way to exhaust memory: refused`, {
        cause: err,
      });
    const first = String((err as Error).message ?? err).split('\n', 1)[0];
    throw new InputError(name, `is neither JSON nor YAML: ${first.slice(0, 200)}`, { cause: err });
  }
}

/** JSON or YAML; refuses Swagger 2.0, anything without `openapi: 3.x`, and a root that is not an object. */
export function parseOpenApi(text: string, name: string): OpenApiDoc {
  const root = parseTree(text, name);
  if (!isObject(root)) throw new InputError(name, 'is not an OpenAPI document: its root is not an object');
  if (root.swagger !== undefined)
    throw new InputError(
      name,
      `swagger: ${String(root.swagger).slice(0, 20)} is not supported: convert it to OpenAPI 3 first (for example with swagger2openapi or https://converter.swagger.io)`,
    );
  const openapi = typeof root.openapi === 'number' ? String(root.openapi) : root.openapi;
  const m = typeof openapi === 'string' ? /^3\.(\d{1,4})(?:\.\d{1,6})?(?:-[\w.]{1,40})?$/.exec(openapi.trim()) : null;
  if (!m || typeof openapi !== 'string')
    throw new InputError(
      name,
      openapi === undefined
        ? 'is not an OpenAPI document: it has no `openapi: 3.x` field'
        : `openapi: ${String(openapi).slice(0, 20)} is not supported: the audit reads OpenAPI 3.0 and 3.1`,
    );
  const info = isObject(root.info) ? root.info : undefined;
  return {
    openapi: openapi.trim(),
    version: m[1] === '0' ? '3.0' : '3.1',
    title: typeof info?.title === 'string' ? info.title : undefined,
    root,
  };
}

// ── References ──────────────────────────────────────────────────────────────

/** Why a `$ref` was not followed; the operation needing it is skipped with this message. */
class RefError extends Error {
  readonly ref: string;
  readonly external: boolean;
  constructor(message: string, ref: string, external = false) {
    super(message);
    this.ref = ref;
    this.external = external;
  }
}

function decodePointerToken(token: string, ref: string): string {
  let t: string;
  try {
    t = decodeURIComponent(token);
  } catch {
    throw new RefError(`$ref "${ref}" is not a valid JSON pointer`, ref);
  }
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

function lookupPointer(root: Json, ref: string): unknown {
  const pointer = ref.slice(1);
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) throw new RefError(`$ref "${ref}" is not a JSON pointer`, ref);
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = decodePointerToken(raw, ref);
    if (Array.isArray(node) && /^(?:0|[1-9]\d{0,8})$/.test(key)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else throw new RefError(`$ref "${ref}" points to nothing in the document`, ref);
  }
  return node;
}

/** `value` with its `$ref` chain followed inside the document: bounded, cycles refused, other documents refused. */
function resolveRef(root: Json, value: unknown): unknown {
  const seen: string[] = [];
  let node = value;
  while (isObject(node) && typeof node.$ref === 'string') {
    const ref = node.$ref;
    if (!ref.startsWith('#'))
      throw new RefError(
        `$ref "${ref.slice(0, 200)}" points to another document, which the audit does not fetch`,
        ref,
        true,
      );
    if (seen.includes(ref)) throw new RefError(`$ref cycle: ${[...seen, ref].join(' → ')}`, ref);
    if (seen.length >= MAX_REF_DEPTH)
      throw new RefError(`$ref chain longer than ${MAX_REF_DEPTH} steps at "${ref}"`, ref);
    seen.push(ref);
    node = lookupPointer(root, ref);
  }
  return node;
}

/** resolveRef for optional parts: an unresolvable one reads as absent, and says so in the notes. */
function resolveOptional(root: Json, value: unknown, notes: Set<string>, where: string): unknown {
  try {
    return resolveRef(root, value);
  } catch (err) {
    if (!(err instanceof RefError)) throw err;
    notes.add(`${where}: ${err.message}; left out`);
    return undefined;
  }
}

// ── Values ──────────────────────────────────────────────────────────────────

type Scalar = string | number | boolean;
const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** A usable parameter value: a scalar, or an array of scalars; anything else is none. */
function usable(v: unknown): Scalar | Scalar[] | undefined {
  if (isScalar(v)) return v;
  if (Array.isArray(v) && v.length && v.every(isScalar)) return v;
  return undefined;
}

/** The first example a Media Type, Parameter or Schema object gives, in the order the brief ranks them. */
function exampleOf(
  root: Json,
  holder: Json | undefined,
  notes: Set<string>,
  where: string,
): { found: boolean; value?: unknown } {
  if (!holder) return { found: false };
  if (holder.example !== undefined) return { found: true, value: holder.example };
  if (isObject(holder.examples))
    for (const ex of Object.values(holder.examples)) {
      const resolved = resolveOptional(root, ex, notes, where);
      if (isObject(resolved) && resolved.value !== undefined) return { found: true, value: resolved.value };
    }
  return { found: false };
}

function schemaValue(schema: Json | undefined): unknown {
  if (!schema) return undefined;
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  return undefined;
}

/** A parameter's value from the spec: example, examples, then its schema (or its content's). */
function specValue(root: Json, p: Json, notes: Set<string>, where: string): Scalar | Scalar[] | undefined {
  const own = exampleOf(root, p, notes, where);
  if (own.found) return usable(own.value);
  let schema = resolveOptional(root, p.schema, notes, where);
  if (!isObject(schema) && isObject(p.content)) {
    const media = Object.values(p.content).find(isObject);
    const ex = exampleOf(root, media, notes, where);
    if (ex.found) return usable(ex.value);
    schema = resolveOptional(root, media?.schema, notes, where);
  }
  return usable(schemaValue(isObject(schema) ? schema : undefined));
}

const asText = (v: Scalar) => String(v);

// ── Operations ──────────────────────────────────────────────────────────────

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  raw: Json;
}

/** Path-level parameters merged with the operation's (the operation's win by name and location). */
function mergeParameters(root: Json, pathLevel: unknown, opLevel: unknown): Parameter[] {
  const byKey = new Map<string, Parameter>();
  for (const group of [pathLevel, opLevel]) {
    if (!Array.isArray(group)) continue;
    for (const item of group) {
      const p = resolveRef(root, item);
      if (!isObject(p) || typeof p.name !== 'string' || typeof p.in !== 'string') continue;
      byKey.set(`${p.in}\u0000${p.name}`, {
        name: p.name,
        in: p.in,
        required: p.in === 'path' || p.required === true,
        raw: p,
      });
    }
  }
  return [...byKey.values()];
}

/** The names in a templated path, in order: "/orders/{orderId}/items/{n}" → orderId, n. */
function templateNames(path: string): string[] {
  return [...path.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
}

/** The headers OpenAPI says a Parameter Object may not describe (they are ignored). */
const RESERVED_HEADERS = new Set(['accept', 'content-type', 'authorization']);
const SAFE_HEADER_NAME = /^[!#$%&'*+\-.^`|~\w]+$/;
const SAFE_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

class Skip extends Error {}

interface Filled {
  path: string;
  query: string[];
  headers: NameValue[];
}

function valueFor(
  root: Json,
  p: Parameter,
  params: Record<string, string>,
  notes: Set<string>,
  where: string,
): Scalar | Scalar[] | undefined {
  return Object.hasOwn(params, p.name) ? params[p.name] : specValue(root, p.raw, notes, where);
}

/** The header and query parameter names the spec's apiKey schemes carry a credential in (lower case). */
function credentialNames(schemes: Record<string, SecurityScheme>): Set<string> {
  const names = new Set<string>();
  for (const s of Object.values(schemes)) if (s.type === 'apiKey' && s.name) names.add(s.name.toLowerCase());
  return names;
}

/**
 * The operation's parameters filled from --param and the spec's examples.
 * A parameter that carries a credential (an apiKey scheme's, or one named
 * like a secret) is never filled: credentials come from identities alone,
 * and an example key sent for every identity, the anonymous one included,
 * would be a guessed credential.
 */
function fillParameters(
  root: Json,
  path: string,
  parameters: Parameter[],
  params: Record<string, string>,
  notes: Set<string>,
  where: string,
  credentials: Set<string>,
): Filled {
  const filled: Filled = { path, query: [], headers: [] };
  for (const name of templateNames(path)) {
    const p = parameters.find((x) => x.in === 'path' && x.name === name) ?? {
      name,
      in: 'path',
      required: true,
      raw: {},
    };
    const v = valueFor(root, p, params, notes, where);
    if (v === undefined) throw new Skip(`no value for path parameter {${name}}; give --param ${name}=…`);
    const text = Array.isArray(v) ? v.map(asText).join(',') : asText(v);
    filled.path = filled.path.split(`{${name}}`).join(encodeURIComponent(text));
  }
  for (const p of parameters) {
    const secret =
      credentials.has(p.name.toLowerCase()) ||
      (p.in === 'header' && isSecretHeader(p.name)) ||
      (p.in === 'query' && isSecretParam(p.name, ''));
    if (secret && (p.in === 'header' || p.in === 'query')) continue;
    if (p.in === 'query') {
      if (!p.required && !Object.hasOwn(params, p.name)) continue;
      const v = valueFor(root, p, params, notes, where);
      if (v === undefined) throw new Skip(`no value for required query parameter ${p.name}; give --param ${p.name}=…`);
      for (const one of Array.isArray(v) ? v : [v])
        filled.query.push(`${encodeURIComponent(p.name)}=${encodeURIComponent(asText(one))}`);
    } else if (p.in === 'header') {
      if (RESERVED_HEADERS.has(p.name.toLowerCase())) continue;
      if (!p.required && !Object.hasOwn(params, p.name)) continue;
      const v = valueFor(root, p, params, notes, where);
      if (v === undefined) throw new Skip(`no value for required header parameter ${p.name}; give --param ${p.name}=…`);
      const text = Array.isArray(v) ? v.map(asText).join(',') : asText(v);
      if (!SAFE_HEADER_NAME.test(p.name) || !SAFE_HEADER_VALUE.test(text))
        throw new Skip(`header parameter ${p.name} has a name or value that cannot be sent as a header`);
      filled.headers.push({ name: p.name, value: text });
    } else if (p.in === 'cookie' && p.required) {
      throw new Skip(
        `needs cookie parameter ${p.name}, which the audit does not send apart from an identity's cookies`,
      );
    }
  }
  return filled;
}

const isJsonType = (mime: string) => /^application\/(?:[\w.+-]*\+)?json(?:\s*;|$)/i.test(mime);

function serialise(value: unknown, mime: string): string | undefined {
  if (isJsonType(mime)) {
    try {
      return JSON.stringify(value);
    } catch {
      return undefined; // a cyclic YAML example
    }
  }
  if (typeof value === 'string') return value;
  if (/^application\/x-www-form-urlencoded/i.test(mime) && isObject(value) && Object.values(value).every(isScalar))
    return new URLSearchParams(Object.entries(value).map(([k, v]) => [k, String(v)])).toString();
  return undefined;
}

/** The request body from the spec's example; a required body with none skips the operation. */
function requestBody(
  root: Json,
  op: Json,
  notes: Set<string>,
  where: string,
): { mimeType: string; text: string } | undefined {
  if (op.requestBody === undefined) return undefined;
  const rb = resolveRef(root, op.requestBody);
  if (!isObject(rb) || !isObject(rb.content)) return undefined;
  const types = Object.keys(rb.content);
  const ordered = [
    ...types.filter((t) => t.toLowerCase() === 'application/json'),
    ...types.filter((t) => t.toLowerCase() !== 'application/json' && isJsonType(t)),
    ...types.filter((t) => !isJsonType(t)),
  ];
  for (const mimeType of ordered) {
    const media = rb.content[mimeType];
    if (!isObject(media)) continue;
    const ex = exampleOf(root, media, notes, where);
    const schema = resolveOptional(root, media.schema, notes, where);
    const value = ex.found ? ex.value : isObject(schema) ? schemaExample(schema) : undefined;
    if (value === undefined) continue;
    const text = serialise(value, mimeType);
    if (text !== undefined) return { mimeType, text };
  }
  if (rb.required === true) throw new Skip('needs a request body and the spec gives no example');
  return undefined;
}

function schemaExample(schema: Json): unknown {
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  return undefined;
}

/** The content type of the first 2xx response that has one, for Accept. */
function acceptFor(root: Json, op: Json, notes: Set<string>, where: string): string | undefined {
  if (!isObject(op.responses)) return undefined;
  for (const [code, raw] of Object.entries(op.responses)) {
    if (!/^2(?:\d\d|XX)$/i.test(code)) continue;
    const res = resolveOptional(root, raw, notes, where);
    if (isObject(res) && isObject(res.content)) {
      const first = Object.keys(res.content)[0];
      if (first && SAFE_HEADER_VALUE.test(first)) return first;
    }
  }
  return undefined;
}

function securityOf(value: unknown): SecurityRequirement[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter(isObject).map((req) => {
    const out: SecurityRequirement = {};
    for (const [name, grants] of Object.entries(req))
      out[name] = Array.isArray(grants) ? grants.filter((g): g is string => typeof g === 'string') : [];
    return out;
  });
}

function securitySchemes(root: Json, notes: Set<string>): Record<string, SecurityScheme> {
  const components = isObject(root.components) ? root.components : {};
  const declared = isObject(components.securitySchemes) ? components.securitySchemes : {};
  const out: Record<string, SecurityScheme> = {};
  for (const [name, raw] of Object.entries(declared)) {
    const s = resolveOptional(root, raw, notes, `security scheme "${name}"`);
    if (!isObject(s) || typeof s.type !== 'string') continue;
    const str = (k: string) => (typeof s[k] === 'string' ? (s[k] as string) : undefined);
    out[name] = {
      type: s.type,
      scheme: str('scheme'),
      name: str('name'),
      in: str('in'),
      bearerFormat: str('bearerFormat'),
      openIdConnectUrl: str('openIdConnectUrl'),
    };
  }
  return out;
}

// ── Base URL ────────────────────────────────────────────────────────────────

/** An http(s) URL without a query or a fragment, or one line saying what is wrong with it. */
export function checkHttpUrl(url: string, input: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(input, `${what} "${redactUrl(url)}" is not a valid absolute URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InputError(input, `${what} "${redactUrl(url)}" is not an http(s) URL`);
  if (u.search || u.hash) throw new InputError(input, `${what} "${redactUrl(url)}" has a query or fragment`);
  return u;
}

/** A URL without its trailing slashes, so a path can be appended. */
function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url[end - 1] === '/') end--;
  return url.slice(0, end);
}

/** The base URL: --base-url, else servers[0].url with its variables' defaults (relative to a fetched document). */
export function baseUrlOf(doc: OpenApiDoc, o: Pick<OpenApiPlanOptions, 'name' | 'baseUrl'>): string {
  const name = shownName(o.name);
  if (o.baseUrl !== undefined)
    return withoutTrailingSlashes(checkHttpUrl(o.baseUrl, '--base-url', 'the base URL').href);
  const servers = Array.isArray(doc.root.servers) ? doc.root.servers : [];
  const first = servers[0];
  if (!isObject(first) || typeof first.url !== 'string')
    throw new InputError(name, 'names no server (servers[0].url): give the base URL with --base-url');
  const variables = isObject(first.variables) ? first.variables : {};
  const url = first.url.replace(/\{([^{}]*)\}/g, (_whole, variable: string) => {
    const v = Object.hasOwn(variables, variable) ? variables[variable] : undefined;
    if (isObject(v) && isScalar(v.default)) return String(v.default);
    throw new InputError(name, `servers[0].url uses {${variable}}, which has no default: give --base-url`);
  });
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(url);
  if (!absolute && !isHttpUrl(o.name))
    throw new InputError(name, `servers[0].url "${url.slice(0, 200)}" is relative: give the base URL with --base-url`);
  const resolved = absolute ? url : new URL(url, o.name).href;
  return withoutTrailingSlashes(checkHttpUrl(resolved, name, 'servers[0].url').href);
}

// ── The plan ────────────────────────────────────────────────────────────────

interface PlanContext {
  doc: OpenApiDoc;
  o: OpenApiPlanOptions;
  baseUrl: string;
  origin: string;
  schemes: Record<string, SecurityScheme>;
  notes: Set<string>;
  /** Each identity's expectations by requirement list: operations that share their security share one object. */
  expectations: Map<string, AuditOperation['expect']>;
}

/**
 * Every identity's expectation for one requirement list. Most operations of a
 * spec share a handful of requirement lists, so a 500-operation spec with 50
 * identities holds a few hundred expectations, not 25,000 (bench/audit.ts).
 */
function expectationsFor(ctx: PlanContext, requirements: SecurityRequirement[] | undefined): AuditOperation['expect'] {
  const key = requirements === undefined ? '' : JSON.stringify(requirements);
  let expect = ctx.expectations.get(key);
  if (!expect) {
    expect = {};
    for (const identity of ctx.o.identities)
      expect[identity.name] = expectFor(requirements, ctx.schemes, identity, ctx.doc.version);
    ctx.expectations.set(key, expect);
  }
  return expect;
}

function planOperation(
  ctx: PlanContext,
  path: string,
  pathItem: Json,
  method: string,
  op: Json,
  id: string,
): AuditOperation | SkippedOperation {
  const METHOD = method.toUpperCase();
  const where = `${METHOD} ${path}`;
  const { root } = ctx.doc;
  try {
    const parameters = mergeParameters(root, pathItem.parameters, op.parameters);
    const filled = fillParameters(root, path, parameters, ctx.o.params, ctx.notes, where, credentialNames(ctx.schemes));
    const body = requestBody(root, op, ctx.notes, where);
    const url = ctx.baseUrl + filled.path + (filled.query.length ? `?${filled.query.join('&')}` : '');
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== ctx.origin) throw new Skip(`the path does not make a URL on ${ctx.origin}`);
    const headers: NameValue[] = [];
    const accept = acceptFor(root, op, ctx.notes, where);
    if (accept) headers.push({ name: 'Accept', value: accept });
    if (body) headers.push({ name: 'Content-Type', value: body.mimeType });
    headers.push(...filled.headers);
    const requirements = securityOf(op.security) ?? securityOf(root.security);
    for (const n of requirementNotes(requirements, ctx.schemes, ctx.doc.version)) ctx.notes.add(n);
    const expect = expectationsFor(ctx, requirements);
    const operation: AuditOperation = { id, method: METHOD, path, url: parsed.href, headers, expect, deniedWhen: [] };
    if (body) operation.body = body;
    return operation;
  } catch (err) {
    if (err instanceof RefError) {
      ctx.notes.add(
        err.external
          ? `$ref "${err.ref.slice(0, 200)}" not followed: the audit reads only the one document`
          : `${where}: ${err.message}`,
      );
      return { id, method: METHOD, path, reason: err.message };
    }
    if (err instanceof Skip) return { id, method: METHOD, path, reason: err.message };
    throw err;
  }
}

/** Every operation of the document, in its order, as the audit plan. */
export function planFromOpenApi(doc: OpenApiDoc, o: OpenApiPlanOptions): AuditPlan {
  const baseUrl = baseUrlOf(doc, o);
  const notes = new Set<string>();
  if (doc.version === '3.1' && !/^3\.1(?:\.|$)/.test(doc.openapi)) notes.add(`openapi ${doc.openapi} is read as 3.1`);
  const ctx: PlanContext = {
    doc,
    o,
    baseUrl,
    origin: new URL(baseUrl).origin,
    schemes: securitySchemes(doc.root, notes),
    notes,
    expectations: new Map(),
  };
  const operations: AuditOperation[] = [];
  const skipped: SkippedOperation[] = [];
  const ids = new Set<string>();
  const paths = isObject(doc.root.paths) ? doc.root.paths : {};
  let count = 0;
  for (const [path, rawItem] of Object.entries(paths)) {
    if (!path.startsWith('/')) continue;
    const pathItem = resolveOptional(doc.root, rawItem, notes, `path ${path}`);
    if (!isObject(pathItem)) continue;
    for (const method of METHODS) {
      const op = pathItem[method];
      if (!isObject(op)) continue;
      if (++count > MAX_OPERATIONS) continue;
      const fallback = `${method.toUpperCase()} ${path}`;
      let id = typeof op.operationId === 'string' && op.operationId.trim() ? op.operationId : fallback;
      if (ids.has(id)) {
        notes.add(`operationId "${id}" is used more than once: ${fallback} is named by its method and path`);
        id = fallback;
      }
      ids.add(id);
      const planned = planOperation(ctx, path, pathItem, method, op, id);
      if ('reason' in planned) skipped.push(planned);
      else operations.push(planned);
    }
  }
  if (count > MAX_OPERATIONS)
    notes.add(`the document has ${count} operations: the audit plans the first ${MAX_OPERATIONS}`);
  if (count === 0) notes.add('the document has no operations under paths');
  const source: AuditPlan['source'] = { kind: 'openapi', name: shownName(o.name) };
  if (doc.title !== undefined) source.title = doc.title;
  return { source, baseUrl, identities: o.identities, operations, skipped, notes: [...notes] };
}
