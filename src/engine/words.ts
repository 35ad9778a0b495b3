// A denial's own words, wherever the response keeps them: the error members
// of a JSON body at any depth, an XML error document, an HTML page's title,
// headings and main text without its chrome, a plain-text body, and the
// headers servers put reasons in. Rules read them to say what a response
// means; this module only finds them, and knows no product. Every walk is
// bounded: depth, members, characters.
import type { Body, DenialWords, WordsField, WordsLine } from '../model/rule.ts';

const MAX_DEPTH = 8;
const MAX_MEMBERS = 400;
const MAX_LINES = 40;
const MAX_LINE_CHARS = 600;
const MAX_MAIN_TEXT = 800;

/** Members that hold an error's words, compared without case, `_` or `-`. */
const ERROR_KEYS = new Set([
  'error',
  'errors',
  'err',
  'errmsg',
  'errormsg',
  'message',
  'messages',
  'msg',
  'detail',
  'details',
  'title',
  'code',
  'reason',
  'type',
  'errordescription',
  'description',
  'errormessage',
  'errorcode',
  'errortype',
  'fault',
  'faultstring',
  'faultcode',
  'status',
  'statusmessage',
  'hint',
  'cause',
  'explanation',
  'errorsummary',
  'errordetail',
  'errordetails',
]);

/** Members under which every string is part of the error (GraphQL's extensions, SOAP's fault, an error object). */
const ERROR_CONTAINERS = new Set(['error', 'errors', 'fault', 'extensions', 'err', 'problem']);

/** Members that name what was required, held or missing: the gap's raw material. */
const GAP_KEY =
  /^(required|missing|needed|requested|granted|held|accepted|permitted|current|your)?(permission|permissions|scope|scopes|role|roles|privilege|privileges|grant|grants|action|actions)$|^(required|missing|needed)/;

const norm = (key: string) => key.toLowerCase().replace(/[_\-\s]/g, '');

function clip(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > MAX_LINE_CHARS ? t.slice(0, MAX_LINE_CHARS) : t;
}

/** The last path segment of a problem type URI, or undefined when the value is not one. */
function typeName(value: string): string | undefined {
  if (!/^https?:\/\//.test(value) || value.length > 2048) return undefined;
  try {
    return new URL(value).pathname.split('/').filter(Boolean).pop();
  } catch {
    return undefined;
  }
}

/** A value that is a link or an identifier for support, not words about the denial. */
const NOT_WORDS = /^(https?:\/\/\S+|[0-9a-f-]{16,}|[A-Z0-9]{16,})$/;

/**
 * The error members of a JSON body, at any depth: a string under a member
 * that holds an error's words ("message", "detail", "code"…), or a string in
 * a list of them (`{"errors":["…"]}`, a body that is itself a list of
 * strings). Members beside them (a field name, a request id) are not words.
 */
function walkJson(json: unknown, lines: WordsLine[], fields: WordsField[]): void {
  let members = 0;
  const visit = (v: unknown, path: string, key: string, listed: boolean, depth: number): void => {
    if (members++ > MAX_MEMBERS || depth > MAX_DEPTH) return;
    const k = norm(key);
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      const text = String(v);
      // An element of a list of grants belongs to the list's field, read whole above.
      if (GAP_KEY.test(k) && !path.endsWith(']')) fields.push({ path, key, value: [clip(text)] });
      // An RFC 9457 type URI names the problem in its last segment (…/problems/out-of-credit).
      const problemType = k === 'type' ? typeName(text) : undefined;
      if (problemType) lines.push({ source: `body:${path}`, text: problemType });
      else if (typeof v === 'string' && text.trim() && (listed || ERROR_KEYS.has(k)) && !NOT_WORDS.test(text.trim()))
        lines.push({
          source: !path ? 'body' : path.startsWith('[') ? `body${path}` : `body:${path}`,
          text: clip(text),
        });
      return;
    }
    if (Array.isArray(v)) {
      if (GAP_KEY.test(k) && v.every((x) => typeof x === 'string'))
        fields.push({ path, key, value: (v as string[]).slice(0, 50).map(clip) });
      const wordsList = !path || ERROR_KEYS.has(k) || ERROR_CONTAINERS.has(k);
      v.forEach((x, i) => visit(x, `${path}[${i}]`, key, wordsList, depth + 1));
      return;
    }
    if (v && typeof v === 'object')
      for (const [ck, cv] of Object.entries(v as Record<string, unknown>))
        visit(cv, path ? `${path}.${ck}` : ck, ck, false, depth + 1);
  };
  visit(json, '', '', typeof json === 'string', 0);
}

function walkXml(xml: Record<string, string>, lines: WordsLine[], fields: WordsField[]): void {
  for (const [path, value] of Object.entries(xml).slice(0, MAX_MEMBERS)) {
    const last = path.split('.').pop() ?? path;
    const k = norm(last.replace(/^@_/, ''));
    if (GAP_KEY.test(k)) fields.push({ path, key: last, value: [clip(value)] });
    if (value.trim() && ERROR_KEYS.has(k) && !NOT_WORDS.test(value.trim()))
      lines.push({ source: `body:${path}`, text: clip(value) });
  }
}

/** Elements whose text is page chrome or code, not the page's message. */
const SKIPPED = ['script', 'style', 'nav', 'header', 'footer', 'noscript', 'svg', 'form', 'head'];

/**
 * An HTML page's text without tags, scripts and chrome, in one pass of
 * indexOf scans (no regular expression can rescan the page).
 */
export function htmlMainText(html: string, limit = MAX_MAIN_TEXT): string {
  let out = '';
  let i = 0;
  // Lower-cased once: a page of a thousand <script> elements must not lower-case itself a thousand times.
  const lower = html.toLowerCase();
  while (i < html.length && out.length < limit * 2) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt) + ' ';
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) break;
    const tag = html
      .slice(lt + 1, Math.min(gt, lt + 40))
      .toLowerCase()
      .split(/[\s/>]/)[0];
    i = gt + 1;
    if (SKIPPED.includes(tag)) {
      const close = lower.indexOf(`</${tag}`, i);
      if (close < 0) break;
      i = html.indexOf('>', close) + 1 || html.length;
    }
  }
  const text = decodeEntities(out).replace(/\s+/g, ' ').trim();
  return text.length > limit ? text.slice(0, limit) : text;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', rsquo: '’' };

function decodeEntities(s: string): string {
  return s.replace(/&(#\d{1,6}|#x[0-9a-f]{1,6}|[a-z]{2,8});/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function htmlHeadings(html: string): string[] {
  const out: string[] = [];
  const lower = html.toLowerCase();
  const re = /<h([1-3])[^<>]{0,256}>/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html)) && out.length < 4) {
    const close = lower.indexOf(`</h${m[1]}`, m.index);
    if (close < 0) break;
    out.push(htmlMainText(html.slice(m.index + m[0].length, close), 200));
  }
  return out.filter(Boolean);
}

/**
 * Markup without a Content-Type, a title or an h1 — a page fragment such as
 * IIS's detailed error, or a page copied from a log — is still a page: its
 * text is read, its tags are not.
 */
const HTML_TAG =
  /<\/?(html|head|body|div|p|h[1-6]|center|pre|span|table|ul|li|br|hr|fieldset|b|strong)\b[^<>]{0,256}>/i;
const looksLikeHtml = (text: string) => /^\s*</.test(text) && HTML_TAG.test(text.slice(0, 4096));

/** Response headers in which servers state a reason or a scope, by name. */
const SCOPE_HEADER = /^x-(required|permitted|accepted|missing|oauth)(-oauth)?-scopes?$/;
const REASON_WORD = /error|reason|denied|denial|message|blocked|deny/;
const isReasonHeader = (name: string) =>
  name === 'reason' || SCOPE_HEADER.test(name) || (name.startsWith('x-') && REASON_WORD.test(name));

/** The reason phrases of RFC 9110 for the denial statuses; any other reason phrase is the server's own words. */
const STANDARD_REASON = /^(unauthori[sz]ed|forbidden|proxy authentication required|access denied|ok|not found)$/i;

export function readWords(
  body: Body,
  headers: readonly { name: string; value: string }[],
  contentType: string,
  statusText = '',
): DenialWords {
  const lines: WordsLine[] = [];
  const reason = statusText.trim();
  if (reason && !STANDARD_REASON.test(reason)) lines.push({ source: 'status-text', text: clip(reason) });
  const fields: WordsField[] = [];
  for (const h of headers) {
    const name = h.name.toLowerCase();
    if (isReasonHeader(name) && h.value.trim() && !NOT_WORDS.test(h.value.trim())) {
      if (SCOPE_HEADER.test(name))
        fields.push({ path: `header:${name}`, key: name, value: h.value.split(/[\s,]+/).filter(Boolean) });
      lines.push({ source: `header:${name}`, text: clip(h.value) });
    }
  }
  const html =
    body.htmlTitle !== undefined || body.htmlH1 !== undefined || /html/i.test(contentType) || looksLikeHtml(body.text);
  if (body.json !== undefined) walkJson(body.json, lines, fields);
  else if (body.xml && !html) walkXml(body.xml, lines, fields);
  else if (html) {
    if (body.htmlTitle) lines.push({ source: 'body:title', text: clip(body.htmlTitle) });
    for (const h of htmlHeadings(body.text))
      if (h !== body.htmlTitle) lines.push({ source: 'body:heading', text: clip(h) });
    const main = htmlMainText(body.text);
    if (main) lines.push({ source: 'body:text', text: main });
  } else {
    const plain = body.text.trim();
    if (plain && !plain.startsWith('<') && !plain.startsWith('{'))
      lines.push({ source: 'body', text: clip(plain.slice(0, MAX_MAIN_TEXT)) });
  }
  return { lines: lines.slice(0, MAX_LINES), fields: fields.slice(0, MAX_LINES) };
}
