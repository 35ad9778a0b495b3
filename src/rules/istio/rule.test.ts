import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { unitCase } from '../_lib/unit-case.ts';

const fx = (name: string, status: number, headers: Record<string, string>, body: string, authorization?: string) =>
  unitCase(name, {
    request: {
      method: 'GET',
      url: 'http://httpbin.foo:8000/headers',
      headers: authorization ? { Authorization: authorization } : {},
    },
    response: { status, headers, body },
  });

testRule(rule, import.meta.dirname, [
  {
    name: 'RBAC denial with a token sent → insufficient-role first',
    fixture: fx('with-token', 403, { server: 'istio-envoy' }, 'RBAC: access denied', 'Bearer abc.def.ghi'),
    product: 'istio',
    causes: ['insufficient-role'],
  },
  {
    name: 'RequestAuthentication "Jwt issuer is not configured" → wrong-audience',
    fixture: fx(
      'issuer',
      401,
      {
        'x-envoy-peer-metadata-id':
          'router~10.0.0.1~istio-ingressgateway-1.istio-system~istio-system.svc.cluster.local',
      },
      'Jwt issuer is not configured',
      'Bearer abc.def.ghi',
    ),
    product: 'istio',
    causes: ['wrong-audience'],
  },
  {
    name: 'plain Envoy (server: envoy) is not Istio',
    fixture: fx('envoy', 403, { server: 'envoy' }, 'RBAC: access denied'),
  },
  {
    name: 'an application’s 403 through a sidecar is weak evidence for Istio',
    fixture: fx('app', 403, { server: 'istio-envoy', 'x-envoy-upstream-service-time': '7' }, '<html>app page</html>'),
  },
]);
