// The Kubernetes API server answers every refusal with a v1 Status object, and
// its RBAC message names the whole near miss: user, verb, resource, API group
// and namespace. The API server is the application being called here, so the
// layer is "application" (not "gateway"): it authenticates, authorizes and
// serves the resource itself.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

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

/** What the RBAC fixes fill in, and which grant fits the denial (a Role, a ClusterRole, a non-resource URL). */
function rbacFixData(d: Denial) {
  const ns = d.namespace ? ` -n ${d.namespace}` : '';
  const resourceArg = d.resource
    ? `${d.resource.split('/')[0]}${d.group ? `.${d.group}` : ''}${d.resource.includes('/') ? `/${d.resource.split('/')[1]}` : ''}`
    : '';
  const canI = d.resource
    ? `kubectl auth can-i ${d.verb} ${resourceArg}${ns} ${asArg(d.user)}`
    : `kubectl auth can-i ${d.verb} ${d.path} ${asArg(d.user)}`;
  const grant = (
    d.resource && d.namespace ? 'grantRole' : d.resource ? 'grantClusterRole' : d.path ? 'grantNonResource' : undefined
  ) as 'grantRole' | 'grantClusterRole' | 'grantNonResource' | undefined;
  const data = {
    canI,
    nsFlag: ns,
    asUser: asArg(d.user),
    verb: d.verb,
    resourceArg,
    namespace: d.namespace,
    roleName: `${d.verb}-${(d.resource ?? 'path').replace(/[^a-z0-9]+/gi, '-')}`.toLowerCase(),
    subject: subjectFlag(d.user),
    path: d.path,
  };
  return { data, grant };
}

export default defineProducer({
  meta: {
    id: 'kubernetes',
    product: 'kubernetes',
    layer: 'application',
    causes: [
      'insufficient-role',
      'credential-missing',
      'credential-invalid',
      'credential-expired',
      'explicit-deny',
      'rate-limited',
      'resource-state',
    ],
    ...texts,
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
        fixes: ['whoami', 'refresh'],
      });
      report.claim('credential-expired', 'expired', 0.4, { evidence: [msgEv], fixes: ['reload'] });
      return;
    }

    if (st.reason !== 'Forbidden' && ctx.status !== 403) return;
    const d = parseForbidden(st.message);

    if (/admission webhook .* denied the request|violates PodSecurity|denied request: /i.test(st.message)) {
      report.claim('explicit-deny', 'admission', 0.75, { evidence: [msgEv], fixes: ['admission'] });
    } else if (/exceeded quota/i.test(st.message)) {
      report.claim('rate-limited', 'quota', 0.75, { evidence: [msgEv], fixes: ['quota'] });
    } else if (/because it is being terminated/i.test(st.message)) {
      report.claim('resource-state', 'terminating', 0.8, { evidence: [msgEv], fixes: ['waitTerminating'] });
    } else if (d && (d.user === 'system:anonymous' || d.user === '')) {
      report.claim('credential-missing', 'anonymous', 0.85, {
        data: { verb: d.verb, target: d.resource ?? d.path, url: ctx.url?.href ?? 'https://APISERVER/…' },
        evidence: [msgEv],
        fixes: ['whoami', 'sendCredential'],
      });
    } else if (d) {
      const where = d.namespace ? `in namespace ${d.namespace}` : 'cluster-wide';
      const scope = d.resource
        ? `${d.verb} ${d.resource}${d.group ? ` (API group ${d.group})` : ''} ${where}`
        : `${d.verb} ${d.path}`;
      const nodeNote = /^system:node:/.test(d.user)
        ? ' Node identities are limited by the Node authorizer; use a ServiceAccount for workloads instead of the kubelet’s credentials.'
        : '';
      const rbac = rbacFixData(d);
      report.claim('insufficient-role', 'rbac', 0.9, {
        data: { ...rbac.data, user: d.user, scope, tail: d.tail ? ` The API server adds: ${d.tail}` : '', nodeNote },
        evidence: [msgEv, ...(st.details?.kind ? [ev('body:details.kind', st.details.kind)] : [])],
        gap: { required: [scope], held: [] },
        fixes: ['confirmDenial', ...(rbac.grant ? [rbac.grant] : [])],
      });
    } else {
      report.claim('insufficient-role', 'refused', 0.5, {
        data: { message: st.message },
        evidence: [msgEv],
        fixes: ['canIList'],
      });
    }
  },
});
