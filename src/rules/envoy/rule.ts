// Envoy refuses requests itself in a few filters, each with a fixed plain-text
// body: the RBAC filter ("RBAC: access denied", 403) and jwt_authn ("Jwt is
// missing", "Jwt is expired"…, 401 with a Bearer challenge). The reason that
// matched is never in the response; it is in the access log's
// %RESPONSE_CODE_DETAILS% (rbac_access_denied_matched_policy[…],
// jwt_authn_access_denied{…}) and the admin config_dump. Istio's proxies are
// Envoy too: their replies carry Istio's headers and belong to the istio rule.
import { defineProducer, ev, type Fix } from '../define.ts';
import { challengeEvidence, envoyMarkers, localReply } from '../../knowledge/envoy-local-reply.ts';

const ADMIN = 'localhost:9901';
const FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http';

const accessLogFix: Fix = {
  title: 'Read why Envoy answered: %RESPONSE_CODE_DETAILS% in the access log',
  difficulty: 'easy',
  commands: [
    '# access_log format must include %RESPONSE_CODE% %RESPONSE_CODE_DETAILS%, then:',
    'grep -E "rbac_access_denied|jwt_authn_access_denied|ext_authz" /var/log/envoy/access.log | tail',
  ],
  verify:
    'rbac_access_denied_matched_policy[none] = no ALLOW policy matched; [NAME] = a DENY policy named NAME matched; jwt_authn_access_denied{Jwt_is_missing} etc. names the JWT failure.',
  docs: 'https://www.envoyproxy.io/docs/envoy/latest/faq/debugging/why_is_envoy_sending_internal_responses',
};

const rbacFixes: Fix[] = [
  {
    title: 'Read the RBAC filter’s policies from the admin interface and compare them with the request',
    difficulty: 'medium',
    commands: [
      `curl -s ${ADMIN}/config_dump | jq '.. | objects | select(."@type"? == "${FILTER_TYPE}.rbac.v3.RBAC")'`,
      `curl -s -X POST "${ADMIN}/logging?rbac=debug"   # then repeat the request and read Envoy's log`,
    ],
    verify:
      'With rbac=debug, Envoy logs "enforced allowed" for the request after the policy (or the request) is fixed.',
    docs: 'https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/rbac_filter',
  },
  accessLogFix,
];

const jwtFixes: Fix[] = [
  {
    title: 'Compare the token with the jwt_authn providers (issuer, audiences, JWKS, where the token is read from)',
    difficulty: 'medium',
    commands: [
      `curl -s ${ADMIN}/config_dump | jq '.. | objects | select(."@type"? == "${FILTER_TYPE}.jwt_authn.v3.JwtAuthentication") | .providers'`,
      'echo "$TOKEN" | cut -d. -f2 | base64 -d 2>/dev/null   # iss, aud, exp of the token',
    ],
    verify:
      'The access log shows the request with %RESPONSE_CODE_DETAILS% "via_upstream" instead of jwt_authn_access_denied{…}.',
    docs: 'https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/jwt_authn_filter',
  },
  accessLogFix,
];

export default defineProducer({
  meta: {
    id: 'envoy',
    product: 'envoy',
    layer: 'reverse-proxy',
    description:
      'Envoy local replies: the RBAC filter ("RBAC: access denied") and jwt_authn ("Jwt is missing", "Jwt is expired", "Jwt verification fails", "Jwt issuer is not configured"…), recognised by body and Envoy headers; Istio’s proxies are left to the istio rule.',
    docs: [
      'https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/rbac_filter',
      'https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/jwt_authn_filter',
      'https://www.envoyproxy.io/docs/envoy/latest/faq/debugging/why_is_envoy_sending_internal_responses',
      'https://www.envoyproxy.io/docs/envoy/latest/start/sandboxes/rbac',
    ],
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
    messages: {
      rbac: 'Envoy’s RBAC filter refused the request: no ALLOW policy matched its principal and permissions (or a DENY policy did). The response never says which; the access log’s response code details do.',
      rbacAddress:
        'RBAC principals are often source addresses (direct_remote_ip / remote_ip): the client address may be outside the allowed ranges. Behind a proxy, remote_ip depends on use_remote_address and X-Forwarded-For.',
      jwt: 'Envoy’s jwt_authn filter rejected the request: {{meaning}}.',
    },
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
      report.claim('insufficient-role', 'rbac', 0.6, { evidence: [bodyEv], fixes: rbacFixes });
      report.claim('ip-restricted', 'rbacAddress', 0.45, { evidence: [bodyEv], fixes: rbacFixes });
      return;
    }
    report.claim(reply.reply.cause, 'jwt', 0.85, {
      data: { meaning: reply.reply.meaning },
      evidence: [bodyEv, ...challengeEvidence(ctx)],
      fixes: jwtFixes,
    });
  },
});
