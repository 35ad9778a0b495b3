// Phrases matched by meaning rather than by spelling: both the phrase and the
// text are cut into words, contractions opened ("don't" → "do not"),
// identifiers split ("PERMISSION_DENIED", "AccessDenied", "insufficient_scope"
// → two words each) and every word reduced to a light stem ("expired",
// "expires", "expiration" → "expir"). A phrase is a list of words with four
// marks:
//
//   (a|b c)   one of several words or word sequences
//   word?     a word that may be missing      (also "(a|b c)?")
//   *         up to three words of anything
//   {x}       a name the text gives (a permission, a scope, a role), captured
//             as written: "read:repository", 'admin', `orders.view`
//
// Matching walks words, never characters, so its cost is bounded by the
// number of words times the phrase's length, whatever the text holds.

export interface Token {
  stem: string;
  /** Where the word sits in the original text, for quoting it. */
  start: number;
  end: number;
}

type Element =
  /** One of several word sequences ("(api key|token)" → [["api","key"],["token"]]). */
  { kind: 'words'; alternatives: string[][]; optional: boolean } | { kind: 'gap' } | { kind: 'capture'; name: string };

export interface Phrase {
  text: string;
  elements: Element[];
  /** For each word the phrase cannot do without, the stems it may start with: a text lacking any is passed over unread. */
  required: ReadonlySet<string>[];
  /** The stems the phrase's first word may be, when it starts with a required word. */
  firsts?: ReadonlySet<string>;
}

export interface PhraseMatch {
  phrase: Phrase;
  /** The words that matched, as the text writes them. */
  quote: string;
  captures: Record<string, string>;
}

const MAX_GAP = 3;
const MAX_TOKENS = 400;

const NOT_FORMS: Record<string, string[]> = {
  "can't": ['can', 'not'],
  cannot: ['can', 'not'],
  "won't": ['will', 'not'],
  "shan't": ['shall', 'not'],
};

/** A light stemmer: the same word in its usual inflections gets the same stem. Consistency matters, not linguistics. */
export function stem(word: string): string {
  let w = word.toLowerCase();
  if (w.length <= 3) return w;
  if (w.endsWith('ations') || w.endsWith('ation')) w = w.slice(0, w.lastIndexOf('ation'));
  else if (w.endsWith('ies') || w.endsWith('ied')) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

// An IPv4 address is one word: cut at its dots it would be four, and fill a
// phrase's gap ("IP address: 203.0.113.9 is blocked").
const WORD = /(?<![.\d])\d{1,3}(?:\.\d{1,3}){3}(?![.\d])|[A-Za-z0-9]+(?:['’][A-Za-z]+)?/g;
/** The text's words with their places, contractions opened and identifiers split. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = WORD.exec(text)) && out.length < MAX_TOKENS) {
    const raw = m[0].replace('’', "'");
    const start = m.index;
    // "scope(s)", "permission(s)": the plural mark is no word of its own.
    if (raw === 's' && text[start - 1] === '(' && text[start + 1] === ')') continue;
    const end = start + m[0].length;
    const lower = raw.toLowerCase();
    const opened = NOT_FORMS[lower];
    if (opened) {
      for (const w of opened) out.push({ stem: w, start, end });
      continue;
    }
    const apostrophe = raw.indexOf("'");
    if (apostrophe > 0) {
      const suffix = lower.slice(apostrophe);
      const base = raw.slice(0, apostrophe);
      if (suffix === "'t" && lower.slice(0, apostrophe).endsWith('n')) {
        out.push({ stem: stem(base.slice(0, -1)), start, end }, { stem: 'not', start, end });
        continue;
      }
      // 's 're 've 'll 'd: the base word is what a phrase reads.
      pushParts(base, start, out);
      continue;
    }
    pushParts(raw, start, out);
  }
  return out;
}

const isUpper = (c: string | undefined) => c !== undefined && c >= 'A' && c <= 'Z';
const isLower = (c: string | undefined) => c !== undefined && c >= 'a' && c <= 'z';

/** More parts than an identifier made of words has. */
const MAX_PARTS = 4;

/**
 * A value, not a name: cut into more than MAX_PARTS parts and with digits
 * in it ("3RiIwJRqEEsoS2dUrtX24f"), where a long code of words
 * ("ClientIsNotAuthorizedToAccessResource") has none. (A random key of twenty
 * letters and digits almost always holds a digit.)
 */
const isOpaque = (word: string, parts: readonly Token[]) => parts.length > MAX_PARTS && /\d/.test(word);

/**
 * An identifier's parts: "AccessDenied" → Access, Denied; "HTTPServer" →
 * HTTP, Server; "2FA" stays whole. A value (isOpaque) stays whole, so that
 * it fills one place in a phrase's gap, not all of it. One pass over the
 * characters.
 */
function pushParts(word: string, offset: number, out: Token[]): void {
  const parts: Token[] = [];
  let start = 0;
  for (let i = 1; i <= word.length; i++) {
    const boundary =
      i === word.length ||
      (isLower(word[i - 1]) && isUpper(word[i])) ||
      (isUpper(word[i - 1]) && isUpper(word[i]) && isLower(word[i + 1]));
    if (!boundary) continue;
    parts.push({ stem: stem(word.slice(start, i)), start: offset + start, end: offset + i });
    start = i;
  }
  if (isOpaque(word, parts)) out.push({ stem: word.toLowerCase(), start: offset, end: offset + word.length });
  else out.push(...parts);
}

/** Splits a phrase at spaces outside parentheses. */
function parts(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text.trim()) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (/\s/.test(ch) && depth === 0) {
      if (current) out.push(current);
      current = '';
    } else current += ch;
  }
  if (depth !== 0) throw new Error(`phrase "${text}": unbalanced parentheses`);
  if (current) out.push(current);
  return out;
}

/** Compiles a phrase written with the marks above; throws on a malformed one (a rule's data is checked when loaded). */
export function compilePhrase(text: string): Phrase {
  const elements: Element[] = [];
  for (const part of parts(text)) {
    if (part === '*') {
      elements.push({ kind: 'gap' });
      continue;
    }
    const capture = /^\{(\w+)\}$/.exec(part);
    if (capture) {
      elements.push({ kind: 'capture', name: capture[1] });
      continue;
    }
    const optional = part.endsWith('?');
    const body = optional ? part.slice(0, -1) : part;
    const grouped = body.startsWith('(') && body.endsWith(')');
    const alternatives = (grouped ? body.slice(1, -1).split('|') : [body]).map((a) => {
      const stems = tokenize(a).map((t) => t.stem);
      if (!stems.length || (!grouped && stems.length !== 1))
        throw new Error(`phrase "${text}": "${a}" is not a word${grouped ? ' sequence' : ''}`);
      return stems;
    });
    elements.push({ kind: 'words', alternatives, optional });
  }
  const required = elements.flatMap((e) =>
    e.kind === 'words' && !e.optional ? [new Set(e.alternatives.map((a) => a[0]))] : [],
  );
  if (!required.length) throw new Error(`phrase "${text}" has no required word`);
  const head = elements[0];
  return {
    text,
    elements,
    required,
    ...(head.kind === 'words' && !head.optional ? { firsts: required[0] } : {}),
  };
}

const IDENTIFIER = /[A-Za-z0-9_.:/@*-]/;
const QUOTES = `'"\`‘’“”`;

/** The name at a token, as written: through identifier characters, or between quotes. */
function captureAt(text: string, tokens: Token[], i: number): { value: string; next: number } | undefined {
  const t = tokens[i];
  if (!t) return undefined;
  let start = t.start;
  let end = t.end;
  const before = text[start - 1];
  if (before && QUOTES.includes(before)) {
    const close = [...QUOTES].map((q) => text.indexOf(q, start)).filter((x) => x >= 0 && x - start <= 100);
    if (close.length) end = Math.min(...close);
  } else {
    while (start > 0 && IDENTIFIER.test(text[start - 1]) && t.start - start < 100) start--;
    while (end < text.length && IDENTIFIER.test(text[end]) && end - t.end < 100) end++;
    // A sentence's full stop is not part of the name.
    while (end > start && /[.:]/.test(text[end - 1])) end--;
  }
  let next = i + 1;
  while (next < tokens.length && tokens[next].start < end) next++;
  const value = text.slice(start, end).trim();
  return value ? { value, next } : undefined;
}

function matchFrom(
  text: string,
  tokens: Token[],
  elements: Element[],
  e: number,
  i: number,
  captures: Record<string, string>,
): number | undefined {
  if (e === elements.length) return i;
  const el = elements[e];
  if (el.kind === 'gap') {
    for (let skip = 0; skip <= MAX_GAP && i + skip <= tokens.length; skip++) {
      const end = matchFrom(text, tokens, elements, e + 1, i + skip, captures);
      if (end !== undefined) return end;
    }
    return undefined;
  }
  if (el.kind === 'capture') {
    const c = captureAt(text, tokens, i);
    if (!c) return undefined;
    const end = matchFrom(text, tokens, elements, e + 1, c.next, captures);
    if (end !== undefined) captures[el.name] = c.value;
    return end;
  }
  for (const seq of el.alternatives) {
    if (!seq.every((stem, k) => tokens[i + k]?.stem === stem)) continue;
    const end = matchFrom(text, tokens, elements, e + 1, i + seq.length, captures);
    if (end !== undefined) return end;
  }
  return el.optional ? matchFrom(text, tokens, elements, e + 1, i, captures) : undefined;
}

/** The first place the phrase matches the text, with the words quoted as written. */
export function matchPhrase(
  phrase: Phrase,
  text: string,
  tokens: Token[] = tokenize(text),
  stems: ReadonlySet<string> = new Set(tokens.map((t) => t.stem)),
): PhraseMatch | undefined {
  // A text that lacks a word the phrase needs cannot match it anywhere.
  for (const alternatives of phrase.required) {
    let any = false;
    for (const s of alternatives) if (stems.has(s)) any = true;
    if (!any) return undefined;
  }
  // A phrase that starts with a required word can only start where that word is.
  const firsts = phrase.firsts;
  for (let i = 0; i < tokens.length; i++) {
    if (firsts && !firsts.has(tokens[i].stem)) continue;
    const captures: Record<string, string> = {};
    const end = matchFrom(text, tokens, phrase.elements, 0, i, captures);
    if (end === undefined || end === i) continue;
    const quote = text.slice(tokens[i].start, Math.max(tokens[end - 1]?.end ?? 0, tokens[i].end));
    return { phrase, quote, captures };
  }
  return undefined;
}
