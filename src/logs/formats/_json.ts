// What the JSON-lines formats share: reading a line as one JSON object, and
// only when it can be one (it opens with `{` and names the members the format
// needs), so that other formats' lines cost no parse.
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The object a line holds, when it opens with `{` (nothing before it), holds every marker, and parses as an object. */
export function jsonObjectOf(line: string, markers: readonly string[] = []): Json | undefined {
  if (!line.startsWith('{') || !markers.every((m) => line.includes(m))) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  return isObject(o) ? o : undefined;
}
