// Istio's sidecars and gateways are Envoy: an AuthorizationPolicy denial is
// Envoy's RBAC reply ("RBAC: access denied", 403) and a RequestAuthentication
// failure is jwt_authn's ("Jwt verification fails", 401). What makes it Istio
// is the proxy's headers: server "istio-envoy" and the peer-metadata exchange
// (x-envoy-peer-metadata[-id]). RequestAuthentication lets requests without a
// token through, so "no JWT" surfaces as an RBAC 403 from a policy that
// requires requestPrincipals, not as a 401.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Fix } from '../../model/report.ts';
import { envoyMarkers, istioMarkers, localReply } from '../envoy/local-reply.ts';

const POD = 'POD -n NAMESPACE';

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
  commands: [`istioctl proxy-config log ${POD} --level rbac:debug`, `kubectl logs ${POD} -c istio-proxy | grep -E "enforced (allowed|denied)|shadow"`],
  verify: 'The log line for the request reads "enforced allowed" after the fix; the access log’s response flags no longer show rbac_access_denied_matched_policy[…].',
  docs: 'https://istio.io/latest/docs/ops/common-problems/security-issues/#ensure-proxies-enforce-policies-correctly',
};

const jwtCheck: Fix = {
  title: 'Compare the token with the RequestAuthentication rules (issuer, jwksUri, audiences) applied to the workload',
  difficulty: 'medium',
  commands: ['kubectl get requestauthentication -A -o yaml', `istioctl proxy-config listener ${POD} -o json | grep -A30 jwt_authn`, 'echo "$TOKEN" | cut -d. -f2 | base64 -d 2>/dev/null   # iss, aud, exp'],
  verify: 'The proxy’s access log shows the request without jwt_authn_access_denied{…} in its response code details.',
  docs: 'https://istio.io/latest/docs/tasks/security/authentication/authn-policy/#end-user-authentication',
};

export default defineRule({
  meta: {
    id: 'istio',
    kind: 'producer',
    product: 'istio',
    layer: 'service-mesh',
    description: 'Istio sidecar/gateway denials: AuthorizationPolicy ("RBAC: access denied") and RequestAuthentication JWT failures, told apart from plain Envoy by server: istio-envoy and x-envoy-peer-metadata headers.',
    docs: [
      'https://istio.io/latest/docs/tasks/security/authorization/authz-http/',
      'https://istio.io/latest/docs/tasks/security/authentication/authn-policy/',
      'https://istio.io/latest/docs/tasks/security/authorization/authz-jwt/',
      'https://istio.io/latest/docs/ops/common-problems/security-issues/',
    ],
    causes: ['insufficient-role', 'credential-missing', 'ip-restricted', 'credential-expired', 'credential-not-yet-valid', 'credential-invalid', 'credential-malformed', 'wrong-audience'],
  },
  applies: (ctx) => istioMarkers(ctx).length > 0,
  run(ctx) {
    const markers = istioMarkers(ctx);
    const reply = localReply(ctx);
    // server: istio-envoy also sits on responses the application produced; only Envoy's own bodies prove the proxy refused.
    const confidence = reply ? 0.95 : 0.45;
    const evidence = [...markers, ...envoyMarkers(ctx), ...(reply ? [ev('body', `Envoy local reply "${reply.body}" from an Istio proxy`)] : [])];
    const producer = { product: 'istio' as const, layer: 'service-mesh' as const, confidence, evidence };
    if (!reply) return { producer };
    const bodyEv = ev('body', reply.body);
    const causes: CauseClaim[] = [];
    if (reply.kind === 'rbac') {
      const sent = ctx.requestHeader('authorization');
      if (!sent)
        causes.push({
          id: 'credential-missing',
          weight: 0.55,
          summary: 'An AuthorizationPolicy refused the request, and it carried no token. RequestAuthentication accepts requests without a JWT, so a policy requiring requestPrincipals answers them with this 403 instead of a 401.',
          evidence: [bodyEv, ev('request-header:authorization', 'none sent')],
          fixes: [
            {
              title: 'Send the end-user JWT the mesh expects (Authorization: Bearer TOKEN), then check whether a policy requires requestPrincipals',
              difficulty: 'easy',
              commands: [`curl -H "Authorization: Bearer $TOKEN" ${ctx.url?.href ?? 'URL'}`, 'kubectl get authorizationpolicy -A -o yaml | grep -n -B3 -A3 -i requestPrincipals'],
              verify: 'The request with the token answers 200; without it the policy still answers 403, as intended.',
              docs: 'https://istio.io/latest/docs/tasks/security/authentication/authn-policy/#require-a-valid-token',
            },
            authzCheck,
          ],
        });
      causes.push({
        id: 'insufficient-role',
        weight: 0.5,
        summary: 'An Istio AuthorizationPolicy refused the request: no ALLOW rule matched its source (principal, namespace, request principal), operation and conditions, or a DENY rule matched.',
        evidence: [bodyEv],
        fixes: [authzCheck, rbacDebug],
      });
      causes.push({
        id: 'ip-restricted',
        weight: 0.3,
        summary: 'The policy may match on ipBlocks / remoteIpBlocks; at a gateway the client address depends on externalTrafficPolicy and numTrustedProxies.',
        evidence: [bodyEv],
        fixes: [authzCheck, rbacDebug],
      });
      return { producer, causes };
    }
    const r = reply.reply;
    causes.push({
      id: r.cause,
      weight: 0.85,
      summary: `The Istio proxy’s JWT check (RequestAuthentication) rejected the request: ${r.meaning}.`,
      evidence: [bodyEv, ...(ctx.header('www-authenticate') ? [ev('header:www-authenticate', ctx.header('www-authenticate')!)] : [])],
      fixes: [jwtCheck, rbacDebug],
    });
    return { producer, causes };
  },
});
