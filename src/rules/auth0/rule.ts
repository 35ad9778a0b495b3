// Auth0 answers in two shapes. The Management API (/api/v2/) and other
// hapi-based endpoints send a Boom error with Auth0's errorCode beside it:
// {"statusCode","error","message","errorCode"}. The Authentication API
// (/oauth/token, /authorize) sends OAuth errors {"error","error_description"}
// with sentences only Auth0 writes ("client-grant", "Grant type … not allowed
// for the client"). Neither shape is unique on its own, so the tenant host
// (*.auth0.com) or Auth0's own sentences decide that it is Auth0.
import { defineProducer, ev, jsonString, signals, type Context, type Fix } from '../define.ts';

const AUTH0_HOST = /(^|\.)auth0\.com$/i;
const MGMT_DOC = 'https://auth0.com/docs/secure/tokens/access-tokens/management-api-access-tokens';
const M2M_DOC =
  'https://auth0.com/docs/get-started/applications/confidential-and-public-applications/view-application-type';

interface Auth0Error {
  /** Management API: errorCode ("insufficient_scope"); Authentication API: error ("access_denied"). */
  code?: string;
  message: string;
  shape: 'management' | 'oauth' | 'none';
}

function readError(ctx: Context): Auth0Error {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return { message: '', shape: 'none' };
  const statusCode = jsonString(j, 'statusCode');
  const message = jsonString(j, 'message');
  if (statusCode && message !== undefined && typeof (j as Record<string, unknown>).error === 'string')
    return { code: jsonString(j, 'errorCode'), message, shape: 'management' };
  const error = jsonString(j, 'error');
  if (error) return { code: error, message: jsonString(j, 'error_description') ?? '', shape: 'oauth' };
  return { message: '', shape: 'none' };
}

// Sentences Auth0's servers write and nobody else's.
const AUTH0_SENTENCES =
  /^Insufficient scope, expected any of:|You need to create a "client-grant"|Grant type '[^']+' not allowed for the client|auth0\.com\/docs/;

function recogniseAuth0(ctx: Context, err: Auth0Error) {
  const found = signals();
  const host = ctx.url?.hostname ?? '';
  if (AUTH0_HOST.test(host))
    found.add(err.shape !== 'none' ? 0.95 : 0.75, ev('request:url', `Auth0 tenant domain ${host}`));
  const sentence = AUTH0_SENTENCES.exec(err.message) ?? AUTH0_SENTENCES.exec(ctx.body.text);
  if (sentence)
    found.add(0.9, ev(err.shape === 'oauth' ? 'body:error_description' : 'body:message', err.message || sentence[0]));
  if (err.shape === 'management' && err.code) {
    // A Boom body with errorCode on a custom domain: Auth0's shape, but other hapi apps could add the same field.
    const conf = ctx.url?.pathname.startsWith('/api/v2/') ? 0.7 : 0.4;
    found.add(conf, ev('body:errorCode', `${err.code} (Auth0 adds errorCode to its hapi/Boom errors)`));
  }
  const errorUri = jsonString(ctx.body.json, 'error_uri');
  if (errorUri && /^https:\/\/auth0\.com\//.test(errorUri)) found.add(0.92, ev('body:error_uri', errorUri));
  return found.result({ err });
}

/** The Management API scopes the message says are accepted ("expected any of: read:users, read:user_idp_tokens"). */
function expectedScopes(message: string): string[] {
  const m = /expected any of:\s*(\S.*)$/i.exec(message);
  return m
    ? m[1]
        .split(/[,\s]+/)
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

const heldScopes = (ctx: Context): string[] => [...new Set(ctx.credential.items.flatMap((i) => i.scopes ?? []))];

function tenantOf(ctx: Context): string {
  return ctx.url && AUTH0_HOST.test(ctx.url.hostname) ? ctx.url.hostname : 'YOUR_TENANT.auth0.com';
}

function authorizeFixes(ctx: Context, scopes: string[], api: string): Fix[] {
  const tenant = tenantOf(ctx);
  const list = scopes.length ? scopes.join(' ') : 'the scope the endpoint lists';
  return [
    {
      title: `Authorize the application for ${api} with ${scopes.length ? `the permission ${scopes.join(' or ')}` : 'the permissions it needs'}, then request a new token`,
      difficulty: 'easy',
      commands: [
        `# Auth0 Dashboard → Applications → APIs → ${api} → Machine to Machine Applications → your application: Authorized, expand ▾, tick ${list} → Update`,
        `auth0 api get "client-grants?client_id=CLIENT_ID"   # the grant and its scope list for this application (Auth0 CLI)`,
        `auth0 api patch "client-grants/GRANT_ID" --data '{"scope":["…existing scopes…"${scopes.length ? `,"${scopes[0]}"` : ''}]}'   # PATCH replaces the list: keep the existing scopes`,
      ],
      verify: `Request a new token and decode it (\`why403 token "$TOKEN"\`): its scope claim lists ${list}.`,
      docs: MGMT_DOC,
    },
    {
      title: 'Fetch a fresh token after changing the grant: tokens carry only the scopes granted when they were issued',
      difficulty: 'easy',
      commands: [
        `curl -s -X POST https://${tenant}/oauth/token -H 'content-type: application/json' -d '{"grant_type":"client_credentials","client_id":"CLIENT_ID","client_secret":"'"$CLIENT_SECRET"'","audience":"https://${tenant}/api/v2/"}'`,
      ],
      verify: 'why403 token "$TOKEN" shows the new scope in the scope claim.',
    },
  ];
}

function clientGrantFix(audience: string): Fix {
  return {
    title: `Authorize the application for the API ${audience} (create its client grant) with the scopes it needs`,
    difficulty: 'easy',
    commands: [
      `# Auth0 Dashboard → Applications → APIs → (the API whose identifier is ${audience}) → Machine to Machine Applications → toggle your application to Authorized, pick its permissions → Update`,
      `auth0 api post client-grants --data '{"client_id":"CLIENT_ID","audience":"${audience}","scope":["read:users"]}'`,
    ],
    verify: `auth0 api get "client-grants?client_id=CLIENT_ID" lists a grant with audience ${audience}; the token request then returns an access_token.`,
    docs: 'https://auth0.com/docs/api/management/v2/client-grants/post-client-grants',
  };
}

function grantTypeFix(grant: string): Fix {
  return {
    title: `Enable the ${grant} grant for the application (or use an application type that allows it, e.g. Machine to Machine for client_credentials)`,
    difficulty: 'easy',
    commands: [
      '# Auth0 Dashboard → Applications → Applications → your application → Settings → Advanced Settings → Grant Types → tick the grant → Save',
      'auth0 apps show CLIENT_ID --json | jq .grant_types',
    ],
    verify: `auth0 apps show CLIENT_ID --json | jq .grant_types lists "${grant}".`,
    docs: 'https://auth0.com/docs/get-started/applications/update-grant-types',
  };
}

function audienceFix(ctx: Context): Fix {
  const tenant = tenantOf(ctx);
  const body = `'{"grant_type":"client_credentials","client_id":"CLIENT_ID","client_secret":"'"$CLIENT_SECRET"'","audience":"https://${tenant}/api/v2/"}'`;
  return {
    title:
      'Send an access token requested with audience https://TENANT/api/v2/ on the same domain you call (not the id_token)',
    difficulty: 'easy',
    commands: [`curl -s -X POST https://${tenant}/oauth/token -H 'content-type: application/json' -d ${body}`],
    verify: 'why403 token "$TOKEN" shows aud https://TENANT/api/v2/ and iss https://TENANT/ for the domain you call.',
    docs: 'https://community.auth0.com/t/access-token-rejected-when-calling-auth0-apis/89079',
  };
}

const WHOLE_TOKEN_FIX: Fix = {
  title: 'Copy the token whole from the token response and send it unchanged',
  difficulty: 'easy',
  verify: 'why403 token "$TOKEN" decodes it and shows an iss of this tenant.',
};
const BEARER_FIX: Fix = {
  title: 'Send "Authorization: Bearer <access token>", requested with the Management API audience so it is a JWT',
  difficulty: 'easy',
  verify: 'why403 token "$TOKEN" decodes a JWT.',
};
const LOGS_FIX: Fix = {
  title: 'Check the tenant logs for the failed exchange and the client credentials in use',
  difficulty: 'easy',
  commands: ['auth0 logs tail --filter "type:feccft OR type:fertft"', '# Auth0 Dashboard → Monitoring → Logs'],
  docs: M2M_DOC,
};
const RATE_FIX: Fix = {
  title: 'Wait for x-ratelimit-reset, then cache Management API tokens and results instead of requesting them per call',
  difficulty: 'medium',
  docs: 'https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy',
};

export default defineProducer({
  meta: {
    id: 'auth0',
    product: 'auth0',
    layer: 'identity-provider',
    description:
      'Auth0 Management API errors (insufficient_scope, Invalid token) and Authentication API token errors (missing client-grant, grant type not allowed, access_denied), recognised by the tenant domain and Auth0’s own messages.',
    docs: [
      'https://support.auth0.com/center/s/article/Management-API-Token-from-API-Explorer-Tab-does-not-contain-expected-scopes',
      'https://auth0.com/docs/api/management/v2/tokens',
      'https://auth0.com/docs/get-started/applications/update-grant-types',
      'https://community.auth0.com/t/access-token-rejected-when-calling-auth0-apis/89079',
    ],
    causes: [
      'insufficient-scope',
      'credential-invalid',
      'wrong-audience',
      'credential-missing',
      'credential-malformed',
      'feature-disabled',
      'rate-limited',
    ],
    statuses: [401, 403, 429],
    messages: {
      scope:
        'The Management API token is valid but lacks the scope this endpoint needs{{oneOf}}. The application’s grant for the Auth0 Management API does not include it, or the token was issued before it was added.',
      clientGrant:
        'The application may not request tokens for {{audience}}: no client grant links it to that API, so the client-credentials exchange is refused before any token is issued.',
      grantType:
        'The application does not have the {{grant}} grant type enabled, so Auth0 refuses to run that flow for it.',
      audience:
        'Auth0 rejected the token. The usual reason is a token issued for another audience — an id_token, a token for your own API, or one requested on a custom domain and used on the tenant’s auth0.com domain (or the reverse){{mismatch}}.',
      signature:
        'The same "Invalid token" is returned for a token whose signature does not verify: truncated, altered, or signed by another tenant.',
      headerFormat:
        'The Authorization header is not "Bearer <JWT access token>": Auth0 could not parse it (an opaque /userinfo token also reads this way).',
      accessDenied:
        'Auth0 refused the token request ("access_denied: Unauthorized"): the client id or secret does not match an application of this tenant, or the application is not allowed this flow. The tenant logs name the reason.',
      rateLimited: 'Auth0’s rate limit for this endpoint or tenant was reached.',
    },
  },
  recognise(ctx) {
    // Auth0 answers in JSON, or on its own domain.
    if (ctx.body.json === undefined && !AUTH0_HOST.test(ctx.url?.hostname ?? '')) return undefined;
    return recogniseAuth0(ctx, readError(ctx));
  },
  explain(ctx, { err }, report) {
    const msg = err.message;
    const msgEv = msg ? [ev(err.shape === 'oauth' ? 'body:error_description' : 'body:message', msg)] : [];
    const held = heldScopes(ctx);

    if (err.code === 'insufficient_scope' || /^Insufficient scope/i.test(msg)) {
      const wanted = expectedScopes(msg);
      const missing = wanted.filter((s) => !held.includes(s));
      report.claim('insufficient-scope', 'scope', 0.92, {
        data: { oneOf: wanted.length ? `: one of ${wanted.join(', ')}` : '' },
        evidence: [
          ...msgEv,
          ...(err.code ? [ev('body:errorCode', err.code)] : []),
          ...(held.length ? [ev('credential:scope', held.join(' '))] : []),
        ],
        ...(wanted.length ? { gap: { required: missing.length ? missing : wanted, held } } : {}),
        fixes: authorizeFixes(ctx, wanted, 'Auth0 Management API'),
      });
    }

    const clientGrant =
      /Client is not authorized to access "?([^".]+(?:\.[^".]+)*)"?\. You need to create a "client-grant"/.exec(msg);
    if (clientGrant) {
      const audience = clientGrant[1];
      report.claim('insufficient-scope', 'clientGrant', 0.9, {
        data: { audience },
        evidence: msgEv,
        gap: { required: [`client grant for audience ${audience}`], held: [] },
        fixes: [clientGrantFix(audience)],
      });
    }

    const grantType = /Grant type '([^']+)' not allowed for the client/.exec(msg);
    if (grantType) {
      report.claim('feature-disabled', 'grantType', 0.88, {
        data: { grant: grantType[1] },
        evidence: [...msgEv, ev('body:error', err.code ?? 'unauthorized_client')],
        gap: { required: [`grant type ${grantType[1]}`], held: [] },
        fixes: [grantTypeFix(grantType[1])],
      });
    }

    if (/^Invalid token$/i.test(msg.trim()) || (err.shape === 'management' && /invalid token/i.test(msg))) {
      // Auth0 answers "Invalid token" alike for a bad signature and for a token
      // minted for another audience or another domain of the tenant (an
      // id_token, a custom-domain token used on the canonical domain).
      const item = ctx.credential.items.find((i) => i.kind === 'bearer-jwt' && i.claims);
      const aud = item?.audience ?? [];
      const wantAud = ctx.url ? `https://${ctx.url.hostname}/api/v2/` : undefined;
      const audMismatch = Boolean(wantAud && aud.length && !aud.includes(wantAud));
      report.claim('wrong-audience', 'audience', audMismatch ? 0.88 : 0.6, {
        data: { mismatch: audMismatch ? `: this one’s aud is ${aud.join(', ')}, not ${wantAud}` : '' },
        evidence: [...msgEv, ...(aud.length ? [ev('claim:aud', aud.join(' '))] : [])],
        ...(audMismatch && wantAud ? { gap: { required: [`aud ${wantAud}`], held: aud.map((a) => `aud ${a}`) } } : {}),
        fixes: [audienceFix(ctx)],
      });
      report.claim('credential-invalid', 'signature', 0.5, { evidence: msgEv, fixes: [WHOLE_TOKEN_FIX] });
    }

    if (/Bad HTTP authentication header format/i.test(msg))
      report.claim('credential-malformed', 'headerFormat', 0.85, { evidence: msgEv, fixes: [BEARER_FIX] });

    if (err.shape === 'oauth' && err.code === 'access_denied' && /^Unauthorized$/i.test(msg.trim()))
      report.claim('credential-invalid', 'accessDenied', 0.6, { evidence: msgEv, fixes: [LOGS_FIX] });

    if (ctx.status === 429 || /too many requests|rate limit/i.test(msg)) {
      const reset = ctx.header('x-ratelimit-reset');
      report.claim('rate-limited', 'rateLimited', 0.85, {
        evidence: [...msgEv, ...(reset ? [ev('header:x-ratelimit-reset', reset)] : [])],
        fixes: [RATE_FIX],
      });
    }
  },
});
