// Fastly's own denials come from its API (api.fastly.com, rt.fastly.com):
// errors there are a small JSON object {"msg": "...", "detail": "..."} and the
// credential travels in the proprietary Fastly-Key request header, which "has
// no special meaning outside of api.fastly.com". The msg is a fixed sentence
// per reason, so it names the cause: "Provided credentials are missing or
// invalid" (401; missing vs. invalid is told apart by whether Fastly-Key was
// sent), "Token <id> expired at <time>" (401), "Read only tokens are not
// allowed to access this endpoint" (403, a global:read token on a write call),
// "You are not authorized to perform this action" (a token limited to other
// services, or a wrong service id).
//
// At the edge Fastly adds X-Served-By: cache-<pop> and X-Timer to what it
// delivers; those alone only say the response passed through Fastly, so the
// claim stays below 0.5 and the 403 is left to the origin's own rule. Plain
// Varnish (Via: 1.1 varnish) is not Fastly and is never claimed here.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import { noteRelayed } from '../_lib/edge-block.ts';
import texts from './texts.json' with { type: 'json' };

const API_HOSTS = new Set(['api.fastly.com', 'rt.fastly.com']);
const MISSING_OR_INVALID = /^Provided credentials are missing or invalid\.?$/i;
const EXPIRED = /^Token (\S+) expired at (\S+)$/i;
const READ_ONLY = /^Read only tokens are not allowed to access this endpoint\.?$/i;
const NOT_AUTHORIZED = /^You are not authorized to perform this action\.?$/i;
// cache-<pop><digits>-<POP>, one per cache node that handled the request (shielding lists two).
const SERVED_BY = /^cache-[a-z]{3}\d+-[A-Z]{3}(\s*,\s*cache-[a-z]{3}\d+-[A-Z]{3})*$/;
const TIMER = /^S\d+\.\d+,VS\d+,VE\d+$/;

function apiMessage(ctx: Context): string | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j) || typeof j.msg !== 'string') return undefined;
  return j.msg.trim();
}

export default defineProducer({
  meta: {
    id: 'fastly',
    product: 'fastly',
    layer: 'cdn',
    relays: true,
    causes: ['credential-missing', 'credential-invalid', 'credential-expired', 'insufficient-scope', 'wrong-endpoint'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const found = signals();
    const host = ctx.url?.hostname.toLowerCase() ?? '';
    const apiHost = API_HOSTS.has(host);
    if (apiHost) found.add(0.9, ev('request:url', `host ${host} (the Fastly API)`));
    const msg = apiMessage(ctx);
    // Fastly's exact sentence; other APIs say "invalid credentials" in their own words.
    if (msg && MISSING_OR_INVALID.test(msg)) found.add(0.8, ev('body:msg', msg));
    else if (msg && apiHost) found.add(0, ev('body:msg', msg));
    const key = ctx.requestHeader('fastly-key');
    // The header means nothing outside the Fastly API, so sending it names the API being called.
    if (key !== undefined)
      found.add(msg ? 0.75 : 0.6, ev('request-header:fastly-key', 'present (the Fastly API token header)'));
    const api = found.confidence > 0;

    // Edge headers only say the response passed through Fastly: the claim stays below 0.5.
    const servedBy = ctx.header('x-served-by')?.trim();
    const timer = ctx.header('x-timer')?.trim();
    const debug = ctx.exchange.response.headers.filter((h) => /^fastly-debug-/i.test(h.name));
    const cache = Boolean(servedBy && SERVED_BY.test(servedBy));
    const edge = cache || debug.length > 0 ? 0.45 : 0;
    if (cache) found.add(edge, ev('header:x-served-by', servedBy!));
    if (timer && TIMER.test(timer)) found.add(edge, ev('header:x-timer', timer));
    for (const h of debug) found.add(edge, ev(`header:${h.name.toLowerCase()}`, h.value));
    return found.result({
      msg,
      keySent: key !== undefined && key.trim() !== '',
      ...(api ? { layer: 'application' as const } : {}),
    });
  },
  explain(ctx, { msg = '', keySent, confidence, evidence }, report) {
    const relayed = `The response passed through Fastly's edge (${evidence.map((e) => e.text).join(', ')}); Fastly's headers alone do not say that Fastly refused it: the ${ctx.status} most likely comes from the origin or from the service's own VCL.`;
    if (noteRelayed(confidence, report, relayed)) return;
    const msgEv = msg ? [ev('body:msg', msg)] : [];

    if (MISSING_OR_INVALID.test(msg) || (!msg && ctx.status === 401)) {
      if (!keySent)
        report.claim('credential-missing', 'noKey', 0.85, {
          data: { url: ctx.url?.href ?? 'https://api.fastly.com/service' },
          evidence: [...msgEv, ev('request', 'no Fastly-Key header was sent')],
          fixes: ['sendKey', 'checkToken'],
        });
      else
        report.claim('credential-invalid', 'keyRejected', 0.8, {
          evidence: [...msgEv, ev('request-header:fastly-key', 'a token was sent')],
          fixes: ['checkToken', 'newToken'],
        });
    }

    const expired = EXPIRED.exec(msg);
    if (expired)
      report.claim('credential-expired', 'expired', 0.92, {
        data: { token: expired[1], at: expired[2] },
        evidence: msgEv,
        fixes: ['newToken', 'checkTokenExpiry'],
      });

    if (READ_ONLY.test(msg))
      report.claim('insufficient-scope', 'readOnly', 0.9, {
        evidence: msgEv,
        gap: { required: ['global'], held: ['global:read'] },
        fixes: ['globalToken', 'checkToken'],
      });

    if (NOT_AUTHORIZED.test(msg)) {
      const service = /\/service\/([A-Za-z0-9]+)/.exec(ctx.url?.pathname ?? '')?.[1];
      report.claim('insufficient-scope', 'notOnService', 0.6, {
        data: { service: service ? `service ${service}` : 'this service', serviceId: service ?? '$SERVICE_ID' },
        evidence: msgEv,
        fixes: ['serviceTokens', 'newToken'],
      });
      report.claim('wrong-endpoint', 'wrongServiceId', 0.3, { evidence: msgEv, fixes: ['checkServiceId'] });
    }
  },
});
