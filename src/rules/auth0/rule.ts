// Auth0 answers in two shapes. The Management API (/api/v2/) and other
// hapi-based endpoints send a Boom error with Auth0's errorCode beside it:
// {"statusCode","error","message","errorCode"}. The Authentication API
// (/oauth/token, /authorize) sends OAuth errors {"error","error_description"}
// with sentences only Auth0 writes ("client-grant", "Grant type … not allowed
// for the client"). Neither shape is unique on its own, so the tenant host
// (*.auth0.com) or Auth0's own sentences decide that it is Auth0.
import { defineProducer, ev, jsonString, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const AUTH0_HOST = /(^|\.)auth0\.com$/i;

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

export default defineProducer({
  meta: {
    id: 'auth0',
    product: 'auth0',
    layer: 'identity-provider',
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
    ...texts,
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
        data: {
          oneOf: wanted.length ? `: one of ${wanted.join(', ')}` : '',
          api: 'Auth0 Management API',
          permissions: wanted.length ? `the permission ${wanted.join(' or ')}` : 'the permissions it needs',
          list: wanted.length ? wanted.join(' ') : 'the scope the endpoint lists',
          firstScope: wanted.length ? `,"${wanted[0]}"` : '',
          tenant: tenantOf(ctx),
        },
        evidence: [
          ...msgEv,
          ...(err.code ? [ev('body:errorCode', err.code)] : []),
          ...(held.length ? [ev('credential:scope', held.join(' '))] : []),
        ],
        ...(wanted.length ? { gap: { required: missing.length ? missing : wanted, held } } : {}),
        fixes: ['authorizeScope', 'freshToken'],
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
        fixes: ['clientGrant'],
      });
    }

    const grantType = /Grant type '([^']+)' not allowed for the client/.exec(msg);
    if (grantType) {
      report.claim('feature-disabled', 'grantType', 0.88, {
        data: { grant: grantType[1] },
        evidence: [...msgEv, ev('body:error', err.code ?? 'unauthorized_client')],
        gap: { required: [`grant type ${grantType[1]}`], held: [] },
        fixes: ['grantType'],
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
        data: {
          mismatch: audMismatch ? `: this one’s aud is ${aud.join(', ')}, not ${wantAud}` : '',
          tenant: tenantOf(ctx),
        },
        evidence: [...msgEv, ...(aud.length ? [ev('claim:aud', aud.join(' '))] : [])],
        ...(audMismatch && wantAud ? { gap: { required: [`aud ${wantAud}`], held: aud.map((a) => `aud ${a}`) } } : {}),
        fixes: ['audience'],
      });
      report.claim('credential-invalid', 'signature', 0.5, { evidence: msgEv, fixes: ['wholeToken'] });
    }

    if (/Bad HTTP authentication header format/i.test(msg))
      report.claim('credential-malformed', 'headerFormat', 0.85, { evidence: msgEv, fixes: ['bearer'] });

    if (err.shape === 'oauth' && err.code === 'access_denied' && /^Unauthorized$/i.test(msg.trim()))
      report.claim('credential-invalid', 'accessDenied', 0.6, { evidence: msgEv, fixes: ['logs'] });

    if (ctx.status === 429 || /too many requests|rate limit/i.test(msg)) {
      const reset = ctx.header('x-ratelimit-reset');
      report.claim('rate-limited', 'rateLimited', 0.85, {
        evidence: [...msgEv, ...(reset ? [ev('header:x-ratelimit-reset', reset)] : [])],
        fixes: ['rateLimit'],
      });
    }
  },
});
