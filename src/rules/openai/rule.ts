// OpenAI API: errors are {"error":{"message","type","param","code"}} (a few,
// like the missing-scopes answer, put a bare string in "error"), with
// openai-organization / openai-processing-ms / x-request-id headers. The code
// is what tells the reasons apart — above all 429 insufficient_quota, which is
// billing (no credit, or the spend limit), not a rate limit to wait out.
import { defineProducer, ev, signals } from '../define.ts';
import type { Context } from '../define.ts';
import { jsonObject, stringOf } from '../_lib/saas-api.ts';
import texts from './texts.json' with { type: 'json' };

const OPENAI_CODES =
  /^(invalid_api_key|insufficient_quota|unsupported_country_region_territory|rate_limit_exceeded|model_not_found|invalid_organization|ip_not_authorized|missing_scope)$/;
const WITH_KEY = '-H "Authorization: Bearer $OPENAI_API_KEY"';
const LIST_MODELS = `curl -s https://api.openai.com/v1/models ${WITH_KEY}`;

// ---- Reading the response ----------------------------------------------------------------------

interface OpenAIError {
  message: string;
  type?: string;
  code?: string;
}

function openaiError(ctx: Context): OpenAIError | undefined {
  const j = jsonObject(ctx);
  if (!j) return undefined;
  if (typeof j.error === 'string') return { message: j.error };
  const inner = (typeof j.error === 'object' && j.error !== null ? j.error : j) as Record<string, unknown>;
  if (typeof inner.message !== 'string') return undefined;
  return { message: inner.message, type: stringOf(inner.type), code: stringOf(inner.code) };
}

export default defineProducer({
  meta: {
    id: 'openai',
    product: 'openai',
    layer: 'application',
    causes: [
      'credential-missing',
      'credential-invalid',
      'insufficient-scope',
      'ip-restricted',
      'account-state',
      'rate-limited',
    ],
    statuses: [401, 403, 429],
    ...texts,
  },
  recognise(ctx) {
    const found = signals().headers(ctx, 0.97, [
      'openai-organization',
      'openai-processing-ms',
      'openai-version',
      'openai-project',
    ]);
    const host = ctx.url?.hostname ?? '';
    if (host === 'api.openai.com') found.add(0.92, ev('request:url', `host ${host}`));
    const e = openaiError(ctx);
    if (e && /platform\.openai\.com|help\.openai\.com/.test(e.message))
      found.add(0.85, ev('body:error.message', 'links to platform.openai.com'));
    if (e && /Missing scopes: .*\(Reader, Writer, Owner\)/.test(e.message))
      found.add(0.85, ev('body:error', 'OpenAI’s missing-scopes message'));
    // OpenAI-compatible gateways copy these codes, so the code alone stays below a confident claim.
    if (e?.code && OPENAI_CODES.test(e.code)) found.add(0.45, ev('body:error.code', e.code));
    return found.result({ e });
  },
  explain(ctx, { e }, report) {
    if (!e) return;
    const evidence = [
      ev('body:error.message', e.message.slice(0, 300)),
      ...(e.code ? [ev('body:error.code', e.code)] : []),
    ];
    const scopes = /Missing scopes: (.+?)\.(?:\s|$)/
      .exec(e.message)?.[1]
      .split(/[\s,]+/)
      .filter(Boolean);

    // One reason a response: the first that matches.
    if (e.code === 'invalid_api_key' || /^Incorrect API key provided/.test(e.message))
      report.claim('credential-invalid', 'unknownKey', 0.9, { evidence, fixes: ['createKey'] });
    else if (/You didn't provide an API key/i.test(e.message))
      report.claim('credential-missing', 'noKey', 0.9, { evidence, fixes: ['sendKey'] });
    else if (scopes?.length)
      report.claim('insufficient-scope', scopes.length > 1 ? 'missingScopes' : 'missingScope', 0.9, {
        data: {
          scopes: scopes.join(', '),
          // Repeating the denied request shows the change took; without its URL, listing models does.
          retry: ctx.url ? `curl -s -o /dev/null -w "%{http_code}\\n" ${ctx.url.href} ${WITH_KEY}` : LIST_MODELS,
        },
        evidence,
        gap: { required: scopes, held: [] },
        fixes: ['editKeyPermissions', 'checkRole'],
      });
    else if (e.code === 'unsupported_country_region_territory')
      report.claim('ip-restricted', 'unsupportedCountry', 0.9, { evidence, fixes: ['supportedCountry'] });
    else if (e.code === 'ip_not_authorized' || /IP not authorized/i.test(e.message))
      report.claim('ip-restricted', 'ipAllowlist', 0.88, { evidence, fixes: ['ipAllowlist'] });
    else if (/must be a member of an organization/i.test(e.message))
      report.claim('account-state', 'noOrganization', 0.85, { evidence, fixes: ['joinOrganization'] });
    else if (e.code === 'insufficient_quota' || e.type === 'insufficient_quota')
      report.claim('account-state', 'quota', 0.88, { evidence, fixes: ['addCredits'] });
    else if (e.code === 'rate_limit_exceeded' || /^Rate limit reached/i.test(e.message)) {
      const reset = ctx.header('x-ratelimit-reset-requests') ?? ctx.header('x-ratelimit-reset-tokens');
      report.claim('rate-limited', reset ? 'rateLimitReset' : 'rateLimit', 0.88, {
        data: { reset },
        evidence: [...evidence, ...(reset ? [ev('header:x-ratelimit-reset-requests', reset)] : [])],
        fixes: ['backOff'],
      });
    }
  },
});
