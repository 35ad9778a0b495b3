// RabbitMQ's management HTTP API (Cowboy): every refusal is a 401, even the
// ones that are about permissions, with {"error":"not_authorized"|"not_authorised",
// "reason": …}. The reason says which check failed: the login itself ("Login
// failed": unknown user or wrong password), the user's tags ("Not management
// user", "Not administrator user": the UI/API access level), or the user's
// permissions on a virtual host ("User not authorised to access virtual
// host"). A request without credentials gets an empty 401 with the
// management realm's Basic challenge.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const REALM = /^RabbitMQ Management$/i;
const ERROR = /^not_authori[sz]ed$/;
const KNOWN_REASON =
  /^(Login failed|Not (management|administrator|monitor|monitoring|policymaker) user|User not authori[sz]ed to access virtual host|Access refused\.?)$/i;
const TAG_REASON = /^Not (management|administrator|monitor|monitoring|policymaker) user$/i;
const VHOST_REASON = /^User not authori[sz]ed to access virtual host$|^Access refused\.?$/i;
const VHOST_PATH =
  /^\/api\/(?:queues|exchanges|bindings|vhosts|permissions|policies|operator-policies|parameters\/[^/]+|aliveness-test|channels|connections|consumers|topic-permissions|vhost-limits)\/([^/]+)/;

interface MgmtError {
  error: string;
  reason: string;
}

function mgmtError(ctx: Context): MgmtError | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || typeof j.error !== 'string' || typeof j.reason !== 'string') return undefined;
  return ERROR.test(j.error) ? { error: j.error, reason: j.reason } : undefined;
}

function basicUser(ctx: Context): string | undefined {
  return ctx.credential.items.find((i) => i.kind === 'basic')?.principal;
}

/** /api/queues/<vhost>/…, /api/exchanges/<vhost>/…: the vhost is the segment after the collection. */
function vhostOf(ctx: Context): string | undefined {
  const m = VHOST_PATH.exec(ctx.url?.pathname ?? '');
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

const q = (s: string) => (/^[\w.@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export default defineProducer({
  meta: {
    id: 'rabbitmq',
    product: 'rabbitmq',
    layer: 'application',
    causes: ['credential-missing', 'credential-invalid', 'insufficient-role', 'ip-restricted'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const found = signals();
    const basic = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'basic' && REALM.test(c.params.realm ?? ''));
    if (basic) found.add(0.95, ev('header:www-authenticate', `Basic realm="${basic.params.realm}"`));
    const err = mgmtError(ctx);
    if (err) {
      const server = ctx.header('server');
      const cowboy = /^cowboy/i.test(server ?? '');
      const api = /^\/api\//.test(ctx.url?.pathname ?? '');
      // The error/reason pair with one of the management plugin's own reasons;
      // Cowboy or an /api/ path makes it certain.
      const c = KNOWN_REASON.test(err.reason) ? (cowboy || api ? 0.92 : 0.8) : cowboy && api ? 0.7 : 0;
      if (c) {
        found.add(c, ev('body', `{"error":"${err.error}","reason":"${err.reason}"}`));
        if (cowboy) found.add(c, ev('header:server', server!));
      }
    }
    return found.result({ err });
  },
  explain(ctx, { err, evidence }, report) {
    const reason = err?.reason ?? '';
    const user = basicUser(ctx) ?? 'USER';
    const named = user !== 'USER';
    const base = ctx.url ? `${ctx.url.protocol}//${ctx.url.host}` : 'http://localhost:15672';
    const data = { user, quser: q(user), base, status: ctx.status };
    const reasonEv = err ? [ev('body:reason', reason)] : [];

    if (!err && !ctx.requestHeader('authorization')) {
      report.claim('credential-missing', 'missing', 0.85, {
        data: { ...data, url: ctx.url?.href ?? `${base}/api/overview` },
        evidence,
        fixes: ['send'],
      });
    }

    if (/^Login failed$/i.test(reason)) {
      report.claim('credential-invalid', 'loginFailed', 0.85, {
        data: { ...data, ofUser: named ? ` of ${user}` : '' },
        evidence: reasonEv,
        fixes: ['checkUser', 'resetPassword'],
      });
      if (user === 'guest')
        report.claim('ip-restricted', 'guest', 0.4, {
          evidence: [...reasonEv, ev('request-header:authorization', 'user guest')],
          fixes: ['notGuest'],
        });
    }

    const tag = TAG_REASON.exec(reason);
    if (tag) {
      const needed = tag[1].toLowerCase() === 'monitor' ? 'monitoring' : tag[1].toLowerCase();
      report.claim('insufficient-role', 'tag', 0.88, {
        data: { ...data, who: named ? user : 'the user', tag: needed },
        evidence: reasonEv,
        gap: { required: [`user tag ${needed}`], held: [] },
        fixes: ['tag'],
      });
    }

    if (VHOST_REASON.test(reason)) {
      const vhost = vhostOf(ctx);
      report.claim('insufficient-role', 'vhost', 0.85, {
        data: {
          ...data,
          Who: named ? user : 'The user',
          vhost: vhost ? ` "${vhost}"` : '',
          vhostTitle: vhost ? `"${vhost}"` : 'the virtual host',
          qvhost: q(vhost ?? 'VHOST'),
          vhostName: vhost ?? 'the vhost',
        },
        evidence: [...reasonEv, ...(vhost ? [ev('request:url', `virtual host ${vhost}`)] : [])],
        gap: { required: [`permissions on vhost ${vhost ?? 'VHOST'}`], held: [] },
        fixes: ['vhost'],
      });
    }
  },
});
