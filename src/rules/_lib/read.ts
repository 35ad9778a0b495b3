// Reading what an exchange says: fields of parsed JSON and raw XML, and
// numbers a server sends as text (reset times, expiry stamps).

/**
 * The text between the first `<name>` and the next `</name>`: what
 * `new RegExp(`<${name}>([\\s\\S]*?)</${name}>`)` captured, found in one pass.
 * That regex rescanned the rest of the body from every unclosed `<name>`
 * (quadratic in a body of repeated `<Code>`); when the first has no closing
 * tag, no later one has either.
 */
export function elementText(text: string, name: string): string | undefined {
  const open = text.indexOf(`<${name}>`);
  if (open < 0) return undefined;
  const from = open + name.length + 2;
  const close = text.indexOf(`</${name}>`, from);
  return close < 0 ? undefined : text.slice(from, close);
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

/** Latest time a Date can hold, in seconds (8.64e15 ms): beyond it toISOString() throws. */
const MAX_DATE_SECONDS = 8.64e12;

/**
 * Unix seconds sent as text (a rate-limit reset header, an `expires` query
 * value) as an ISO time; undefined when it is not a positive number a Date
 * can hold, so a hostile "1e300" is quoted as sent instead of throwing.
 */
export function epochSeconds(v: string | null | undefined): string | undefined {
  const n = Number(v);
  return v && Number.isFinite(n) && n > 0 && n <= MAX_DATE_SECONDS ? new Date(n * 1000).toISOString() : undefined;
}
