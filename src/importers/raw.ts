// Raw HTTP text into an Exchange. Two layouts are read:
//  - `curl -v` output: request lines prefixed "> ", response lines "< ",
//    curl's own "* " info lines, then the body unprefixed;
//  - a plain message pair as Burp, a browser's "view source" or a person
//    writes it: request block, blank line, optional body, then the response
//    block ("HTTP/1.1 403 …" or HTTP/2's "HTTP/2 403"), blank line, body.
// A response alone is an exchange without a request; a request alone is
// returned by parseRaw for callers that can send it.
import { InputError } from '../errors.ts';
import type { Exchange, ExchangeRequest, ExchangeResponse, NameValue } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import { clip, completeRequest } from './common.ts';
import { imported, type Imported } from './imported.ts';

export interface RawParse {
  request?: ExchangeRequest;
  response?: ExchangeResponse;
  serverIPAddress?: string;
  notes: string[];
}

interface Line {
  text: string;
  eol: string;
  /** 1-based, for error messages. */
  no: number;
}

interface Block {
  start: Line;
  headerLines: Line[];
  headersDone: boolean;
  bodyLines: Line[];
}

type RequestBlock = Block;
interface ResponseBlock extends Block {
  request?: RequestBlock;
}

const STATUS_LINE = /^HTTP\/(\d(?:\.\d)?)[ \t]+(\d{3})(?:[ \t](.*))?$/;
const REQUEST_LINE = /^([A-Z][A-Z0-9_-]*)[ \t]+(\S+)[ \t]+HTTP\/(\d(?:\.\d)?)[ \t]*$/;
const PSEUDO_HEADER = /^:(method|path|scheme|authority|status):[ \t]?(.*)$/;
const CURL_DATA_NOTE = /^[{}] \[\d+ bytes data\]$/;
// curl's progress meter, printed to stderr when stdout is not a terminal.
const CURL_PROGRESS = /^(?:\r.*(?:--:--:--|\d:\d\d:\d\d)|\s+% Total\s+% Received|\s+Dload\s+Upload)/;
// curl's info lines that can land among body lines when stderr and stdout are merged.
const CURL_INFO_IN_BODY =
  /^\* (?:Connection #\d|Closing connection|TLSv\d|SSL|\[HTTP\/[23]\]|HTTP\/2 stream|Request completely sent|old SSL session|Excess found|Leftovers after chunking|We are completely uploaded|Received \d+|Recv failure|OpenSSL|Send failure)/;
const CURL_TLS_INFO = /^\*\s+(?:SSL|TLS|ALPN|Server certificate|subject:|issuer:|start date:|expire date:)/;

function splitLines(text: string): Line[] {
  const parts = text.split(/(\r\n|\n)/);
  const lines: Line[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const t = parts[i]!;
    const eol = parts[i + 1] ?? '';
    if (i === parts.length - 1 && t === '') break;
    lines.push({ text: t, eol, no: lines.length + 1 });
  }
  return lines;
}

const isBlank = (l: Line | undefined) => l !== undefined && l.text.trim() === '';
const isStatus = (s: string) => STATUS_LINE.test(s) || /^:status:/.test(s);
const isRequestStart = (s: string) => REQUEST_LINE.test(s) || /^:(method|path|scheme|authority):/.test(s);

/** True when the text looks like `curl -v` output rather than a plain message pair. */
function isCurlVerbose(lines: Line[]): boolean {
  return lines.some((l) => /^< HTTP\/\d/.test(l.text) || /^> [A-Z][A-Z0-9_-]* \S+ HTTP\/\d/.test(l.text));
}

/**
 * Reads raw HTTP text without requiring a response: used by importers that
 * can also hand a request alone to a live check.
 */
export function parseRaw(text: string, name = 'raw'): RawParse {
  const body = text.replace(/^\uFEFF/, '');
  if (!body.trim()) throw new InputError(name, 'expected raw HTTP text, found an empty input');
  const lines = splitLines(body);
  return isCurlVerbose(lines) ? parseVerbose(lines, name) : parsePlain(lines, name);
}

/** Raw HTTP text in the importers' shape: the exchange, or the request alone when no response follows it. */
export function importRaw(text: string, name = 'raw'): Imported {
  const parsed = parseRaw(text, name);
  if (!parsed.response) return imported([], parsed.request ? [parsed.request] : []);
  const exchange: Exchange = { response: parsed.response, source: { kind: 'raw', name } };
  if (parsed.request) exchange.request = parsed.request;
  if (parsed.serverIPAddress) exchange.serverIPAddress = parsed.serverIPAddress;
  if (parsed.notes.length) exchange.notes = parsed.notes;
  return imported([exchange]);
}

/** Raw HTTP text (curl -v output, Burp, a browser's view-source) into one Exchange. */
export function fromRaw(text: string, name = 'raw'): Exchange {
  const [exchange] = importRaw(text, name).exchanges;
  if (!exchange) {
    const expected = 'expected a response (a status line such as "HTTP/1.1 403 Forbidden") in the raw HTTP text';
    throw new InputError(name, `${expected}, found a request only`);
  }
  return exchange;
}

// ---- curl -v -------------------------------------------------------------

function parseVerbose(lines: Line[], name: string): RawParse {
  const requests: RequestBlock[] = [];
  const responses: ResponseBlock[] = [];
  let req: RequestBlock | undefined;
  let res: ResponseBlock | undefined;
  let inBody = false;
  let tls = false;
  let ip: string | undefined;
  for (const line of lines) {
    const t = line.text;
    if (t.startsWith('> ') || t === '>') {
      const c: Line = { ...line, text: t.slice(2) };
      inBody = false;
      if (!req || req.headersDone) {
        if (!c.text.trim()) continue;
        req = { start: c, headerLines: [], headersDone: false, bodyLines: [] };
        requests.push(req);
      } else if (!c.text.trim()) req.headersDone = true;
      else req.headerLines.push(c);
    } else if (t.startsWith('< ') || t === '<') {
      const c: Line = { ...line, text: t.slice(2) };
      inBody = false;
      if (!res || res.headersDone) {
        if (!c.text.trim()) continue;
        res = { start: c, headerLines: [], headersDone: false, bodyLines: [], request: req };
        responses.push(res);
      } else if (!c.text.trim()) {
        res.headersDone = true;
        inBody = true;
      } else res.headerLines.push(c);
    } else if (t.startsWith('*')) {
      if (CURL_TLS_INFO.test(t) || /\[:scheme: https\]/.test(t)) tls = true;
      const connected = /^\* Connected to \S+ \(([^)]+)\) port \d+/.exec(t);
      if (connected) ip = connected[1]!;
      if (inBody && res) res.bodyLines.push(line);
    } else if (CURL_DATA_NOTE.test(t) || CURL_PROGRESS.test(t)) {
      continue;
    } else if (inBody && res) {
      res.bodyLines.push(line);
    }
  }
  if (!responses.length && !requests.length) {
    throw new InputError(name, 'expected curl -v output with "> " request and "< " response lines, found neither');
  }
  const notes: string[] = [];
  const finals = responses.filter((r) => !/^HTTP\/\S+\s+1\d\d\b/.test(r.start.text));
  const chosen = finals.at(-1) ?? responses.at(-1);
  if (finals.length > 1) {
    notes.push(`the input holds ${finals.length} responses (redirects or retries); the last one is read`);
  }
  const out: RawParse = { notes };
  if (ip) out.serverIPAddress = ip;
  const reqBlock = chosen ? chosen.request : requests.at(-1);
  if (reqBlock) {
    out.request = buildRequest(reqBlock, name, tls ? 'https' : undefined);
    const cl = headerValue(out.request.headers, 'content-length');
    if (cl && Number(cl) > 0) notes.push('curl -v does not print the request body; the request is read without it');
  }
  if (chosen) {
    // curl info lines trailing the body are curl's, not the server's.
    const bodyLines = chosen.bodyLines.slice();
    while (bodyLines.length && bodyLines.at(-1)!.text.startsWith('*')) bodyLines.pop();
    const kept = bodyLines.filter((l) => !CURL_INFO_IN_BODY.test(l.text));
    // A body without a final newline runs into curl's next info line on screen.
    const last = kept.at(-1);
    const glued = last && /\* (?:Connection #\d+ to host .* left intact|Closing connection.*)$/.exec(last.text);
    if (last && glued) kept[kept.length - 1] = { ...last, text: last.text.slice(0, glued.index), eol: '' };
    out.response = buildResponse({ ...chosen, bodyLines: kept }, name, false);
  }
  return out;
}

// ---- plain message pair --------------------------------------------------

function parsePlain(lines: Line[], name: string): RawParse {
  let i = 0;
  while (i < lines.length && isBlank(lines[i])) i++;
  const first = lines[i]!;
  const out: RawParse = { notes: [] };
  if (isStatus(first.text)) {
    out.response = readResponse(lines, i, name);
    return out;
  }
  if (!isRequestStart(first.text)) {
    throw new InputError(
      name,
      `line ${first.no}: expected a request line ("GET /path HTTP/1.1") or a status line ("HTTP/1.1 403 Forbidden"), found "${clip(first.text)}"`,
    );
  }
  const req: RequestBlock = { start: first, headerLines: [], headersDone: false, bodyLines: [] };
  // With HTTP/2 pseudo-headers there is no request line: the first line is a header too.
  if (!REQUEST_LINE.test(first.text)) req.headerLines.push(first);
  let j = i + 1;
  for (; j < lines.length && !isBlank(lines[j]); j++) {
    if (isStatus(lines[j]!.text)) break; // a response pasted right under the request headers
    req.headerLines.push(lines[j]!);
  }
  if (j < lines.length && isBlank(lines[j])) j++;
  let k = j;
  while (k < lines.length && !isStatus(lines[k]!.text)) k++;
  req.bodyLines = lines.slice(j, k);
  out.request = buildRequest(req, name, undefined);
  if (k < lines.length) out.response = readResponse(lines, k, name);
  return out;
}

function readResponse(lines: Line[], at: number, name: string): ExchangeResponse {
  let start = at;
  for (;;) {
    const block: ResponseBlock = { start: lines[start]!, headerLines: [], headersDone: false, bodyLines: [] };
    if (/^:status:/.test(block.start.text)) block.headerLines.push(block.start);
    let j = start + 1;
    for (; j < lines.length && !isBlank(lines[j]); j++) block.headerLines.push(lines[j]!);
    if (j < lines.length) j++;
    block.bodyLines = lines.slice(j);
    const interim = /^HTTP\/\S+\s+1\d\d\b/.test(block.start.text);
    // An interim 1xx (100 Continue, 103 Early Hints) is followed by the final response.
    if (interim) {
      let k = j;
      while (k < lines.length && isBlank(lines[k])) k++;
      if (k < lines.length && isStatus(lines[k]!.text)) {
        start = k;
        continue;
      }
    }
    return buildResponse(block, name, true);
  }
}

// ---- building the model --------------------------------------------------

function parseHeaders(lines: Line[], name: string): { headers: NameValue[]; pseudo: Record<string, string> } {
  const headers: NameValue[] = [];
  const pseudo: Record<string, string> = {};
  for (const line of lines) {
    const t = line.text;
    const p = PSEUDO_HEADER.exec(t);
    if (p) {
      pseudo[p[1]!] = p[2]!.trim();
      continue;
    }
    if (/^[ \t]/.test(t) && headers.length) {
      // obs-fold: a continuation of the previous header's value
      headers.at(-1)!.value += ` ${t.trim()}`;
      continue;
    }
    const m = /^([^\s:][^:]*):(.*)$/.exec(t); // the value is trimmed of spaces and tabs below (a lazy value before [ \t]*$ was quadratic)
    if (!m) throw new InputError(name, `line ${line.no}: expected a header "Name: value", found "${clip(t)}"`);
    headers.push({ name: m[1]!, value: m[2]!.replace(/^[ \t]+|(?<![ \t])[ \t]+$/g, '') });
  }
  return { headers, pseudo };
}

function joinLines(lines: Line[]): string {
  let s = '';
  for (const l of lines) s += l.text + l.eol;
  return s;
}

/**
 * A body as pasted: cut at Content-Length when what follows is only the
 * whitespace a paste adds; chunked framing (as Burp shows it) decoded.
 */
function readBody(raw: string, headers: NameValue[], trimPaste: boolean): string {
  let text = raw;
  if (!trimPaste) return text;
  const te = headerValue(headers, 'transfer-encoding');
  if (te && /chunked/i.test(te)) {
    const decoded = decodeChunked(Buffer.from(text, 'utf8'));
    if (decoded !== undefined) return decoded.toString('utf8');
  }
  const cl = headerValue(headers, 'content-length');
  const n = cl !== undefined && /^\d+$/.test(cl.trim()) ? Number(cl) : undefined;
  const bytes = Buffer.from(text, 'utf8');
  if (n !== undefined && bytes.length > n && /^\s*$/.test(bytes.subarray(n).toString('utf8'))) {
    return bytes.subarray(0, n).toString('utf8');
  }
  if (n === undefined) {
    // Without a length, the blank lines between a pasted body and what follows are the paste's.
    text = text.replace(/(?<!\n|\r(?=\n))(?:\r?\n)+$/, '');
  }
  return text;
}

function decodeChunked(buf: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf('\n', pos);
    if (eol < 0) return undefined;
    const sizeLine = buf.subarray(pos, eol).toString('latin1').replace(/\r$/, '').split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeLine)) return undefined;
    const size = parseInt(sizeLine, 16);
    pos = eol + 1;
    if (size === 0) return Buffer.concat(parts);
    if (pos + size > buf.length) return undefined;
    parts.push(buf.subarray(pos, pos + size));
    pos += size;
    if (buf[pos] === 0x0d) pos++;
    if (buf[pos] === 0x0a) pos++;
  }
}

function buildRequest(block: RequestBlock, name: string, schemeHint: string | undefined): ExchangeRequest {
  const { headers, pseudo } = parseHeaders(block.headerLines, name);
  const m = REQUEST_LINE.exec(block.start.text);
  const method = m ? m[1]! : pseudo.method;
  const target = m ? m[2]! : pseudo.path;
  if (!method || !target) {
    throw new InputError(
      name,
      `line ${block.start.no}: expected a request line ("GET /path HTTP/1.1") or :method and :path pseudo-headers`,
    );
  }
  const httpVersion = m ? `HTTP/${m[3]}` : 'HTTP/2';
  const host = headerValue(headers, 'host') ?? pseudo.authority;
  let url: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    url = target;
  } else {
    if (!host) {
      throw new InputError(
        name,
        `line ${block.start.no}: expected a Host header (or an absolute URL in the request line) to tell which server was asked`,
      );
    }
    const scheme = pseudo.scheme ?? schemeHint ?? (/:443$/.test(host) ? 'https' : 'http');
    if (method === 'CONNECT') url = `${scheme}://${target}/`;
    else url = `${scheme}://${host}${target.startsWith('/') ? target : '/'}`;
  }
  if (!URL.canParse(url)) throw new InputError(name, `line ${block.start.no}: expected a URL, found "${clip(url)}"`);
  const req: ExchangeRequest = { method, url, httpVersion, headers };
  const text = readBody(joinLines(block.bodyLines), headers, true);
  if (text) req.postData = { mimeType: headerValue(headers, 'content-type') ?? '', text };
  return completeRequest(req);
}

function buildResponse(block: ResponseBlock, name: string, trimPaste: boolean): ExchangeResponse {
  const { headers, pseudo } = parseHeaders(block.headerLines, name);
  const m = STATUS_LINE.exec(block.start.text);
  const statusRaw = m ? m[2]! : pseudo.status;
  // Three digits, 100 to 999: "000" is what curl's %{http_code} prints when no response came.
  const below100 = statusRaw !== undefined && Number(statusRaw) < 100;
  if (!statusRaw || !/^\d{3}$/.test(statusRaw) || below100) {
    throw new InputError(
      name,
      `line ${block.start.no}: expected a status line such as "HTTP/1.1 403 Forbidden", found "${clip(block.start.text)}"`,
    );
  }
  const text = readBody(joinLines(block.bodyLines), headers, trimPaste);
  const mimeType = headerValue(headers, 'content-type') ?? '';
  return {
    status: Number(statusRaw),
    statusText: m?.[3] ?? '',
    httpVersion: m ? `HTTP/${m[1]}` : 'HTTP/2',
    headers,
    content: { size: Buffer.byteLength(text, 'utf8'), mimeType, text },
  };
}

/** Whether the start of a text reads as raw HTTP (for format detection; the text may be cut anywhere). */
export function looksLikeRaw(head: string): boolean {
  const lines = head.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.some((l) => /^< HTTP\/\d(?:\.\d)? \d{3}/.test(l) || /^> [A-Z][A-Z0-9_-]* \S+ HTTP\/\d/.test(l)))
    return true;
  const first = lines.find((l) => l.trim() !== '');
  return (
    first !== undefined &&
    (STATUS_LINE.test(first) || REQUEST_LINE.test(first) || /^:(?:method|path|scheme|authority|status):/.test(first))
  );
}
