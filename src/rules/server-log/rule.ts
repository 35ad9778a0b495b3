// What the server wrote in its own logs about this very request, given with
// `explain --log FILE` or read by `check --log FILE` as the check runs. A web
// server answers one 403 page for a deny rule, a directory without an index
// and a file its workers cannot read, but writes the reason into its error
// log; that line outranks any reading of the page. Causes the logged reason
// does not name are set back: the server has said why it refused. Where the
// server writes one message for several causes ("access forbidden by rule"),
// all of them stay, level.
import { CAUSE_IDS, type CauseId } from '../../model/vocabulary.ts';
import { defineCause, ev, formatFix } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

type KnownCause = Exclude<CauseId, 'unknown'>;
const CAUSES = CAUSE_IDS.filter((c): c is KnownCause => c !== 'unknown');

/** A reason that names one cause settles it; one message for several leaves them level, above the page's guesses. */
const ONE_CAUSE = 0.9;
const SHARED_CAUSE = 0.6;
const SAFE = new Set(['GET', 'HEAD']);
/** What a logged reason does to the causes it does not name. */
const NOT_NAMED = -0.5;

export default defineCause({
  meta: {
    id: 'server-log',
    causes: CAUSES,
    statuses: [401, 403, 407],
    ...texts,
  },
  applies: (ctx) => Boolean(ctx.exchange.logs?.length),
  explain(ctx, report) {
    const lines = ctx.exchange.logs ?? [];
    const named = new Set<CauseId>();
    for (const line of lines) {
      const weight = line.causes.length === 1 ? ONE_CAUSE : SHARED_CAUSE;
      const values = { file: line.file ?? 'FILE', user: line.user ?? 'USER' };
      for (const cause of line.causes) {
        if (cause === 'unknown') continue;
        named.add(cause);
        const others = line.causes.filter((c) => c !== cause);
        // A rule on methods (limit_except, LimitExcept) is written for the methods that change things.
        const share = cause === 'method-not-allowed' && others.length && SAFE.has(ctx.method) ? 0.5 : 1;
        report.claim(cause, 'logged', weight * share, {
          data: {
            product: line.product,
            code: line.code,
            words: line.words,
            shared: others.length ? `; the server writes the same for ${others.join(' and ')}` : '',
          },
          evidence: [ev(line.source, line.text)],
          fixes: line.fix ? [formatFix(line.fix, values)] : [],
        });
      }
    }
    const first = lines[0];
    for (const cause of CAUSES)
      if (!named.has(cause))
        report.claim(cause, 'notLogged', NOT_NAMED, {
          data: { code: first.code, product: first.product },
          evidence: [ev(first.source, first.text)],
        });
  },
});
