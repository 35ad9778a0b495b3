// Envoy refuses requests itself in a few filters, each with a fixed plain-text
// body: the RBAC filter ("RBAC: access denied", 403) and jwt_authn ("Jwt is
// missing", "Jwt is expired"…, 401 with a Bearer challenge). The reason that
// matched is never in the response; it is in the access log's
// %RESPONSE_CODE_DETAILS% (rbac_access_denied_matched_policy[…],
// jwt_authn_access_denied{…}) and the admin config_dump. Istio's proxies are
// Envoy too: their replies carry Istio's headers and belong to the istio rule.
// What the rule says and suggests is in texts.json.
import { defineProducer, ev } from '../define.ts';
import { challengeEvidence, envoyMarkers, localReply } from '../../knowledge/envoy-local-reply.ts';
import texts from './texts.json' with { type: 'json' };

export default defineProducer({
  meta: {
    id: 'envoy',
    product: 'envoy',
    layer: 'reverse-proxy',
    relays: true,
    causes: [
      'insufficient-role',
      'ip-restricted',
      'credential-missing',
      'credential-expired',
      'credential-not-yet-valid',
      'credential-invalid',
      'credential-malformed',
      'wrong-audience',
    ],
    // Istio's sidecars and gateways are Envoy: where the istio rule sees its headers, the reply is Istio's.
    yieldsTo: ['istio'],
    ...texts,
  },
  recognise(ctx) {
    const markers = envoyMarkers(ctx);
    const reply = localReply(ctx);
    if (!markers.length && !reply) return undefined;
    const serverEnvoy = markers.some((e) => e.source === 'header:server');
    // The bodies are Envoy's own wording; a bare x-envoy-* header only shows Envoy on the path.
    // Without its own body the response may be the upstream's, passed through: below the 0.5 that names a producer.
    const confidence = reply ? (serverEnvoy ? 0.95 : markers.length ? 0.85 : 0.75) : serverEnvoy ? 0.45 : 0.35;
    const evidence = [...markers, ...(reply ? [ev('body', `Envoy local reply "${reply.body}"`)] : [])];
    return { confidence, evidence, reply };
  },
  explain(ctx, { reply }, report) {
    if (!reply) return;
    const bodyEv = ev('body', reply.body);
    if (reply.kind === 'rbac') {
      report.claim('insufficient-role', 'rbac', 0.6, { evidence: [bodyEv], fixes: ['rbacPolicies', 'accessLog'] });
      report.claim('ip-restricted', 'rbacAddress', 0.45, { evidence: [bodyEv], fixes: ['rbacPolicies', 'accessLog'] });
      return;
    }
    report.claim(reply.reply.cause, 'jwt', 0.85, {
      data: { meaning: reply.reply.meaning },
      evidence: [bodyEv, ...challengeEvidence(ctx)],
      fixes: ['jwtProviders', 'accessLog'],
    });
  },
});
