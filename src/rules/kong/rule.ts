// Kong Gateway's plugins answer with a one-field JSON body, {"message": "…"},
// whose wording names the plugin: key-auth, the auth plugins' shared
// "Invalid authentication credentials", acl, ip-restriction, rate-limiting.
// Kong's own headers (Server/Via kong/x, X-Kong-*) prove the gateway answered;
// the message alone is strong only for the wordings no one else uses.
import { defineProducer, ev, signals, type Context, type Evidence, type Fix } from '../define.ts';

type KongCause = 'credential-missing' | 'credential-invalid' | 'insufficient-role' | 'ip-restricted' | 'rate-limited';

interface Reply {
  re: RegExp;
  plugin: string;
  cause: KongCause;
  /** Wording unique to Kong: enough to name the product without headers. */
  unique: boolean;
  summary: string;
  fixes: (ctx: Context) => Fix[];
}

const ADMIN = 'http://localhost:8001';

const consumerFix: Fix = {
  title: 'Find the consumer your credential belongs to (Admin API)',
  difficulty: 'easy',
  commands: [`curl -s ${ADMIN}/key-auths/API_KEY/consumer   # key-auth`, `curl -s ${ADMIN}/consumers/CONSUMER`],
  docs: 'https://docs.konghq.com/gateway/latest/admin-api/',
};

const REPLIES: Reply[] = [
  {
    re: /^No API key found in request$/,
    plugin: 'key-auth',
    cause: 'credential-missing',
    unique: true,
    summary:
      'The key-auth plugin found no API key in the header, query string or body names it reads (config.key_names, "apikey" by default).',
    fixes: (ctx) => [
      {
        title: 'Send the consumer’s key under a name the plugin reads (default: header or query parameter "apikey")',
        difficulty: 'easy',
        commands: [
          `curl -i -H "apikey: YOUR_KEY" ${ctx.url?.href ?? 'http://KONG:8000/PATH'}`,
          `curl -s ${ADMIN}/plugins | jq '.data[] | select(.name=="key-auth") | .config.key_names'`,
        ],
        verify:
          'The same request answers from the upstream (no X-Kong-Response-Latency header, X-Kong-Upstream-Latency present).',
        docs: 'https://docs.konghq.com/hub/kong-inc/key-auth/',
      },
    ],
  },
  {
    re: /^(Invalid authentication credentials|Unauthorized)$/,
    plugin: 'an authentication plugin (key-auth, basic-auth, hmac-auth, jwt)',
    cause: 'credential-invalid',
    unique: false,
    summary:
      'Kong’s authentication plugin received a credential but knows no consumer credential matching it (unknown or deleted key, wrong password, key of another workspace).',
    fixes: () => [
      {
        title: 'Look the credential up in Kong; create it for the consumer if it is missing',
        difficulty: 'easy',
        commands: [
          `curl -s ${ADMIN}/key-auths/API_KEY/consumer`,
          `curl -s -X POST ${ADMIN}/consumers/CONSUMER/key-auth --data key=NEW_KEY`,
        ],
        verify: 'The first command returns the consumer instead of 404, and the request then passes.',
        docs: 'https://docs.konghq.com/hub/kong-inc/key-auth/',
      },
    ],
  },
  {
    re: /^You cannot consume this service$/,
    plugin: 'acl',
    cause: 'insufficient-role',
    unique: true,
    summary:
      'The ACL plugin refused the authenticated consumer: it belongs to no group in the allow list (or to one in the deny list).',
    fixes: () => [
      {
        title: 'Compare the consumer’s ACL groups with the plugin’s allow/deny lists, then add the group',
        difficulty: 'easy',
        commands: [
          `curl -s ${ADMIN}/consumers/CONSUMER/acls`,
          `curl -s ${ADMIN}/plugins | jq '.data[] | select(.name=="acl") | .config'`,
          `curl -s -X POST ${ADMIN}/consumers/CONSUMER/acls --data group=ALLOWED_GROUP`,
        ],
        verify: `curl -s ${ADMIN}/consumers/CONSUMER/acls lists a group named in config.allow; the request then passes.`,
        docs: 'https://docs.konghq.com/hub/kong-inc/acl/',
      },
      consumerFix,
    ],
  },
  {
    re: /^(Your IP address is not allowed|IP address not allowed: .*)$/,
    plugin: 'ip-restriction',
    cause: 'ip-restricted',
    unique: true,
    summary:
      'The ip-restriction plugin refused the client address (not in config.allow, or in config.deny). Behind a load balancer Kong sees the balancer’s address unless trusted_ips and real_ip_header are set.',
    fixes: () => [
      {
        title: 'Read the plugin’s allow/deny ranges and compare them with the address Kong sees',
        difficulty: 'medium',
        commands: [
          `curl -s ${ADMIN}/plugins | jq '.data[] | select(.name=="ip-restriction") | .config'`,
          'grep -E "trusted_ips|real_ip_header" /etc/kong/kong.conf',
        ],
        verify: 'The client address (as Kong logs it in the access log) falls in config.allow.',
        docs: 'https://docs.konghq.com/hub/kong-inc/ip-restriction/',
      },
    ],
  },
  {
    re: /^API rate limit exceeded$/,
    plugin: 'rate-limiting',
    cause: 'rate-limited',
    unique: true,
    summary: 'The rate-limiting plugin’s window is used up for this consumer, credential or IP.',
    fixes: () => [
      {
        title: 'Wait for the window to reset (RateLimit-Reset / Retry-After), or raise the plugin’s limits',
        difficulty: 'easy',
        commands: [`curl -s ${ADMIN}/plugins | jq '.data[] | select(.name=="rate-limiting") | .config'`],
        verify: 'X-RateLimit-Remaining-* is above 0 on the next response.',
        docs: 'https://docs.konghq.com/hub/kong-inc/rate-limiting/',
      },
    ],
  },
];

function message(ctx: Context): string | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j) || typeof j.message !== 'string') return undefined;
  return j.message.trim();
}

/** key-auth's default key name, in a header or the query string. */
function sentApiKey(ctx: Context): boolean {
  return ctx.requestHeader('apikey') !== undefined || Boolean(ctx.url?.searchParams.has('apikey'));
}

function kongHeaders(ctx: Context): Evidence[] {
  const out: Evidence[] = [];
  for (const name of ['server', 'via']) {
    const v = ctx.header(name);
    if (v && /\bkong\/[\d.]+/i.test(v)) out.push(ev(`header:${name}`, v));
  }
  for (const name of [
    'x-kong-response-latency',
    'x-kong-proxy-latency',
    'x-kong-upstream-latency',
    'x-kong-request-id',
  ]) {
    const v = ctx.header(name);
    if (v !== undefined) out.push(ev(`header:${name}`, v));
  }
  const www = ctx.header('www-authenticate');
  if (www && /realm="kong"/i.test(www)) out.push(ev('header:www-authenticate', www));
  return out;
}

export default defineProducer({
  meta: {
    id: 'kong',
    product: 'kong',
    layer: 'gateway',
    description:
      'Kong Gateway plugin replies: key-auth (no key / invalid credentials), acl, ip-restriction, rate-limiting; recognised by Kong headers and the plugins’ own wording.',
    docs: [
      'https://docs.konghq.com/hub/kong-inc/key-auth/',
      'https://docs.konghq.com/hub/kong-inc/acl/',
      'https://docs.konghq.com/hub/kong-inc/ip-restriction/',
      'https://docs.konghq.com/hub/kong-inc/rate-limiting/',
    ],
    causes: ['credential-missing', 'credential-invalid', 'insufficient-role', 'ip-restricted', 'rate-limited'],
    // rate-limiting answers 429, which is Kong's refusal as much as its 401 and 403.
    statuses: [401, 403, 429],
    messages: { plugin: 'Kong’s {{plugin}} plugin: {{summary}}' },
  },
  recognise(ctx) {
    const headers = kongHeaders(ctx);
    const msg = message(ctx);
    const reply = msg ? REPLIES.find((r) => r.re.test(msg)) : undefined;
    // X-Kong-Response-Latency is set only on responses Kong generated itself;
    // Via / upstream latency alone mean Kong passed on the upstream's answer.
    const own =
      reply ||
      headers.some((e) => e.source === 'header:x-kong-response-latency' || e.source === 'header:www-authenticate');
    const found = signals();
    for (const e of headers) found.add(own ? 0.95 : 0.45, e);
    // The shared auth wording counts only beside key-auth's own request header.
    if (reply && msg) found.add(reply.unique ? 0.85 : sentApiKey(ctx) ? 0.6 : 0, ev('body:message', msg));
    return found.result({ headers, reply, msg });
  },
  explain(ctx, { headers, reply, msg }, report) {
    if (!reply || !msg) return;
    report.claim(reply.cause, 'plugin', 0.85, {
      data: { plugin: reply.plugin, summary: reply.summary },
      evidence: [ev('body:message', msg), ...headers],
      fixes: reply.fixes(ctx),
    });
  },
});
