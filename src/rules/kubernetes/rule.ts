// The Kubernetes API server answers every refusal with a v1 Status object, and
// its RBAC message names the whole near miss: user, verb, resource, API group
// and namespace. The API server is the application being called here, so the
// layer is "application" (not "gateway"): it authenticates, authorizes and
// serves the resource itself.
import { defineProducer, ev, signals, type Context, type Fix } from '../define.ts';

const APISERVER_HEADERS = ['x-kubernetes-pf-flowschema-uid', 'x-kubernetes-pf-prioritylevel-uid', 'audit-id'];

interface Status {
  message: string;
  reason: string;
  code?: number;
  details?: { kind?: string; group?: string; name?: string };
}

function status(ctx: Context): Status | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || j.kind !== 'Status' || j.status !== 'Failure') return undefined;
  if (typeof j.apiVersion !== 'string') return undefined;
  return {
    message: typeof j.message === 'string' ? j.message : '',
    reason: typeof j.reason === 'string' ? j.reason : '',
    code: typeof j.code === 'number' ? j.code : undefined,
    details: j.details && typeof j.details === 'object' ? (j.details as Status['details']) : undefined,
  };
}

interface Denial {
  user: string;
  verb: string;
  resource?: string;
  group?: string;
  namespace?: string;
  path?: string;
  tail: string;
}

// apiserver responsewriters.forbiddenMessage:
//   User "u" cannot VERB resource "r[/sub]" in API group "g" in the namespace "ns" | at the cluster scope
//   User "u" cannot VERB path "/p"
function parseForbidden(message: string): Denial | undefined {
  const res =
    /User "([^"]*)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)"| at the cluster scope)?(.*)$/s.exec(
      message,
    );
  if (res)
    return { user: res[1], verb: res[2], resource: res[3], group: res[4], namespace: res[5], tail: res[6].trim() };
  const path = /User "([^"]*)" cannot (\S+) path "([^"]*)"(.*)$/s.exec(message);
  if (path) return { user: path[1], verb: path[2], path: path[3], tail: path[4].trim() };
  // Releases before 1.11 left out the API group: User "u" cannot list pods in the namespace "ns"
  const old = /User "([^"]*)" cannot (\S+) (\S+)(?: in the namespace "([^"]+)"| at the cluster scope)(.*)$/s.exec(
    message,
  );
  if (old) return { user: old[1], verb: old[2], resource: old[3], namespace: old[4], tail: old[5].trim() };
  return undefined;
}

function asArg(user: string): string {
  return `--as=${user}`;
}

function subjectFlag(user: string): string {
  const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(user);
  return sa ? `--serviceaccount=${sa[1]}:${sa[2]}` : `--user=${user}`;
}

function rbacFixes(d: Denial): Fix[] {
  const ns = d.namespace ? ` -n ${d.namespace}` : '';
  const resourceArg = d.resource
    ? `${d.resource.split('/')[0]}${d.group ? `.${d.group}` : ''}${d.resource.includes('/') ? `/${d.resource.split('/')[1]}` : ''}`
    : '';
  const name = `${d.verb}-${(d.resource ?? 'path').replace(/[^a-z0-9]+/gi, '-')}`.toLowerCase();
  const canI = d.resource
    ? `kubectl auth can-i ${d.verb} ${resourceArg}${ns} ${asArg(d.user)}`
    : `kubectl auth can-i ${d.verb} ${d.path} ${asArg(d.user)}`;
  const fixes: Fix[] = [
    {
      title: 'Confirm the denial for this exact identity, and list what it may do',
      difficulty: 'easy',
      commands: [canI, `kubectl auth can-i --list${ns} ${asArg(d.user)}`],
      verify: '"no" for the first command; the second shows the verbs and resources the identity holds.',
      docs: 'https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access',
    },
  ];
  if (d.resource && d.namespace) {
    fixes.push({
      title: `Grant ${d.verb} on ${resourceArg} in namespace ${d.namespace} with a Role and RoleBinding`,
      difficulty: 'medium',
      commands: [
        `kubectl create role ${name} --verb=${d.verb} --resource=${resourceArg} -n ${d.namespace}`,
        `kubectl create rolebinding ${name} --role=${name} ${subjectFlag(d.user)} -n ${d.namespace}`,
      ],
      verify: `${canI} answers "yes".`,
      docs: 'https://kubernetes.io/docs/reference/access-authn-authz/rbac/#command-line-utilities',
    });
  } else if (d.resource) {
    fixes.push({
      title: `Grant ${d.verb} on ${resourceArg} cluster-wide with a ClusterRole and ClusterRoleBinding`,
      difficulty: 'medium',
      commands: [
        `kubectl create clusterrole ${name} --verb=${d.verb} --resource=${resourceArg}`,
        `kubectl create clusterrolebinding ${name} --clusterrole=${name} ${subjectFlag(d.user)}`,
      ],
      verify: `${canI} answers "yes".`,
      docs: 'https://kubernetes.io/docs/reference/access-authn-authz/rbac/#command-line-utilities',
    });
  } else if (d.path) {
    fixes.push({
      title: `Grant ${d.verb} on the non-resource URL ${d.path} with a ClusterRole`,
      difficulty: 'medium',
      commands: [
        `kubectl create clusterrole ${name} --verb=${d.verb} --non-resource-url=${d.path}`,
        `kubectl create clusterrolebinding ${name} --clusterrole=${name} ${subjectFlag(d.user)}`,
      ],
      docs: 'https://kubernetes.io/docs/reference/access-authn-authz/rbac/#command-line-utilities',
    });
  }
  return fixes;
}

const credentialFixes: Fix[] = [
  {
    title: 'See which identity the cluster gives your credentials (or that none arrives)',
    difficulty: 'easy',
    commands: ['kubectl auth whoami', 'kubectl config view --minify'],
    verify: 'The username is the one you expect, not system:anonymous.',
    docs: 'https://kubernetes.io/docs/reference/access-authn-authz/authentication/',
  },
];

const REFRESH_FIX: Fix = {
  title: 'Refresh the kubeconfig credentials from their source',
  difficulty: 'easy',
  commands: [
    'gcloud container clusters get-credentials CLUSTER --region REGION   # GKE',
    'aws eks update-kubeconfig --name CLUSTER   # EKS',
    'kubectl create token SERVICE_ACCOUNT -n NAMESPACE   # a fresh ServiceAccount token',
  ],
};

const RELOAD_FIX: Fix = {
  title: 'Get a new token; long-running clients must reload it (bound ServiceAccount tokens are rotated hourly)',
  difficulty: 'easy',
  docs: 'https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-token-volume',
};

const ADMISSION_FIX: Fix = {
  title: 'Read the policy named in the message and change the object to comply (or ask for an exemption)',
  difficulty: 'medium',
  commands: [
    'kubectl get validatingwebhookconfigurations',
    'kubectl get ns NAMESPACE -o jsonpath="{.metadata.labels}"   # pod-security.kubernetes.io/* labels',
  ],
};

const sendCredentialFix = (ctx: Context): Fix => ({
  title: 'Send the token or client certificate from your kubeconfig (a client outside kubectl must load it)',
  difficulty: 'easy',
  commands: [
    `curl --cacert ca.crt -H "Authorization: Bearer $(kubectl create token SERVICE_ACCOUNT -n NAMESPACE)" ${ctx.url?.href ?? 'https://APISERVER/…'}`,
  ],
});

export default defineProducer({
  meta: {
    id: 'kubernetes',
    product: 'kubernetes',
    layer: 'application',
    description:
      'Kubernetes API server Status responses (layer "application": the API server itself authenticates and authorizes): RBAC Forbidden with user/verb/resource/namespace, anonymous requests, 401 Unauthorized, admission and quota denials.',
    docs: [
      'https://kubernetes.io/docs/reference/access-authn-authz/rbac/',
      'https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests',
      'https://kubernetes.io/docs/reference/using-api/api-concepts/',
      'https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access',
    ],
    causes: [
      'insufficient-role',
      'credential-missing',
      'credential-invalid',
      'credential-expired',
      'explicit-deny',
      'rate-limited',
      'resource-state',
    ],
    messages: {
      unauthorized:
        'The API server could not authenticate the request: the token or client certificate was not accepted (unknown, revoked, signed by another cluster, or a token whose lifetime ended).',
      expired:
        'Kubernetes answers an expired token (exec-plugin or bound ServiceAccount token) with the same bare 401.',
      admission:
        'An admission control policy (validating webhook such as Gatekeeper or Kyverno, or Pod Security admission) rejected the object after RBAC allowed the request.',
      quota:
        'A ResourceQuota in the namespace is exhausted; the API server refuses new objects with 403 until usage drops or the quota grows.',
      terminating: 'The namespace is being deleted; nothing new can be created in it.',
      anonymous:
        'The API server saw no credential and treated the request as system:anonymous, which may not {{verb}} {{target}}.',
      rbac: 'RBAC denied {{user}}: no Role or ClusterRole bound to it allows {{scope}}.{{tail}}{{nodeNote}}',
      refused: 'The API server refused the request: {{message}}',
    },
  },
  recognise(ctx) {
    const st = status(ctx);
    const apfHeader = Boolean(ctx.header('x-kubernetes-pf-flowschema-uid'));
    if (!st && !apfHeader) return undefined;
    // The Status shape is Kubernetes' own; API Priority and Fairness headers are unique to kube-apiserver.
    const confidence = apfHeader ? 0.96 : st && st.code === ctx.status ? 0.9 : 0.75;
    const found = signals();
    if (st)
      found.add(
        confidence,
        ev(
          'body',
          `Kubernetes Status object (kind: Status, status: Failure, reason: ${st.reason || '—'}${st.code ? `, code: ${st.code}` : ''})`,
        ),
      );
    for (const h of APISERVER_HEADERS) {
      const v = ctx.header(h);
      if (v) found.add(confidence, ev(`header:${h}`, v));
    }
    return found.result({ st });
  },
  explain(ctx, { st }, report) {
    if (!st) return;
    const msgEv = ev('body:message', st.message);

    if (ctx.status === 401 || st.reason === 'Unauthorized') {
      const challenge = ctx.header('www-authenticate');
      report.claim('credential-invalid', 'unauthorized', 0.75, {
        evidence: [msgEv, ...(challenge ? [ev('header:www-authenticate', challenge)] : [])],
        fixes: [...credentialFixes, REFRESH_FIX],
      });
      report.claim('credential-expired', 'expired', 0.4, { evidence: [msgEv], fixes: [RELOAD_FIX] });
      return;
    }

    if (st.reason !== 'Forbidden' && ctx.status !== 403) return;
    const d = parseForbidden(st.message);

    if (/admission webhook .* denied the request|violates PodSecurity|denied request: /i.test(st.message)) {
      report.claim('explicit-deny', 'admission', 0.75, { evidence: [msgEv], fixes: [ADMISSION_FIX] });
    } else if (/exceeded quota/i.test(st.message)) {
      const quota: Fix = {
        title: 'Compare the namespace quota with its usage',
        difficulty: 'easy',
        commands: ['kubectl describe resourcequota -n NAMESPACE'],
      };
      report.claim('rate-limited', 'quota', 0.75, { evidence: [msgEv], fixes: [quota] });
    } else if (/because it is being terminated/i.test(st.message)) {
      const wait: Fix = {
        title: 'Wait for the namespace to finish terminating (or find what blocks its finalizers), then recreate it',
        difficulty: 'medium',
        commands: ['kubectl get ns NAMESPACE -o yaml'],
      };
      report.claim('resource-state', 'terminating', 0.8, { evidence: [msgEv], fixes: [wait] });
    } else if (d && (d.user === 'system:anonymous' || d.user === '')) {
      report.claim('credential-missing', 'anonymous', 0.85, {
        data: { verb: d.verb, target: d.resource ?? d.path },
        evidence: [msgEv],
        fixes: [...credentialFixes, sendCredentialFix(ctx)],
      });
    } else if (d) {
      const where = d.namespace ? `in namespace ${d.namespace}` : 'cluster-wide';
      const scope = d.resource
        ? `${d.verb} ${d.resource}${d.group ? ` (API group ${d.group})` : ''} ${where}`
        : `${d.verb} ${d.path}`;
      const nodeNote = /^system:node:/.test(d.user)
        ? ' Node identities are limited by the Node authorizer; use a ServiceAccount for workloads instead of the kubelet’s credentials.'
        : '';
      report.claim('insufficient-role', 'rbac', 0.9, {
        data: { user: d.user, scope, tail: d.tail ? ` The API server adds: ${d.tail}` : '', nodeNote },
        evidence: [msgEv, ...(st.details?.kind ? [ev('body:details.kind', st.details.kind)] : [])],
        gap: { required: [scope], held: [] },
        fixes: rbacFixes(d),
      });
    } else {
      const canI: Fix = {
        title: 'List what your identity may do',
        difficulty: 'easy',
        commands: ['kubectl auth can-i --list', 'kubectl auth whoami'],
      };
      report.claim('insufficient-role', 'refused', 0.5, {
        data: { message: st.message },
        evidence: [msgEv],
        fixes: [canI],
      });
    }
  },
});
