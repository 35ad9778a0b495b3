// Causes read from words: the fallback rules (generic-http, problem-json) match
// a list of cause keywords against the texts a response carries, and claim
// each cause once, by its first keyword that matches a text.
import type { CauseId } from '../../model/vocabulary.ts';

/** One text of the response, with where it was read ("body:title", "body:error.message"). */
export interface TextLine {
  source: string;
  text: string;
}

export interface CauseKeyword<C extends CauseId = CauseId> {
  re: RegExp;
  id: C;
  weight: number;
}

/**
 * Each cause once, in the keywords' order: the first keyword for that cause
 * that matches one of the lines, and the first line it matches. Causes in
 * `skip` (already claimed by something surer) are passed over.
 */
export function keywordHits<K extends CauseKeyword>(
  keywords: readonly K[],
  lines: readonly TextLine[],
  skip: Iterable<CauseId> = [],
): { keyword: K; line: TextLine }[] {
  const seen = new Set<CauseId>(skip);
  const hits: { keyword: K; line: TextLine }[] = [];
  for (const keyword of keywords) {
    if (seen.has(keyword.id)) continue;
    const line = lines.find((l) => keyword.re.test(l.text));
    if (!line) continue;
    seen.add(keyword.id);
    hits.push({ keyword, line });
  }
  return hits;
}
