// RFC 9457 problem details (application/problem+json): type, title, status,
// detail, instance and extension members. The standard fixes the shape, not
// the words: what a title or detail says is read by denial-words, as any
// error's words are. A problem type URI is owned by whoever publishes it, so
// a few documented namespaces name their product outright, and their
// documented types their cause.
import { defineCause, ev, type Context } from '../define.ts';
import type { WordsLine } from '../../model/rule.ts';
import type { Layer, Product } from '../../model/vocabulary.ts';
import texts from './texts.json' with { type: 'json' };

interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  extensions: Record<string, unknown>;
  declared: boolean;
}

const STANDARD = new Set(['type', 'title', 'status', 'detail', 'instance']);

function problem(ctx: Context): Problem | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const o = j as Record<string, unknown>;
  const declared = /application\/problem\+json/i.test(ctx.body.contentType);
  const type = typeof o.type === 'string' ? o.type : undefined;
  const title = typeof o.title === 'string' ? o.title : undefined;
  const detail = typeof o.detail === 'string' ? o.detail : undefined;
  const status = typeof o.status === 'number' ? o.status : undefined;
  // Without the media type, require the members that make the shape unmistakable.
  if (!declared && !(type && title && (detail || status !== undefined))) return undefined;
  if (declared && !type && !title && !detail) return undefined;
  const extensions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!STANDARD.has(k)) extensions[k] = v;
  return {
    type,
    title,
    status,
    detail,
    instance: typeof o.instance === 'string' ? o.instance : undefined,
    extensions,
    declared,
  };
}

/** The causes the documented problem types below stand for. */
const CAUSES = ['feature-disabled', 'credential-malformed', 'rate-limited', 'not-owner'] as const;
type Cause = (typeof CAUSES)[number];

interface Namespace {
  prefix: RegExp;
  product: Product;
  layer: Layer;
  docs: string;
  /** Problem types whose meaning the product documents. */
  types?: Record<
    string,
    { id: Cause; weight: number; message: keyof typeof texts.messages; fix?: keyof typeof texts.fixes }
  >;
}

// Problem type namespaces that only their owner mints.
const NAMESPACES: Namespace[] = [
  {
    prefix: /^https:\/\/api\.(?:twitter|x)\.com\/2\/problems\//,
    product: 'x-api',
    layer: 'application',
    docs: 'https://docs.x.com/x-api/fundamentals/response-codes-and-errors',
    types: {
      'client-forbidden': {
        id: 'feature-disabled',
        weight: 0.75,
        message: 'xClientForbidden',
        fix: 'xProjectAccess',
      },
      'unsupported-authentication': { id: 'credential-malformed', weight: 0.75, message: 'xUnsupportedAuthentication' },
      'usage-capped': { id: 'rate-limited', weight: 0.8, message: 'xUsageCapped' },
      'not-authorized-for-resource': { id: 'not-owner', weight: 0.6, message: 'xNotAuthorizedForResource' },
    },
  },
  {
    prefix: /^https:\/\/problems\.luna\.akamaiapis\.net\//,
    product: 'akamai',
    layer: 'gateway',
    docs: 'https://techdocs.akamai.com/developer/docs/errors',
  },
];

function strings(p: Problem): WordsLine[] {
  const out: WordsLine[] = [];
  if (p.title) out.push({ source: 'body:title', text: p.title });
  if (p.detail) out.push({ source: 'body:detail', text: p.detail });
  if (p.type && p.type !== 'about:blank') {
    const last = p.type.split(/[#?]/, 1)[0].split('/').filter(Boolean).pop() ?? '';
    out.push({ source: 'body:type', text: last.replace(/[-_]/g, ' ') });
  }
  for (const [k, v] of Object.entries(p.extensions))
    if (typeof v === 'string' && v.length < 300 && !/^https?:/.test(v) && !/id$/i.test(k))
      out.push({ source: `body:${k}`, text: v.replace(/[-_]/g, ' ') });
  return out;
}

export default defineCause({
  meta: {
    id: 'problem-json',
    causes: CAUSES,
    statuses: [401, 403, 429],
    ...texts,
  },
  explain(ctx, report) {
    const p = problem(ctx);
    if (!p) return;
    const lines = strings(p);
    const ns = p.type ? NAMESPACES.find((n) => n.prefix.test(p.type!)) : undefined;
    if (ns && p.type) {
      report.producer({
        product: ns.product,
        layer: ns.layer,
        confidence: 0.9,
        evidence: [ev('body:type', `${p.type} (a problem type namespace only ${ns.product} mints)`)],
      });
      const slug = p.type.replace(ns.prefix, '').split(/[/?#]/)[0];
      const known = ns.types?.[slug];
      if (known) {
        report.claim(known.id, known.message, known.weight, {
          data: { product: ns.product, slug, problemDocs: ns.docs },
          evidence: [
            ev('body:type', p.type),
            ...lines
              .filter((l) => l.source !== 'body:type')
              .slice(0, 3)
              .map((l) => ev(l.source, l.text)),
          ],
          fixes: [...(known.fix ? [known.fix] : []), 'readProblemType'],
        });
      }
    }

    const said = [p.title, p.detail].filter(Boolean).join(' — ') || p.type || '(no title or detail)';
    report.note(`Problem details: ${said}${p.instance ? ` (instance ${p.instance})` : ''}`);
  },
});
