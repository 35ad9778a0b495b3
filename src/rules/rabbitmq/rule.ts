// RabbitMQ's management HTTP API (Cowboy): every refusal is a 401, even the
// ones that are about permissions, with {"error":"not_authorized"|"not_authorised",
// "reason": …}. The reason says which check failed: the login itself ("Login
// failed": unknown user or wrong password), the user's tags ("Not management
// user", "Not administrator user": the UI/API access level), or the user's
// permissions on a virtual host ("User not authorised to access virtual
// host"). A request without credentials gets an empty 401 with the
// management realm's Basic challenge.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const REALM = /^RabbitMQ Management$/i;
const ERROR = /^not_authori[sz]ed$/;

interface MgmtError {
  error: string;
  reason: string;
}

function mgmtError(ctx: Context): MgmtError | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || typeof j.error !== 'string' || typeof j.reason !== 'string') return undefined;
  return ERROR.test(j.error) ? { error: j.error, reason: j.reason } : undefined;
}

const KNOWN_REASON = /^(Login failed|Not (management|administrator|monitor|monitoring|policymaker) user|User not authori[sz]ed to access virtual host|Access refused\.?)$/i;

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const basic = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'basic' && REALM.test(c.params.realm ?? ''));
  if (basic) {
    confidence = 0.95;
    evidence.push(ev('header:www-authenticate', `Basic realm="${basic.params.realm}"`));
  }
  const err = mgmtError(ctx);
  if (err) {
    const cowboy = /^cowboy/i.test(ctx.header('server') ?? '');
    const api = /^\/api\//.test(ctx.url?.pathname ?? '');
    // The error/reason pair with one of the management plugin's own reasons; Cowboy or an /api/ path makes it certain.
    const c = KNOWN_REASON.test(err.reason) ? (cowboy || api ? 0.92 : 0.8) : cowboy && api ? 0.7 : 0;
    if (c) {
      confidence = Math.max(confidence, c);
      evidence.push(ev('body', `{"error":"${err.error}","reason":"${err.reason}"}`));
      if (cowboy) evidence.push(ev('header:server', ctx.header('server')!));
    }
  }
  return { confidence, evidence };
}

function basicUser(ctx: Context): string | undefined {
  return ctx.credential.items.find((i) => i.kind === 'basic')?.principal;
}

/** /api/queues/<vhost>/…, /api/exchanges/<vhost>/…: the vhost is the segment after the collection. */
function vhostOf(ctx: Context): string | undefined {
  const m = /^\/api\/(?:queues|exchanges|bindings|vhosts|permissions|policies|operator-policies|parameters\/[^/]+|aliveness-test|channels|connections|consumers|topic-permissions|vhost-limits)\/([^/]+)/.exec(ctx.url?.pathname ?? '');
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

const q = (s: string) => (/^[\w.@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export default defineRule({
  meta: {
    id: 'rabbitmq',
    kind: 'producer',
    product: 'rabbitmq',
    layer: 'application',
    description: 'RabbitMQ management HTTP API refusals: no credentials, failed login, user tags too low for the UI/API (management, administrator…), no permissions on the virtual host.',
    docs: [
      'https://www.rabbitmq.com/docs/management#permissions',
      'https://www.rabbitmq.com/docs/access-control',
      'https://www.rabbitmq.com/docs/http-api-reference',
      'https://www.rabbitmq.com/docs/man/rabbitmqctl.8',
    ],
    causes: ['credential-missing', 'credential-invalid', 'insufficient-role', 'ip-restricted'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'rabbitmq' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const err = mgmtError(ctx);
    const reason = err?.reason ?? '';
    const user = basicUser(ctx) ?? 'USER';
    const base = ctx.url ? `${ctx.url.protocol}//${ctx.url.host}` : 'http://localhost:15672';
    const whoami: Fix['verify'] = `curl -s -u ${user} ${base}/api/whoami shows the user with the tags you expect, and the same request no longer answers ${ctx.status}.`;
    const reasonEv = err ? [ev('body:reason', reason)] : [];
    const causes: CauseClaim[] = [];

    if (!err && !ctx.requestHeader('authorization')) {
      causes.push({
        id: 'credential-missing',
        weight: 0.85,
        summary: 'The management API needs HTTP Basic credentials of a RabbitMQ user and the request sent none.',
        evidence: sig.evidence,
        fixes: [{ title: 'Send a RabbitMQ user’s name and password', difficulty: 'easy', commands: [`curl -u ${user} ${ctx.url?.href ?? `${base}/api/overview`}`], verify: whoami }],
      });
    }

    if (/^Login failed$/i.test(reason)) {
      causes.push({
        id: 'credential-invalid',
        weight: 0.85,
        summary: `RabbitMQ refused the login${user !== 'USER' ? ` of ${user}` : ''}: the user does not exist or the password is wrong.`,
        evidence: reasonEv,
        fixes: [
          { title: 'Check that the user exists and its password', difficulty: 'easy', commands: ['rabbitmqctl list_users', `rabbitmqctl authenticate_user ${q(user)} PASSWORD`], verify: `rabbitmqctl authenticate_user ${q(user)} PASSWORD prints "Success".` },
          { title: 'Reset the password', difficulty: 'easy', commands: [`rabbitmqctl change_password ${q(user)} NEW_PASSWORD`], verify: whoami },
        ],
      });
      if (user === 'guest')
        causes.push({
          id: 'ip-restricted',
          weight: 0.4,
          summary: 'The guest user may only log in from localhost (loopback_users); from anywhere else RabbitMQ answers the same "Login failed".',
          evidence: [...reasonEv, ev('request-header:authorization', 'user guest')],
          fixes: [{ title: 'Create a real user for remote access instead of guest', difficulty: 'easy', commands: ['rabbitmqctl add_user NEWUSER PASSWORD', 'rabbitmqctl set_user_tags NEWUSER management'], docs: 'https://www.rabbitmq.com/docs/access-control#loopback-users' }],
        });
    }

    const tag = /^Not (management|administrator|monitor|monitoring|policymaker) user$/i.exec(reason);
    if (tag) {
      const needed = tag[1].toLowerCase() === 'monitor' ? 'monitoring' : tag[1].toLowerCase();
      causes.push({
        id: 'insufficient-role',
        weight: 0.88,
        summary: `The login worked, but ${user !== 'USER' ? user : 'the user'} lacks the "${needed}" tag this part of the management API requires; RabbitMQ says so with a 401.`,
        evidence: reasonEv,
        gap: { required: [`user tag ${needed}`], held: [] },
        fixes: [
          {
            title: `Give the user the ${needed} tag (set_user_tags replaces the tag list: repeat any tags it keeps)`,
            difficulty: 'easy',
            commands: ['rabbitmqctl list_users', `rabbitmqctl set_user_tags ${q(user)} ${needed}`],
            verify: `rabbitmqctl list_users shows [${needed}] for ${user}; ${whoami}`,
            docs: 'https://www.rabbitmq.com/docs/management#permissions',
          },
        ],
      });
    }

    if (/^User not authori[sz]ed to access virtual host$/i.test(reason) || /^Access refused\.?$/i.test(reason)) {
      const vhost = vhostOf(ctx);
      causes.push({
        id: 'insufficient-role',
        weight: 0.85,
        summary: `${user !== 'USER' ? user : 'The user'} has no permissions on the virtual host${vhost ? ` "${vhost}"` : ''}: tags open the management API, but every vhost needs its own configure/write/read grant.`,
        evidence: [...reasonEv, ...(vhost ? [ev('request:url', `virtual host ${vhost}`)] : [])],
        gap: { required: [`permissions on vhost ${vhost ?? 'VHOST'}`], held: [] },
        fixes: [
          {
            title: `Grant the user permissions on ${vhost ? `"${vhost}"` : 'the virtual host'}`,
            difficulty: 'easy',
            commands: [`rabbitmqctl list_user_permissions ${q(user)}`, `rabbitmqctl set_permissions -p ${q(vhost ?? 'VHOST')} ${q(user)} '.*' '.*' '.*'`],
            verify: `rabbitmqctl list_user_permissions ${q(user)} lists ${vhost ?? 'the vhost'}; the same request answers 200.`,
            docs: 'https://www.rabbitmq.com/docs/access-control#authorisation',
          },
        ],
      });
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
