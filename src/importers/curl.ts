// A curl command (bash quoting, as a browser's "Copy as cURL (bash)" writes it)
// into an ExchangeRequest. curlconverter does the shell parsing and curl's
// option semantics; this module only maps its Request onto the exchange model.
//
// curlconverter's Node entry loads the native `tree-sitter` addon. This project
// runs no native addons, so before curlconverter is first imported a resolve
// hook redirects its shell/Parser.js to ./curl-wasm-parser.ts (web-tree-sitter).
// That is also why the functions here are async: the import is dynamic, so the
// hook is in place before curlconverter's module graph is resolved. Any code
// that imports curlconverter statically, before this module runs, would load
// the native parser instead.
import { registerHooks } from 'node:module';
import { InputError } from '../errors.ts';
import type { ExchangeRequest, NameValue, PostData } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import type { Request, RequestUrl } from 'curlconverter/dist/src/parse.js';
import { roughArgv, scanOptions } from './curl-argv.ts';
import { imported, type Imported } from './imported.ts';

type ParseModule = typeof import('curlconverter/dist/src/parse.js');
type UtilsModule = typeof import('curlconverter/dist/src/utils.js');

const PARSER_SUFFIX = '/curlconverter/dist/src/shell/Parser.js';
const WASM_PARSER_URL = new URL('./curl-wasm-parser.ts', import.meta.url).href;

let loading: Promise<{ parse: ParseModule['parse']; CCError: UtilsModule['CCError'] }> | undefined;

function loadCurlconverter(): Promise<{ parse: ParseModule['parse']; CCError: UtilsModule['CCError'] }> {
  if (!loading) {
    registerHooks({
      resolve(specifier, context, nextResolve) {
        const resolved = nextResolve(specifier, context);
        if (resolved.url.endsWith(PARSER_SUFFIX)) return { url: WASM_PARSER_URL, format: 'module', shortCircuit: true };
        return resolved;
      },
    });
    loading = Promise.all([import('curlconverter/dist/src/parse.js'), import('curlconverter/dist/src/utils.js')]).then(
      ([p, u]) => ({ parse: p.parse, CCError: u.CCError }),
    );
  }
  return loading;
}

/** The input name used in error messages for a pasted curl command. */
export const CURL_INPUT = 'curl command';

/** One request of a curl command, with curlconverter's reading of it (check reads its options from `curl`). */
export interface ParsedCurl {
  request: ExchangeRequest;
  curl: Request;
  url: RequestUrl;
}

/**
 * Parses a shell command line (bash quoting) or an already split argv.
 * Every request it holds is returned: a "Copy all as cURL" paste holds many,
 * and curl's own `--next` splits one command into several.
 */
export async function curlRequests(command: string | string[], inputName = CURL_INPUT): Promise<ExchangeRequest[]> {
  return (await parseCurl(command, inputName)).requests.map((p) => p.request);
}

/** A curl command (bash quoting) in the importers' shape: its requests, no exchange (a command is not an answer). */
export async function importCurl(command: string | string[], inputName = CURL_INPUT): Promise<Imported> {
  return imported([], await curlRequests(command, inputName));
}

/**
 * curlRequests with curlconverter's Request objects kept. With `options`,
 * `warnings` also lists every option the command uses, one
 * `[curl's long name, "<option as written> is not a supported option"]` each
 * (curlconverter's report of options outside a supported set; the set is
 * empty, so every option is reported) — check decides on each.
 */
export async function parseCurl(
  command: string | string[],
  inputName = CURL_INPUT,
  opts: { options?: boolean } = {},
): Promise<{ requests: ParsedCurl[]; warnings: [string, string][] }> {
  if (typeof command === 'string' && !/\bcurl\b/.test(command)) {
    throw new InputError(inputName, 'expected a curl command (starting with "curl"), found none');
  }
  if (typeof command === 'string') {
    // The bash grammar takes time quadratic in the number of backslash–carriage-return
    // pairs (found by fuzzing: 2,000 take 0.1 s, 8,000 take 1.3 s), and its time budget
    // (curl-wasm-parser.ts) does not stop it there. No command needs that many.
    const escapedCr = command.split('\\\r').length - 1;
    if (escapedCr > MAX_ESCAPED_CR) {
      throw new InputError(
        inputName,
        `the command holds ${escapedCr} backslashes before a carriage return (\\r); convert its line endings to LF (\\n) and try again`,
      );
    }
  }
  const { parse, CCError } = await loadCurlconverter();
  const input = typeof command === 'string' ? withoutPrompt(command) : command;
  const supported = opts.options ? new Set<string>() : undefined;
  let warnings: [string, string][] = [];
  let requests: Request[] | undefined;
  const refuse = (err: Error, restore: (s: string) => string = (s) => s) =>
    new InputError(inputName, `not a curl command curl would accept: ${restore(oneLine(err.message))}`, { cause: err });
  try {
    requests = parse(input, supported, warnings);
  } catch (err) {
    if (err instanceof CCError) throw refuse(err);
    if ((err as { code?: unknown }).code === 'W403_PARSE_TIMEOUT') throw parseTimeout(inputName, err);
    if (!(err instanceof TypeError)) throw err;
    // curlconverter throws TypeErrors of its own on some inputs: a short
    // option curl does not have (its message about it fails to build), and a
    // header named like an Object.prototype member ("constructor", "__proto__").
    const unknown = scanOptions(typeof input === 'string' ? roughArgv(input) : input).find((o) => o.unknown);
    if (unknown)
      throw new InputError(inputName, `not a curl command curl would accept: option ${unknown.option}: is unknown`, {
        cause: err,
      });
    const masked = maskPrototypeNames(input);
    if (masked) {
      warnings = [];
      try {
        requests = parse(masked.input, supported, warnings);
      } catch (err2) {
        if (err2 instanceof CCError) throw refuse(err2, masked.restore);
        if ((err2 as { code?: unknown }).code === 'W403_PARSE_TIMEOUT') throw parseTimeout(inputName, err2);
        if (!(err2 instanceof TypeError)) throw err2;
      }
      if (requests) {
        restoreWords(requests, masked.restore);
        warnings = warnings.map(([k, m]) => [masked.restore(k), masked.restore(m)]);
      }
    }
    if (!requests)
      throw new InputError(inputName, `the curl command could not be read (${oneLine(err.message)})`, { cause: err });
  }
  const out: ParsedCurl[] = [];
  for (const r of requests)
    for (const u of r.urls) out.push({ request: toExchangeRequest(r, u, inputName), curl: r, url: u });
  if (!out.length) throw new InputError(inputName, 'expected a curl command with a URL, found no URL');
  return { requests: out, warnings };
}

/** Backslash–carriage-return pairs a command may hold (a pasted Windows-line-ending command has one per line). */
const MAX_ESCAPED_CR = 1000;

/** The bash grammar gave up on the command in its time budget (see curl-wasm-parser.ts). */
function parseTimeout(inputName: string, err: unknown): InputError {
  return new InputError(
    inputName,
    `its shell quoting is too tangled to read (${(err as Error).message}); check the quotes and backslashes, or give the request as raw HTTP or JSON`,
    { cause: err },
  );
}

const PROTOTYPE_NAMES = /(?<![\w$-])(constructor|__proto__)(?![\w-])/gi;

/**
 * The command with every "constructor" and "__proto__" swapped for a
 * placeholder curlconverter can hold as a key, and the function that swaps
 * them back; undefined when there is none.
 */
function maskPrototypeNames(
  input: string | string[],
): { input: string | string[]; restore: (s: string) => string } | undefined {
  const found = new Map<string, string>();
  const nonce = Math.random().toString(36).slice(2, 8);
  const mask = (s: string) =>
    s.replace(PROTOTYPE_NAMES, (m) => {
      const key = `w403p${nonce}x${found.size}q`;
      found.set(key, m);
      return key;
    });
  const masked = typeof input === 'string' ? mask(input) : input.map((a, i) => (i === 0 ? a : mask(a)));
  if (!found.size) return undefined;
  const re = new RegExp(`w403p${nonce}x\\d+q`, 'g');
  return { input: masked, restore: (s) => s.replace(re, (k) => found.get(k) ?? k) };
}

/** Puts the masked names back into every Word curlconverter built (they are objects holding `tokens`). */
function restoreWords(root: unknown, restore: (s: string) => string): void {
  const seen = new Set<object>();
  const walk = (v: unknown) => {
    if (!v || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    const tokens = (v as { tokens?: unknown }).tokens;
    if (Array.isArray(tokens)) {
      tokens.forEach((t, i) => {
        if (typeof t === 'string') tokens[i] = restore(t);
        else walk(t);
      });
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof x === 'string') continue;
      walk(x);
    }
    if (!Array.isArray(v))
      for (const [k, x] of Object.entries(v)) if (typeof x === 'string') (v as Record<string, unknown>)[k] = restore(x);
  };
  walk(root);
}

/**
 * The one request of a curl command (bash quoting). Async because curlconverter
 * is loaded on first use (see the note at the top of this file).
 */
export async function fromCurl(command: string, inputName = CURL_INPUT): Promise<ExchangeRequest> {
  return single(await curlRequests(command, inputName), inputName);
}

export function single(requests: ExchangeRequest[], inputName: string): ExchangeRequest {
  if (requests.length !== 1) {
    throw new InputError(inputName, `expected one curl request, found ${requests.length}; give one command at a time`);
  }
  return requests[0]!;
}

// curlconverter's messages go on with a copy of the command and a ^^^ marker
// under the fault; the first line is the message.
function oneLine(s: string): string {
  const first = s.split('\n')[0]!.trim().replace(/:$/, '');
  return /^Bash parsing error/.test(first)
    ? `its shell quoting does not parse (${first.toLowerCase()}; an unclosed quote?)`
    : first;
}

/** A pasted shell prompt ("$ ") and a path to curl are not part of the command curl sees. */
function withoutPrompt(command: string): string {
  return command.replace(/^(\s*)(?:[$>]\s+)?(?:\S*\/)?curl(?=\s|$)/, '$1curl');
}

function toExchangeRequest(r: Request, u: RequestUrl, inputName: string): ExchangeRequest {
  const url = absoluteUrl(u.url.toString(), inputName);
  const headers: NameValue[] = [];
  for (const [name, value] of r.headers.headers) {
    if (value !== null) headers.push({ name: name.toString(), value: value.toString() });
  }
  // curl computes these from -u; a server sees them as headers, so do we.
  if (
    u.auth &&
    (r.authType === 'basic' || r.authType === 'none' || !r.authType) &&
    !headerValue(headers, 'authorization')
  ) {
    const [user, password] = u.auth;
    const token = Buffer.from(`${user.toString()}:${password.toString()}`, 'utf8').toString('base64');
    headers.push({ name: 'Authorization', value: `Basic ${token}` });
  }
  const method = u.method.toString();
  // curlconverter keeps `-X ''` as an empty method; no request goes out with one.
  if (!method.trim()) throw new InputError(inputName, 'expected a method after -X (--request), found an empty one');
  const req: ExchangeRequest = { method, url, headers };
  if (r.httpVersion)
    req.httpVersion = r.httpVersion.startsWith('2')
      ? 'HTTP/2'
      : r.httpVersion.startsWith('3')
        ? 'HTTP/3'
        : `HTTP/${r.httpVersion}`;
  if (r.cookies?.length) req.cookies = r.cookies.map(([n, v]) => ({ name: n.toString(), value: v.toString() }));
  if (u.queryList?.length) req.queryString = u.queryList.map(([n, v]) => ({ name: n.toString(), value: v.toString() }));
  const postData = body(r, headers);
  if (postData) req.postData = postData;
  return req;
}

function body(r: Request, headers: NameValue[]): PostData | undefined {
  const mimeType = headerValue(headers, 'content-type') ?? '';
  if (r.data) {
    // `-d @file` names a file on the user's machine; its bytes are not in the command.
    if (r.dataReadsFile) return { mimeType };
    return { mimeType, text: r.data.toString() };
  }
  if (r.multipartUploads) {
    return {
      mimeType: mimeType || 'multipart/form-data',
      params: r.multipartUploads.map((p) => ({
        name: p.name.toString(),
        value: 'content' in p ? p.content.toString() : `@${p.contentFile.toString()}`,
      })),
    };
  }
  return undefined;
}

function absoluteUrl(raw: string, inputName: string): string {
  // curl itself assumes http:// for a URL without a scheme.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  // Kept as written rather than as WHATWG re-serialises it: the path's exact
  // spelling can be what a server's rule matched.
  if (URL.canParse(withScheme)) return withScheme;
  {
    throw new InputError(
      inputName,
      `expected an http(s) URL in the curl command, found ${JSON.stringify(raw.slice(0, 80))}`,
    );
  }
}
