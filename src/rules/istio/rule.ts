// Istio's sidecars and gateways are Envoy: an AuthorizationPolicy denial is
// Envoy's RBAC reply ("RBAC: access denied", 403) and a RequestAuthentication
// failure is jwt_authn's ("Jwt verification fails", 401). What makes it Istio
// is the proxy's headers: server "istio-envoy" and the peer-metadata exchange
// (x-envoy-peer-metadata[-id]). RequestAuthentication lets requests without a
// token through, so "no JWT" surfaces as an RBAC 403 from a policy that
// requires requestPrincipals, not as a 401. What the rule says and suggests is
// in texts.json.
import { defineProducer, ev, signals } from '../define.ts';
import { challengeEvidence, envoyMarkers, localReply } from '../../knowledge/envoy-local-reply.ts';
import { namedServer } from '../_lib/server-header.ts';
import texts from './texts.json' with { type: 'json' };

const PEER_METADATA = ['x-envoy-peer-metadata-id', 'x-envoy-peer-metadata'];

const clip = (v: string) => (v.length > 120 ? `${v.slice(0, 117)}…` : v);

export default defineProducer({
  meta: {
    id: 'istio',
    product: 'istio',
    layer: 'service-mesh',
    relays: true,
    causes: [
      'insufficient-role',
      'credential-missing',
      'ip-restricted',
      'credential-expired',
      'credential-not-yet-valid',
      'credential-invalid',
      'credential-malformed',
      'wrong-audience',
    ],
    ...texts,
  },
  recognise(ctx) {
    // Headers only an Istio proxy adds: its server name and the peer-metadata exchange.
    const found = signals();
    const server = namedServer(ctx, /^istio-envoy$/i);
    if (server) found.add(0.45, server.evidence);
    for (const name of PEER_METADATA) {
      const v = ctx.header(name);
      if (v) found.add(0.45, ev(`header:${name}`, clip(v)));
    }
    if (!found.confidence) return undefined;
    // server: istio-envoy also sits on responses the application produced;
    // only Envoy's own bodies prove the proxy refused.
    const reply = localReply(ctx);
    found.evidence.push(...envoyMarkers(ctx));
    if (reply) found.add(0.95, ev('body', `Envoy local reply "${reply.body}" from an Istio proxy`));
    return found.result({ reply });
  },
  explain(ctx, { reply }, report) {
    if (!reply) return;
    const bodyEv = ev('body', reply.body);
    if (reply.kind === 'jwt') {
      report.claim(reply.reply.cause, 'jwt', 0.85, {
        data: { meaning: reply.reply.meaning },
        evidence: [bodyEv, ...challengeEvidence(ctx)],
        fixes: ['jwtCheck', 'rbacDebug'],
      });
      return;
    }
    if (!ctx.requestHeader('authorization'))
      report.claim('credential-missing', 'noToken', 0.55, {
        data: { url: ctx.url?.href ?? 'URL' },
        evidence: [bodyEv, ev('request-header:authorization', 'none sent')],
        fixes: ['sendToken', 'authzCheck'],
      });
    report.claim('insufficient-role', 'policy', 0.5, { evidence: [bodyEv], fixes: ['authzCheck', 'rbacDebug'] });
    report.claim('ip-restricted', 'ipBlocks', 0.3, { evidence: [bodyEv], fixes: ['authzCheck', 'rbacDebug'] });
  },
});
