// why403's own middleware (src/middleware/): an API that explains its
// denials answers RFC 9457 problem+json whose `type` is
// `urn:why403:cause:<id>` and whose `cause` member repeats the id, with
// `required` and `held` when the app discloses the gap. Nothing else mints
// that namespace, so the response names its producer and its cause exactly;
// at the "status" disclosure the document is a bare about:blank, which this
// rule leaves to the others (the app chose to say nothing).
import { CAUSE_IDS, type CauseId } from '../../model/vocabulary.ts';
import { PROBLEM_TYPE_PREFIX } from '../../middleware/denial.ts';
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

type StatedCause = Exclude<CauseId, 'unknown'>;
const CAUSES = CAUSE_IDS.filter((c): c is StatedCause => c !== 'unknown');

interface Stated {
  cause: StatedCause;
  detail?: string;
  required?: string[];
  held?: string[];
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]).slice(0, 100) : undefined;

function stated(ctx: Context): Stated | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const o = j as Record<string, unknown>;
  if (typeof o.type !== 'string' || !o.type.startsWith(PROBLEM_TYPE_PREFIX)) return undefined;
  const cause = o.type.slice(PROBLEM_TYPE_PREFIX.length) as StatedCause;
  if (!(CAUSES as readonly string[]).includes(cause)) return undefined;
  const required = strings(o.required);
  const held = strings(o.held);
  return {
    cause,
    ...(typeof o.detail === 'string' ? { detail: o.detail.slice(0, 500) } : {}),
    ...(required ? { required } : {}),
    ...(held ? { held } : {}),
  };
}

export default defineProducer({
  meta: {
    id: 'why403',
    product: 'why403',
    layer: 'application',
    causes: CAUSES,
    ...texts,
  },
  recognise(ctx) {
    const found = signals();
    const s = stated(ctx);
    if (!s) return found.result();
    const o = ctx.body.json as Record<string, unknown>;
    const declared = /application\/problem\+json/i.test(ctx.body.contentType);
    // The namespace alone is unmistakable; the media type and the repeated cause make it certain.
    found.add(declared && o.cause === s.cause ? 0.98 : 0.9, ev('body:type', String(o.type)));
    return found.result();
  },
  explain(ctx, recognised, report) {
    const s = stated(ctx);
    if (!s) return;
    const gap = s.required?.length ? { required: s.required, held: s.held ?? [] } : undefined;
    report.claim(s.cause, gap ? 'statedGap' : 'stated', 0.95, {
      data: {
        cause: s.cause,
        detail: s.detail ?? 'no detail',
        required: s.required?.join(', ') ?? '',
        held: s.held?.join(', ') || 'nothing',
      },
      evidence: [
        ...recognised.evidence,
        ...(s.detail ? [ev('body:detail', s.detail)] : []),
        ...(gap
          ? [ev('body:required', gap.required.join(', ')), ev('body:held', gap.held.join(', ') || '(none)')]
          : []),
      ],
      ...(gap ? { gap } : {}),
      fixes: gap ? ['obtainGrant', 'readEvent'] : ['readEvent'],
    });
  },
});
