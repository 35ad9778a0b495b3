// OpenAI API: errors are {"error":{"message","type","param","code"}} (a few,
// like the missing-scopes answer, put a bare string in "error"), with
// openai-organization / openai-processing-ms / x-request-id headers. The code
// is what tells the reasons apart — above all 429 insufficient_quota, which is
// billing (no credit, or the spend limit), not a rate limit to wait out.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence } from '../../model/report.ts';

interface OpenAIError {
  message: string;
  type?: string;
  code?: string;
}

function openaiError(ctx: Context): OpenAIError | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const inner = (typeof j.error === 'object' && j.error !== null ? j.error : j) as Record<string, unknown>;
  if (typeof j.error === 'string') return { message: j.error };
  if (typeof inner.message !== 'string') return undefined;
  return { message: inner.message, type: typeof inner.type === 'string' ? inner.type : undefined, code: typeof inner.code === 'string' ? inner.code : undefined };
}

const OPENAI_CODES = /^(invalid_api_key|insufficient_quota|unsupported_country_region_territory|rate_limit_exceeded|model_not_found|invalid_organization|ip_not_authorized|missing_scope)$/;

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  for (const h of ['openai-organization', 'openai-processing-ms', 'openai-version', 'openai-project']) {
    const v = ctx.header(h);
    if (v !== undefined) bump(0.97, ev(`header:${h}`, v));
  }
  const host = ctx.url?.hostname ?? '';
  if (host === 'api.openai.com') bump(0.92, ev('request:url', `host ${host}`));
  const e = openaiError(ctx);
  if (e && /platform\.openai\.com|help\.openai\.com/.test(e.message)) bump(0.85, ev('body:error.message', 'links to platform.openai.com'));
  if (e && /Missing scopes: .*\(Reader, Writer, Owner\)/.test(e.message)) bump(0.85, ev('body:error', 'OpenAI’s missing-scopes message'));
  // OpenAI-compatible gateways copy these codes, so the code alone stays below a confident claim.
  if (e?.code && OPENAI_CODES.test(e.code)) bump(0.45, ev('body:error.code', e.code));
  return { confidence, evidence };
}

export default defineRule({
  meta: {
    id: 'openai',
    kind: 'producer',
    product: 'openai',
    layer: 'application',
    description: 'OpenAI API denials: incorrect or missing API keys, restricted keys and tokens missing scopes, unsupported countries and IP allowlists, and 429s told apart: insufficient_quota (billing) vs rate_limit_exceeded.',
    docs: ['https://developers.openai.com/docs/guides/error-codes', 'https://platform.openai.com/docs/guides/rate-limits', 'https://help.openai.com/en/articles/8867743-assign-api-key-permissions', 'https://platform.openai.com/docs/supported-countries'],
    causes: ['credential-missing', 'credential-invalid', 'insufficient-scope', 'ip-restricted', 'account-state', 'rate-limited'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'openai' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403 && ctx.status !== 429) return { producer };
    const e = openaiError(ctx);
    if (!e) return { producer };
    const msgEv = [ev('body:error.message', e.message.slice(0, 300)), ...(e.code ? [ev('body:error.code', e.code)] : [])];
    const models = 'curl -s https://api.openai.com/v1/models -H "Authorization: Bearer $OPENAI_API_KEY"';
    const causes: CauseClaim[] = [];
    const scopes = /Missing scopes: (.+?)\.(?:\s|$)/.exec(e.message)?.[1].split(/[\s,]+/).filter(Boolean);

    if (e.code === 'invalid_api_key' || /^Incorrect API key provided/.test(e.message)) {
      causes.push({ id: 'credential-invalid', weight: 0.9, summary: 'OpenAI does not know this API key: mistyped, deleted, from another organization, or not an OpenAI key at all.', evidence: msgEv, fixes: [{ title: 'Create a key (Dashboard → API keys) and send it as Authorization: Bearer sk-…', difficulty: 'easy', commands: ['open https://platform.openai.com/api-keys'], verify: `${models}   # 200` }] });
    } else if (/You didn't provide an API key/i.test(e.message)) {
      causes.push({ id: 'credential-missing', weight: 0.9, summary: 'No API key reached OpenAI.', evidence: msgEv, fixes: [{ title: 'Send the key in the Authorization header', difficulty: 'easy', commands: [models] }] });
    } else if (scopes?.length) {
      causes.push({
        id: 'insufficient-scope',
        weight: 0.9,
        summary: `The key or token is valid but lacks the scope${scopes.length > 1 ? 's' : ''} ${scopes.join(', ')}: a restricted key without that permission, an OAuth token not granted it, or a role (Reader, project Viewer) that cannot use it.`,
        evidence: msgEv,
        gap: { required: scopes, held: [] },
        fixes: [
          { title: 'Edit the key’s permissions (API keys → the key → Permissions: All, or Restricted with this endpoint’s capability set to Write/Read)', difficulty: 'easy', commands: ['open https://platform.openai.com/api-keys'], verify: `${ctx.url ? `curl -s -o /dev/null -w "%{http_code}\\n" ${ctx.url.href} -H "Authorization: Bearer $OPENAI_API_KEY"` : models}   # no longer 401` },
          { title: 'Check your role in the organization and project (Settings → Members); an OAuth client must request the scope at authorization', difficulty: 'medium', commands: ['open https://platform.openai.com/settings/organization/people'] },
        ],
      });
    } else if (e.code === 'unsupported_country_region_territory') {
      causes.push({ id: 'ip-restricted', weight: 0.9, summary: 'OpenAI refuses requests from this country, region or territory: the geo-block applies to where the request comes from, not to the key.', evidence: msgEv, fixes: [{ title: 'Run the workload from a supported country (check the list); a server in a supported region works, a key from elsewhere does not', difficulty: 'hard', commands: ['open https://platform.openai.com/docs/supported-countries'] }] });
    } else if (e.code === 'ip_not_authorized' || /IP not authorized/i.test(e.message)) {
      causes.push({ id: 'ip-restricted', weight: 0.88, summary: 'The project or organization has an IP allowlist and this request came from outside it.', evidence: msgEv, fixes: [{ title: 'Send from an allowed address, or update the allowlist (Settings → Security → IP allowlist)', difficulty: 'medium', commands: ['open https://platform.openai.com/settings/organization/security'] }] });
    } else if (/must be a member of an organization/i.test(e.message)) {
      causes.push({ id: 'account-state', weight: 0.85, summary: 'The account is not a member of any organization, so it cannot use the API.', evidence: msgEv, fixes: [{ title: 'Ask an organization owner to invite you (Settings → Members), or create an organization', difficulty: 'medium' }] });
    } else if (e.code === 'insufficient_quota' || e.type === 'insufficient_quota') {
      causes.push({
        id: 'account-state',
        weight: 0.88,
        summary: 'Billing, not a rate limit: the organization or project has no credit left or has reached its monthly spend limit. Waiting and retrying will not help.',
        evidence: msgEv,
        fixes: [
          { title: 'Add credits or raise the budget (Settings → Billing; project budgets under Limits)', difficulty: 'easy', commands: ['open https://platform.openai.com/settings/organization/billing/overview', 'open https://platform.openai.com/settings/organization/limits'], verify: `${models} then one small request: 200 instead of 429 insufficient_quota` },
        ],
      });
    } else if (e.code === 'rate_limit_exceeded' || /^Rate limit reached/i.test(e.message)) {
      const reset = ctx.header('x-ratelimit-reset-requests') ?? ctx.header('x-ratelimit-reset-tokens');
      causes.push({ id: 'rate-limited', weight: 0.88, summary: `A requests- or tokens-per-minute limit was hit${reset ? `; it resets in ${reset}` : ''}. This one passes with time.`, evidence: [...msgEv, ...(reset ? [ev('header:x-ratelimit-reset-requests', reset)] : [])], fixes: [{ title: 'Back off exponentially and retry; batch or lower max_tokens to use fewer tokens per minute', difficulty: 'easy', docs: 'https://platform.openai.com/docs/guides/rate-limits' }] });
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
