// OpenAI API: errors are {"error":{"message","type","param","code"}} (a few,
// like the missing-scopes answer, put a bare string in "error"), with
// openai-organization / openai-processing-ms / x-request-id headers. The code
// is what tells the reasons apart — above all 429 insufficient_quota, which is
// billing (no credit, or the spend limit), not a rate limit to wait out.
import { defineProducer, ev, signals } from '../define.ts';
import type { Context, Fix } from '../define.ts';
import { jsonObject, stringOf } from '../_lib/saas-api.ts';

const OPENAI_CODES =
  /^(invalid_api_key|insufficient_quota|unsupported_country_region_territory|rate_limit_exceeded|model_not_found|invalid_organization|ip_not_authorized|missing_scope)$/;
const PLATFORM = 'https://platform.openai.com';
const SETTINGS = `${PLATFORM}/settings/organization`;
const KEYS_PAGE = `open ${PLATFORM}/api-keys`;
const WITH_KEY = '-H "Authorization: Bearer $OPENAI_API_KEY"';
const LIST_MODELS = `curl -s https://api.openai.com/v1/models ${WITH_KEY}`;

// ---- Fixes -------------------------------------------------------------------------------------

const CREATE_KEY: Fix = {
  title: 'Create a key (Dashboard → API keys) and send it as Authorization: Bearer sk-…',
  difficulty: 'easy',
  commands: [KEYS_PAGE],
  verify: `${LIST_MODELS}   # 200`,
};

const SEND_KEY: Fix = {
  title: 'Send the key in the Authorization header',
  difficulty: 'easy',
  commands: [LIST_MODELS],
};

/** Widen the key's permissions; verified by repeating the request. */
function editKeyPermissions(ctx: Context): Fix {
  const retry = ctx.url ? `curl -s -o /dev/null -w "%{http_code}\\n" ${ctx.url.href} ${WITH_KEY}` : LIST_MODELS;
  return {
    title:
      'Edit the key’s permissions (API keys → the key → Permissions: All, or Restricted with this endpoint’s capability set to Write/Read)',
    difficulty: 'easy',
    commands: [KEYS_PAGE],
    verify: `${retry}   # no longer 401`,
  };
}

const CHECK_ROLE: Fix = {
  title:
    'Check your role in the organization and project (Settings → Members); an OAuth client must request the scope at authorization',
  difficulty: 'medium',
  commands: [`open ${SETTINGS}/people`],
};

const SUPPORTED_COUNTRY: Fix = {
  title:
    'Run the workload from a supported country (check the list); a server in a supported region works, a key from elsewhere does not',
  difficulty: 'hard',
  commands: [`open ${PLATFORM}/docs/supported-countries`],
};

const IP_ALLOWLIST: Fix = {
  title: 'Send from an allowed address, or update the allowlist (Settings → Security → IP allowlist)',
  difficulty: 'medium',
  commands: [`open ${SETTINGS}/security`],
};

const JOIN_ORGANIZATION: Fix = {
  title: 'Ask an organization owner to invite you (Settings → Members), or create an organization',
  difficulty: 'medium',
};

const ADD_CREDITS: Fix = {
  title: 'Add credits or raise the budget (Settings → Billing; project budgets under Limits)',
  difficulty: 'easy',
  commands: [`open ${SETTINGS}/billing/overview`, `open ${SETTINGS}/limits`],
  verify: `${LIST_MODELS} then one small request: 200 instead of 429 insufficient_quota`,
};

const BACK_OFF: Fix = {
  title: 'Back off exponentially and retry; batch or lower max_tokens to use fewer tokens per minute',
  difficulty: 'easy',
  docs: `${PLATFORM}/docs/guides/rate-limits`,
};

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
    description:
      'OpenAI API denials: incorrect or missing API keys, restricted keys and tokens missing scopes, unsupported countries and IP allowlists, and 429s told apart: insufficient_quota (billing) vs rate_limit_exceeded.',
    docs: [
      'https://developers.openai.com/docs/guides/error-codes',
      `${PLATFORM}/docs/guides/rate-limits`,
      'https://help.openai.com/en/articles/8867743-assign-api-key-permissions',
      `${PLATFORM}/docs/supported-countries`,
    ],
    causes: [
      'credential-missing',
      'credential-invalid',
      'insufficient-scope',
      'ip-restricted',
      'account-state',
      'rate-limited',
    ],
    statuses: [401, 403, 429],
    messages: {
      unknownKey:
        'OpenAI does not know this API key: mistyped, deleted, from another organization, or not an OpenAI key at all.',
      noKey: 'No API key reached OpenAI.',
      missingScope:
        'The key or token is valid but lacks the scope {{scopes}}: a restricted key without that permission, an OAuth token not granted it, or a role (Reader, project Viewer) that cannot use it.',
      missingScopes:
        'The key or token is valid but lacks the scopes {{scopes}}: a restricted key without that permission, an OAuth token not granted it, or a role (Reader, project Viewer) that cannot use it.',
      unsupportedCountry:
        'OpenAI refuses requests from this country, region or territory: the geo-block applies to where the request comes from, not to the key.',
      ipAllowlist: 'The project or organization has an IP allowlist and this request came from outside it.',
      noOrganization: 'The account is not a member of any organization, so it cannot use the API.',
      quota:
        'Billing, not a rate limit: the organization or project has no credit left or has reached its monthly spend limit. Waiting and retrying will not help.',
      rateLimit: 'A requests- or tokens-per-minute limit was hit. This one passes with time.',
      rateLimitReset:
        'A requests- or tokens-per-minute limit was hit; it resets in {{reset}}. This one passes with time.',
    },
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
      report.claim('credential-invalid', 'unknownKey', 0.9, { evidence, fixes: [CREATE_KEY] });
    else if (/You didn't provide an API key/i.test(e.message))
      report.claim('credential-missing', 'noKey', 0.9, { evidence, fixes: [SEND_KEY] });
    else if (scopes?.length)
      report.claim('insufficient-scope', scopes.length > 1 ? 'missingScopes' : 'missingScope', 0.9, {
        data: { scopes: scopes.join(', ') },
        evidence,
        gap: { required: scopes, held: [] },
        fixes: [editKeyPermissions(ctx), CHECK_ROLE],
      });
    else if (e.code === 'unsupported_country_region_territory')
      report.claim('ip-restricted', 'unsupportedCountry', 0.9, { evidence, fixes: [SUPPORTED_COUNTRY] });
    else if (e.code === 'ip_not_authorized' || /IP not authorized/i.test(e.message))
      report.claim('ip-restricted', 'ipAllowlist', 0.88, { evidence, fixes: [IP_ALLOWLIST] });
    else if (/must be a member of an organization/i.test(e.message))
      report.claim('account-state', 'noOrganization', 0.85, { evidence, fixes: [JOIN_ORGANIZATION] });
    else if (e.code === 'insufficient_quota' || e.type === 'insufficient_quota')
      report.claim('account-state', 'quota', 0.88, { evidence, fixes: [ADD_CREDITS] });
    else if (e.code === 'rate_limit_exceeded' || /^Rate limit reached/i.test(e.message)) {
      const reset = ctx.header('x-ratelimit-reset-requests') ?? ctx.header('x-ratelimit-reset-tokens');
      report.claim('rate-limited', reset ? 'rateLimitReset' : 'rateLimit', 0.88, {
        data: { reset },
        evidence: [...evidence, ...(reset ? [ev('header:x-ratelimit-reset-requests', reset)] : [])],
        fixes: [BACK_OFF],
      });
    }
  },
});
