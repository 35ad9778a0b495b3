// Kong Gateway's plugins answer with a one-field JSON body, {"message": "…"},
// whose wording names the plugin: key-auth, the auth plugins' shared
// "Invalid authentication credentials", acl, ip-restriction, rate-limiting.
// Kong's own headers (Server/Via kong/x, X-Kong-*) prove the gateway answered;
// the message alone is strong only for the wordings no one else uses. What the
// rule suggests is in texts.json; what each plugin's wording means is below.
import { defineProducer, ev, signals, type Context, type Evidence } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

type KongCause = 'credential-missing' | 'credential-invalid' | 'insufficient-role' | 'ip-restricted' | 'rate-limited';

interface Reply {
  re: RegExp;
  plugin: string;
  cause: KongCause;
  /** Wording unique to Kong: enough to name the product without headers. */
  unique: boolean;
  summary: string;
  /** Fixes of texts.json, by id. */
  fixes: (keyof typeof texts.fixes)[];
}

const REPLIES: Reply[] = [
  {
    re: /^No API key found in request$/,
    plugin: 'key-auth',
    cause: 'credential-missing',
    unique: true,
    summary:
      'The key-auth plugin found no API key in the header, query string or body names it reads (config.key_names, "apikey" by default).',
    fixes: ['sendKey'],
  },
  {
    re: /^(Invalid authentication credentials|Unauthorized)$/,
    plugin: 'an authentication plugin (key-auth, basic-auth, hmac-auth, jwt)',
    cause: 'credential-invalid',
    unique: false,
    summary:
      'Kong’s authentication plugin received a credential but knows no consumer credential matching it (unknown or deleted key, wrong password, key of another workspace).',
    fixes: ['lookUpCredential'],
  },
  {
    re: /^You cannot consume this service$/,
    plugin: 'acl',
    cause: 'insufficient-role',
    unique: true,
    summary:
      'The ACL plugin refused the authenticated consumer: it belongs to no group in the allow list (or to one in the deny list).',
    fixes: ['aclGroups', 'findConsumer'],
  },
  {
    re: /^(Your IP address is not allowed|IP address not allowed: .*)$/,
    plugin: 'ip-restriction',
    cause: 'ip-restricted',
    unique: true,
    summary:
      'The ip-restriction plugin refused the client address (not in config.allow, or in config.deny). Behind a load balancer Kong sees the balancer’s address unless trusted_ips and real_ip_header are set.',
    fixes: ['ipRanges'],
  },
  {
    re: /^API rate limit exceeded$/,
    plugin: 'rate-limiting',
    cause: 'rate-limited',
    unique: true,
    summary: 'The rate-limiting plugin’s window is used up for this consumer, credential or IP.',
    fixes: ['rateLimits'],
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
    relays: true,
    causes: ['credential-missing', 'credential-invalid', 'insufficient-role', 'ip-restricted', 'rate-limited'],
    // rate-limiting answers 429, which is Kong's refusal as much as its 401 and 403.
    statuses: [401, 403, 429],
    ...texts,
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
      data: { plugin: reply.plugin, summary: reply.summary, url: ctx.url?.href ?? 'http://KONG:8000/PATH' },
      evidence: [ev('body:message', msg), ...headers],
      fixes: reply.fixes,
    });
  },
});
