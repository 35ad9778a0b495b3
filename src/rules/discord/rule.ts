// Discord's REST API answers errors with {"message", "code"}: the code is
// Discord's own JSON error code (50001 Missing Access, 50013 Missing
// Permissions, 40001 Unauthorized…) and a 401 for a bad token is
// {"message": "401: Unauthorized", "code": 0}. Rate limits are 429 with
// {"message": "You are being rate limited.", "retry_after", "global"}. The
// body shape is common, so the product is named from the host, from a code
// paired with Discord's own message for it, or from the rate-limit body.
import { defineProducer, ev, signals } from '../define.ts';
import type { Context } from '../define.ts';
import { jsonObject, rateLimited } from '../_lib/saas-api.ts';
import texts from './texts.json' with { type: 'json' };

const HOST = /^(?:(?:ptb|canary)\.)?discord(?:app)?\.com$/i;

/** Discord JSON error codes whose message identifies them (the messages as the API sends them). */
const KNOWN: Record<number, RegExp> = {
  0: /^40[13]: (Unauthorized|Forbidden)$/,
  20001: /^Bots cannot use this endpoint$/i,
  20002: /^Only bots can use this endpoint$/i,
  40001: /^Unauthorized\.?/i,
  40002: /verify your account/i,
  50001: /^Missing Access$/i,
  50013: /^Missing Permissions$/i,
  50014: /^Invalid authentication token$/i,
};

interface DiscordError {
  message: string;
  code: number;
}

function discordError(ctx: Context): DiscordError | undefined {
  const j = jsonObject(ctx);
  if (!j || typeof j.message !== 'string' || typeof j.code !== 'number') return undefined;
  return { message: j.message, code: j.code };
}

function rateLimitBody(ctx: Context): { retryAfter?: number; global: boolean } | undefined {
  const j = jsonObject(ctx);
  if (!j || j.message !== 'You are being rate limited.' || typeof j.global !== 'boolean') return undefined;
  return { retryAfter: typeof j.retry_after === 'number' ? j.retry_after : undefined, global: j.global };
}

export default defineProducer({
  meta: {
    id: 'discord',
    product: 'discord',
    layer: 'application',
    causes: [
      'credential-missing',
      'credential-invalid',
      'credential-malformed',
      'insufficient-role',
      'account-state',
      'rate-limited',
    ],
    // Its 429s too: the rate-limit body says which limit, though the engine reports only denials.
    statuses: [401, 403, 407, 429],
    ...texts,
  },
  recognise(ctx) {
    const host = ctx.url?.hostname ?? '';
    const err = discordError(ctx);
    const found = signals();
    if (HOST.test(host) && /^\/api(\/|$)/.test(ctx.url?.pathname ?? ''))
      found.add(0.92, ev('request:url', `host ${host}, path /api`));
    if (err && KNOWN[err.code]?.test(err.message))
      found.add(
        0.8,
        ev('body', `{"message": "${err.message}", "code": ${err.code}} (Discord JSON error code ${err.code})`),
      );
    if (rateLimitBody(ctx))
      found.add(0.8, ev('body', 'Discord rate-limit body: "You are being rate limited." with retry_after and global'));
    const bucket = ctx.header('x-ratelimit-bucket');
    if (bucket) found.add(0.7, ev('header:x-ratelimit-bucket', bucket));
    return found.result({ err });
  },
  explain(ctx, recognised, report) {
    const { err } = recognised;
    const errEv = err ? [ev('body', `code ${err.code}: ${err.message}`)] : [];

    if (ctx.status === 401 || err?.code === 40001 || err?.code === 50014) {
      const auth = ctx.requestHeader('authorization');
      const scheme = auth?.split(/\s+/)[0];
      const schemeEv = ev('request-header:authorization', `${scheme} …`);
      if (!auth) report.claim('credential-missing', 'missing', 0.85, { evidence: errEv, fixes: ['checkToken'] });
      else if (scheme && !/^(bot|bearer)$/i.test(scheme))
        report.claim('credential-malformed', 'wrongScheme', 0.8, {
          data: { scheme },
          evidence: [...errEv, schemeEv],
          fixes: ['checkToken'],
        });
      else
        report.claim('credential-invalid', scheme ? 'invalid' : 'invalidUnnamed', 0.85, {
          data: { scheme },
          evidence: [...errEv, schemeEv],
          fixes: ['checkToken', 'resetToken'],
        });
    }

    if (err?.code === 50013) {
      const gap = {
        required: ['the permission the endpoint documents (e.g. VIEW_AUDIT_LOG, MANAGE_ROLES, SEND_MESSAGES)'],
        held: [],
      };
      report.claim('insufficient-role', 'missingPermissions', 0.88, {
        evidence: errEv,
        gap,
        fixes: ['grantPermission'],
      });
    }
    if (err?.code === 50001) {
      const gap = { required: ['membership in the guild and VIEW_CHANNEL on the channel'], held: [] };
      report.claim('insufficient-role', 'missingAccess', 0.8, {
        evidence: errEv,
        gap,
        fixes: ['checkMembership', 'grantViewChannel'],
      });
    }
    if (err?.code === 40002)
      report.claim('account-state', 'verifyAccount', 0.85, { evidence: errEv, fixes: ['verifyAccount'] });

    const rl = rateLimitBody(ctx);
    if (rateLimited(ctx, recognised, Boolean(rl))) {
      const retry = ctx.header('retry-after') ?? (rl?.retryAfter !== undefined ? String(rl.retryAfter) : undefined);
      const global = rl?.global || ctx.header('x-ratelimit-global') === 'true';
      report.claim('rate-limited', retry ? 'rateLimitedRetry' : 'rateLimited', 0.9, {
        data: { limit: global ? 'global' : 'per-route', retry },
        evidence: [
          ...(rl ? [ev('body', `"You are being rate limited.", global ${rl.global}`)] : []),
          ...(retry ? [ev('header:retry-after', retry)] : []),
        ],
        fixes: ['honourRetryAfter', 'stopInvalidRequests'],
      });
    }
  },
});
