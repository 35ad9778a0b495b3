// Proxies, caches and servers in front of an application see answers they
// did not make, and errors of their own that are not denials. Their rules say
// so in notes, which defineProducer cannot give: it runs `explain` only for a
// recognised response whose status the rule explains. These two fill the gap
// without touching define.ts.
import type { Context, Rule } from '../define.ts';

/**
 * Every status: for rules that read their product's own pages whatever the
 * status (a proxy's 503 is its own, and saying it is no denial is the rule's job).
 */
export const ANY_STATUS: readonly number[] = Array.from({ length: 500 }, (_, i) => 100 + i);

/**
 * The rule, plus a note for a response it does not claim: `relayed` says what
 * the product only passed on (Via, its Server beside the origin's), or nothing.
 */
export function withRelayNote(rule: Rule, relayed: (ctx: Context) => string | undefined): Rule {
  return {
    meta: rule.meta,
    run(ctx) {
      const out = rule.run(ctx);
      if (out) return out;
      const note = relayed(ctx);
      return note ? { notes: [note] } : undefined;
    },
  };
}
