// Discord's REST API answers errors with {"message", "code"}: the code is
// Discord's own JSON error code (50001 Missing Access, 50013 Missing
// Permissions, 40001 Unauthorized…) and a 401 for a bad token is
// {"message": "401: Unauthorized", "code": 0}. Rate limits are 429 with
// {"message": "You are being rate limited.", "retry_after", "global"}. The
// body shape is common, so the product is named from the host, from a code
// paired with Discord's own message for it, or from the rate-limit body.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const HOST = /^(?:(?:ptb|canary)\.)?discord(?:app)?\.com$/i;
const DOCS_CODES = 'https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes';

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
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || typeof j.message !== 'string' || typeof j.code !== 'number') return undefined;
  return { message: j.message, code: j.code };
}

function rateLimitBody(ctx: Context): { retryAfter?: number; global: boolean } | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || j.message !== 'You are being rate limited.' || typeof j.global !== 'boolean') return undefined;
  return { retryAfter: typeof j.retry_after === 'number' ? j.retry_after : undefined, global: j.global };
}

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const host = ctx.url?.hostname ?? '';
  const err = discordError(ctx);
  if (HOST.test(host) && /^\/api(\/|$)/.test(ctx.url?.pathname ?? '')) {
    confidence = 0.92;
    evidence.push(ev('request:url', `host ${host}, path /api`));
  }
  if (err && KNOWN[err.code]?.test(err.message)) {
    confidence = Math.max(confidence, 0.8);
    evidence.push(ev('body', `{"message": "${err.message}", "code": ${err.code}} (Discord JSON error code ${err.code})`));
  }
  if (rateLimitBody(ctx)) {
    confidence = Math.max(confidence, 0.8);
    evidence.push(ev('body', 'Discord rate-limit body: "You are being rate limited." with retry_after and global'));
  }
  const bucket = ctx.header('x-ratelimit-bucket');
  if (bucket) {
    confidence = Math.max(confidence, 0.7);
    evidence.push(ev('header:x-ratelimit-bucket', bucket));
  }
  return { confidence, evidence };
}

export default defineRule({
  meta: {
    id: 'discord',
    kind: 'producer',
    product: 'discord',
    layer: 'application',
    description: 'Discord API errors: bad or missing token (401: Unauthorized, 40001), wrong token prefix, Missing Access (50001), Missing Permissions (50013), per-route and global rate limits.',
    docs: [
      'https://discord.com/developers/docs/topics/opcodes-and-status-codes',
      'https://discord.com/developers/docs/topics/permissions',
      'https://discord.com/developers/docs/topics/rate-limits',
      'https://discord.com/developers/docs/reference#authentication',
    ],
    causes: ['credential-missing', 'credential-invalid', 'credential-malformed', 'insufficient-role', 'account-state', 'rate-limited'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'discord' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    const err = discordError(ctx);
    const rl = rateLimitBody(ctx);
    const causes: CauseClaim[] = [];
    const auth = ctx.requestHeader('authorization');
    const scheme = auth?.split(/\s+/)[0];
    const errEv = err ? [ev('body', `code ${err.code}: ${err.message}`)] : [];
    const checkToken: Fix = {
      title: 'Check the token against Discord: a bot token as "Authorization: Bot TOKEN", an OAuth2 access token as "Authorization: Bearer TOKEN"',
      difficulty: 'easy',
      commands: ['curl -s -H "Authorization: Bot $DISCORD_TOKEN" https://discord.com/api/v10/users/@me'],
      verify: 'users/@me answers 200 with the bot’s (or user’s) id.',
      docs: 'https://discord.com/developers/docs/reference#authentication',
    };

    if (ctx.status === 401 || err?.code === 40001 || err?.code === 50014) {
      if (!auth)
        causes.push({ id: 'credential-missing', weight: 0.85, summary: 'No Authorization header reached Discord; every API call needs a bot or OAuth2 token.', evidence: errEv, fixes: [checkToken] });
      else if (scheme && !/^(bot|bearer)$/i.test(scheme))
        causes.push({ id: 'credential-malformed', weight: 0.8, summary: `Discord reads only "Bot TOKEN" or "Bearer TOKEN"; the request sent "${scheme} …".`, evidence: [...errEv, ev('request-header:authorization', `${scheme} …`)], fixes: [checkToken] });
      else
        causes.push({
          id: 'credential-invalid',
          weight: 0.85,
          summary: `Discord did not accept the ${scheme ?? ''} token: it was reset in the Developer Portal, revoked, expired (OAuth2 access tokens last days), or a bot token sent as Bearer / an OAuth2 token sent as Bot.`.replace('  ', ' '),
          evidence: [...errEv, ev('request-header:authorization', `${scheme} …`)],
          fixes: [
            checkToken,
            { title: 'Reset the bot token (Developer Portal → your application → Bot → Reset Token) and update the client’s configuration; for OAuth2, refresh the access token', difficulty: 'easy', commands: ['open https://discord.com/developers/applications'], verify: 'users/@me answers 200 with the new token.' },
          ],
        });
    }

    if (err?.code === 50013) {
      causes.push({
        id: 'insufficient-role',
        weight: 0.88,
        summary: 'The bot is in the server but its roles (and the channel’s permission overwrites) do not grant the permission this action needs; Discord does not say which one — the endpoint’s documentation does.',
        evidence: errEv,
        gap: { required: ['the permission the endpoint documents (e.g. VIEW_AUDIT_LOG, MANAGE_ROLES, SEND_MESSAGES)'], held: [] },
        fixes: [
          {
            title: 'Give the bot’s role the permission (Server Settings → Roles → the bot’s role), check channel overwrites, and keep the bot’s role above roles it must manage',
            difficulty: 'easy',
            verify: 'GET /guilds/{guild.id}/members/{bot.id} lists a role whose permissions include the needed bit; the same call succeeds.',
            commands: [`curl -s -H "Authorization: Bot $DISCORD_TOKEN" https://discord.com/api/v10/guilds/GUILD_ID/members/BOT_USER_ID`],
            docs: 'https://discord.com/developers/docs/topics/permissions',
          },
        ],
      });
    }

    if (err?.code === 50001) {
      causes.push({
        id: 'insufficient-role',
        weight: 0.8,
        summary: 'The bot cannot see this resource at all: it is not in that server, or lacks VIEW_CHANNEL on the channel (or, for member lists, the privileged Server Members intent is off).',
        evidence: errEv,
        gap: { required: ['membership in the guild and VIEW_CHANNEL on the channel'], held: [] },
        fixes: [
          { title: 'Check the bot is in the server, and re-invite it with the needed permissions if not', difficulty: 'easy', commands: [`curl -s -H "Authorization: Bot $DISCORD_TOKEN" https://discord.com/api/v10/users/@me/guilds`], verify: 'The guild id appears in the list and the same call succeeds.' },
          { title: 'Grant the bot’s role View Channel on the channel (Channel Settings → Permissions)', difficulty: 'easy', docs: 'https://discord.com/developers/docs/topics/permissions#permission-overwrites' },
        ],
      });
    }

    if (err?.code === 40002) {
      causes.push({ id: 'account-state', weight: 0.85, summary: 'Discord requires the account to verify itself before this action.', evidence: errEv, fixes: [{ title: 'Verify the account’s e-mail or phone in Discord’s settings', difficulty: 'easy', docs: DOCS_CODES }] });
    }

    if (rl || (ctx.status === 429 && sig.confidence >= 0.5)) {
      const retry = ctx.header('retry-after') ?? (rl?.retryAfter !== undefined ? String(rl.retryAfter) : undefined);
      const global = rl?.global || ctx.header('x-ratelimit-global') === 'true';
      causes.push({
        id: 'rate-limited',
        weight: 0.9,
        summary: `Discord’s ${global ? 'global' : 'per-route'} rate limit stopped the request${retry ? `; retry after ${retry}` : ''}. This is not a permission problem.`,
        evidence: [...(rl ? [ev('body', `"You are being rate limited.", global ${rl.global}`)] : []), ...(retry ? [ev('header:retry-after', retry)] : [])],
        fixes: [
          { title: 'Wait for Retry-After, then honour the X-RateLimit-* headers on every response instead of fixed delays', difficulty: 'easy', verify: 'X-RateLimit-Remaining stays above 0 on the next responses.', docs: 'https://discord.com/developers/docs/topics/rate-limits' },
          { title: 'Stop the invalid requests (401/403/429) that count towards Discord’s temporary IP ban, served by Cloudflare in front of the API', difficulty: 'medium', docs: 'https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans' },
        ],
      });
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
