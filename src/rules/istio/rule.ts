// Istio's sidecars and gateways are Envoy: an AuthorizationPolicy denial is
// Envoy's RBAC reply ("RBAC: access denied", 403) and a RequestAuthentication
// failure is jwt_authn's ("Jwt verification fails", 401). What makes it Istio
// is the proxy's headers: server "istio-envoy" and the peer-metadata exchange
// (x-envoy-peer-metadata[-id]). RequestAuthentication lets requests without a
// token through, so "no JWT" surfaces as an RBAC 403 from a policy that
// requires requestPrincipals, not as a 401.
import { defineProducer, ev, signals, type Context, type Fix } from '../define.ts';
import { challengeEvidence, envoyMarkers, localReply } from '../../knowledge/envoy-local-reply.ts';
import { namedServer } from '../_lib/server-header.ts';

const POD = 'POD -n NAMESPACE';
const PEER_METADATA = ['x-envoy-peer-metadata-id', 'x-envoy-peer-metadata'];

const authzCheck: Fix = {
  title: 'List the AuthorizationPolicies that apply to the workload and see how its proxy evaluates them',
  difficulty: 'easy',
  commands: ['kubectl get authorizationpolicy -A', `istioctl x authz check ${POD}`],
  verify: `istioctl x authz check ${POD} shows an ALLOW rule matching the request’s source, method and path (and no DENY rule).`,
  docs: 'https://istio.io/latest/docs/ops/common-problems/security-issues/#authorization-is-too-restrictive',
};

const rbacDebug: Fix = {
  title: 'Turn on the proxy’s RBAC debug log and repeat the request: it names the matched (or missing) policy',
  difficulty: 'easy',
  commands: [
    `istioctl proxy-config log ${POD} --level rbac:debug`,
    `kubectl logs ${POD} -c istio-proxy | grep -E "enforced (allowed|denied)|shadow"`,
  ],
  verify:
    'The log line for the request reads "enforced allowed" after the fix; the access log’s response flags no longer show rbac_access_denied_matched_policy[…].',
  docs: 'https://istio.io/latest/docs/ops/common-problems/security-issues/#ensure-proxies-enforce-policies-correctly',
};

const jwtCheck: Fix = {
  title: 'Compare the token with the RequestAuthentication rules (issuer, jwksUri, audiences) applied to the workload',
  difficulty: 'medium',
  commands: [
    'kubectl get requestauthentication -A -o yaml',
    `istioctl proxy-config listener ${POD} -o json | grep -A30 jwt_authn`,
    'echo "$TOKEN" | cut -d. -f2 | base64 -d 2>/dev/null   # iss, aud, exp',
  ],
  verify: 'The proxy’s access log shows the request without jwt_authn_access_denied{…} in its response code details.',
  docs: 'https://istio.io/latest/docs/tasks/security/authentication/authn-policy/#end-user-authentication',
};

const sendTokenFix = (ctx: Context): Fix => ({
  title:
    'Send the end-user JWT the mesh expects (Authorization: Bearer TOKEN), then check whether a policy requires requestPrincipals',
  difficulty: 'easy',
  commands: [
    `curl -H "Authorization: Bearer $TOKEN" ${ctx.url?.href ?? 'URL'}`,
    'kubectl get authorizationpolicy -A -o yaml | grep -n -B3 -A3 -i requestPrincipals',
  ],
  verify: 'The request with the token answers 200; without it the policy still answers 403, as intended.',
  docs: 'https://istio.io/latest/docs/tasks/security/authentication/authn-policy/#require-a-valid-token',
});

const clip = (v: string) => (v.length > 120 ? `${v.slice(0, 117)}…` : v);

export default defineProducer({
  meta: {
    id: 'istio',
    product: 'istio',
    layer: 'service-mesh',
    description:
      'Istio sidecar/gateway denials: AuthorizationPolicy ("RBAC: access denied") and RequestAuthentication JWT failures, told apart from plain Envoy by server: istio-envoy and x-envoy-peer-metadata headers.',
    docs: [
      'https://istio.io/latest/docs/tasks/security/authorization/authz-http/',
      'https://istio.io/latest/docs/tasks/security/authentication/authn-policy/',
      'https://istio.io/latest/docs/tasks/security/authorization/authz-jwt/',
      'https://istio.io/latest/docs/ops/common-problems/security-issues/',
    ],
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
    messages: {
      noToken:
        'An AuthorizationPolicy refused the request, and it carried no token. RequestAuthentication accepts requests without a JWT, so a policy requiring requestPrincipals answers them with this 403 instead of a 401.',
      policy:
        'An Istio AuthorizationPolicy refused the request: no ALLOW rule matched its source (principal, namespace, request principal), operation and conditions, or a DENY rule matched.',
      ipBlocks:
        'The policy may match on ipBlocks / remoteIpBlocks; at a gateway the client address depends on externalTrafficPolicy and numTrustedProxies.',
      jwt: 'The Istio proxy’s JWT check (RequestAuthentication) rejected the request: {{meaning}}.',
    },
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
        fixes: [jwtCheck, rbacDebug],
      });
      return;
    }
    if (!ctx.requestHeader('authorization'))
      report.claim('credential-missing', 'noToken', 0.55, {
        evidence: [bodyEv, ev('request-header:authorization', 'none sent')],
        fixes: [sendTokenFix(ctx), authzCheck],
      });
    report.claim('insufficient-role', 'policy', 0.5, { evidence: [bodyEv], fixes: [authzCheck, rbacDebug] });
    report.claim('ip-restricted', 'ipBlocks', 0.3, { evidence: [bodyEv], fixes: [authzCheck, rbacDebug] });
  },
});
