// RFC 9457 problem details (application/problem+json): type, title, status,
// detail, instance and extension members. The standard fixes the shape, not
// the words, so causes come from keywords with modest weights. A problem type
// URI is owned by whoever publishes it, so a few documented namespaces name
// their product outright.
import { defineCause, ev, type Context, type Evidence } from '../define.ts';
import type { CauseId, Layer, Product } from '../../model/vocabulary.ts';
import { keywordHits, type CauseKeyword, type TextLine } from '../_lib/keyword-causes.ts';
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

const CAUSES = [
  'csrf',
  'credential-expired',
  'credential-not-yet-valid',
  'insufficient-scope',
  'wrong-audience',
  'insufficient-role',
  'not-owner',
  'cors',
  'ip-restricted',
  'rate-limited',
  'account-state',
  'resource-state',
  'feature-disabled',
  'credential-malformed',
  'credential-invalid',
  'credential-missing',
  'conditional-access',
] as const;
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

interface Keyword extends CauseKeyword<Cause> {
  what: string;
}

// Matched against title, detail, the type URI's last segment and string extension members.
const KEYWORDS: Keyword[] = [
  { re: /\bcsrf\b|\bxsrf\b/i, id: 'csrf', weight: 0.55, what: 'CSRF' },
  { re: /\bexpired?\b/i, id: 'credential-expired', weight: 0.45, what: 'something expired' },
  {
    re: /\bnot yet valid\b|\bnbf\b/i,
    id: 'credential-not-yet-valid',
    weight: 0.45,
    what: 'a credential not valid yet',
  },
  { re: /\bscopes?\b/i, id: 'insufficient-scope', weight: 0.45, what: 'a scope' },
  { re: /\baudience\b/i, id: 'wrong-audience', weight: 0.4, what: 'the audience' },
  {
    re: /\broles?\b|\bpermissions?\b|\bprivileges?\b|\binsufficient[- _]rights\b/i,
    id: 'insufficient-role',
    weight: 0.35,
    what: 'a role or permission',
  },
  { re: /\bowner\b|\bbelongs? to another\b|\bnot your\b/i, id: 'not-owner', weight: 0.4, what: 'ownership' },
  { re: /\bcross[- ]origin\b|\bcors\b|\borigin\b/i, id: 'cors', weight: 0.35, what: 'the origin' },
  {
    re: /\bip[- ]address\b|\ballow[- ]?list\b|\bwhite[- ]?list\b|\bgeo[- ]?(block|restrict)/i,
    id: 'ip-restricted',
    weight: 0.45,
    what: 'an address or allowlist',
  },
  { re: /\brate[- ]limit|\btoo many requests\b|\bthrottl/i, id: 'rate-limited', weight: 0.5, what: 'a rate limit' },
  { re: /\bquota\b|\busage[- ]cap|\bcredit\b/i, id: 'rate-limited', weight: 0.4, what: 'a quota' },
  {
    re: /\bsuspended\b|\bdeactivated\b|\bbanned\b|\baccount (is )?(disabled|locked)\b|\bunverified\b/i,
    id: 'account-state',
    weight: 0.5,
    what: 'the account’s state',
  },
  { re: /\barchived\b|\bread[- ]only\b|\blocked\b/i, id: 'resource-state', weight: 0.4, what: 'the resource’s state' },
  {
    re: /\benrol(l)?(ed|ment)?\b|\bsubscription\b|\bplan\b|\bupgrade\b|\baccess level\b|\bnot enabled\b|\bfeature\b/i,
    id: 'feature-disabled',
    weight: 0.45,
    what: 'a plan, enrollment or feature',
  },
  {
    re: /\bunsupported authentication\b|\bauthentication (type|method|scheme)\b/i,
    id: 'credential-malformed',
    weight: 0.45,
    what: 'the kind of authentication',
  },
  {
    re: /\binvalid (access |client |api )?(token|credentials?|key)\b|\binactive\b.*\btoken\b|\brevoked\b/i,
    id: 'credential-invalid',
    weight: 0.45,
    what: 'an invalid or inactive credential',
  },
  {
    re: /\bmissing (an? )?(token|credentials?|authorization)\b|\bunauthenticated\b|\bnot authenticated\b|\bauthentication required\b/i,
    id: 'credential-missing',
    weight: 0.45,
    what: 'a missing credential',
  },
  {
    re: /\bmfa\b|\bmulti[- ]factor\b|\bconditional access\b|\bdevice (is )?not compliant\b/i,
    id: 'conditional-access',
    weight: 0.45,
    what: 'a conditional-access requirement',
  },
];

function strings(p: Problem): TextLine[] {
  const out: TextLine[] = [];
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

function listOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean);
  return [];
}

/** The scopes a problem names as required, from the extension members APIs use for them. */
function requiredScopes(p: Problem): string[] {
  const x = p.extensions;
  return listOf(x.required_scopes ?? x.required_scope ?? x.scope ?? x.scopes);
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
    const claimed: CauseId[] = [];
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
        claimed.push(known.id);
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

    const shape: Evidence = p.declared
      ? ev('header:content-type', 'application/problem+json (RFC 9457)')
      : ev('body', 'RFC 9457 problem details shape (type, title, status/detail)');
    for (const { keyword, line } of keywordHits(KEYWORDS, lines, claimed)) {
      const required = keyword.id === 'insufficient-scope' ? requiredScopes(p) : [];
      const gap = required.length
        ? { required, held: [...new Set(ctx.credential.items.flatMap((i) => i.scopes ?? []))] }
        : undefined;
      report.claim(keyword.id, 'mentions', keyword.weight, {
        data: { what: keyword.what, text: line.text },
        evidence: [shape, ev(line.source, line.text)],
        gap,
      });
    }
    const said = [p.title, p.detail].filter(Boolean).join(' — ') || p.type || '(no title or detail)';
    report.note(`Problem details: ${said}${p.instance ? ` (instance ${p.instance})` : ''}`);
  },
});
