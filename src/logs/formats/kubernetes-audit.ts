// The Kubernetes API server's audit log (the log backend, --audit-log-path):
// one audit.k8s.io/v1 Event per line, in JSON lines,
//   {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"…","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/wareville/secrets?limit=500","verb":"list","user":{"username":"mayor-malware",…},"sourceIPs":["192.168.49.1"],…,"responseStatus":{…,"code":403},…,"annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}}
// A request writes one event per stage: RequestReceived, ResponseStarted
// (long-running requests: watch, exec), then ResponseComplete or Panic. Only
// the last is a record here, so a request counts once; the others are read as
// lines of the format that hold no record (isComment). The exception is a
// failed authentication: the server writes it at ResponseStarted alone, with
// code 401 (WithFailedAuthenticationAudit, kubernetes/kubernetes
// staging/src/k8s.io/apiserver/pkg/endpoints/filters/audit.go).
// A 403 whose authorization decision is "forbid" is RBAC (or another
// authorizer) finding no rule that allows the verb; RBAC leaves the reason
// annotation empty and the response's message says who cannot do what.
// https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/
// https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/#audit-k8s-io-v1-Event
// https://kubernetes.io/docs/reference/labels-annotations-taints/audit-annotations/
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/
import type { CauseId } from '../../model/vocabulary.ts';
import type { AccessRecord, LogFormat, LogReason } from '../../model/logs.ts';
import { jsonObjectOf } from './_json.ts';

interface AuditEvent {
  kind?: unknown;
  auditID?: unknown;
  stage?: unknown;
  requestURI?: unknown;
  verb?: unknown;
  user?: { username?: unknown };
  sourceIPs?: unknown;
  objectRef?: { resource?: unknown; subresource?: unknown; namespace?: unknown };
  responseStatus?: { code?: unknown; message?: unknown };
  stageTimestamp?: unknown;
  annotations?: Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
/** The server's words, bounded: a message can name a long object. */
const bounded = (s: string) => (s.length > 300 ? `${s.slice(0, 299)}…` : s);

// The analyzer asks isComment, then parse, of the same line: it is read once.
let last: { line: string; event: AuditEvent | undefined } | undefined;

function eventOf(line: string): AuditEvent | undefined {
  if (last?.line !== line) last = { line, event: read(line) };
  return last.event;
}

/** The event a line holds, when it is an audit event. */
function read(line: string): AuditEvent | undefined {
  const ev = jsonObjectOf(line, ['"auditID"', '"stage"']) as AuditEvent | undefined;
  if (!ev) return undefined;
  // The log backend writes kind and apiVersion on every line; a webhook batch's items leave them out.
  if (ev.kind !== undefined && ev.kind !== 'Event') return undefined;
  if (!str(ev.auditID) || !str(ev.stage) || typeof ev.requestURI !== 'string') return undefined;
  return ev;
}

const codeOf = (e: AuditEvent) => (typeof e.responseStatus?.code === 'number' ? e.responseStatus.code : undefined);

/** Whether the event is the one that stands for its request. */
function final(e: AuditEvent): boolean {
  if (e.stage === 'ResponseComplete' || e.stage === 'Panic') return true;
  // WithFailedAuthenticationAudit writes a 401 at ResponseStarted and nothing after it.
  return e.stage === 'ResponseStarted' && codeOf(e) === 401;
}

function reasonOf(e: AuditEvent, status: number, user: string | undefined): LogReason | undefined {
  const message = str(e.responseStatus?.message);
  const decision = str(e.annotations?.['authorization.k8s.io/decision']);
  if (status === 403 && decision === 'forbid') {
    const verb = str(e.verb) ?? 'VERB';
    const resource =
      [str(e.objectRef?.resource), str(e.objectRef?.subresource)].filter(Boolean).join('/') ||
      (e.requestURI as string).split('?')[0];
    const ns = str(e.objectRef?.namespace);
    // Anonymous requests are on by default: a request without a credential is system:anonymous, refused with 403.
    const anonymous = user === 'system:anonymous';
    const causes: CauseId[] = anonymous ? ['credential-missing', 'insufficient-role'] : ['insufficient-role'];
    return {
      causes,
      product: 'kubernetes',
      code: anonymous ? 'authorization-forbid-anonymous' : 'authorization-forbid',
      words: bounded(
        str(e.annotations?.['authorization.k8s.io/reason']) ?? message ?? 'authorization.k8s.io/decision: forbid',
      ),
      fix: {
        title:
          'Bind {{user}} to a Role or ClusterRole that allows the verb on the resource (RBAC allows nothing by default)',
        difficulty: 'easy',
        commands: [
          `kubectl auth can-i ${verb} ${resource}${ns ? ` -n ${ns}` : ''} --as {{user}}`,
          'kubectl get rolebindings,clusterrolebindings -A -o wide | grep -F {{user}}',
        ],
        verify: 'kubectl auth can-i answers yes for that user.',
        docs: 'https://kubernetes.io/docs/reference/access-authn-authz/rbac/',
      },
    };
  }
  if (status === 401) {
    // WithFailedAuthenticationAudit writes "Authentication failed, no credentials provided" (anonymous
    // requests are off) or "Authentication failed, attempted: bearer, x509" (a credential no authenticator accepted).
    const none = message !== undefined && /no credentials provided/.test(message);
    return {
      causes: none ? ['credential-missing'] : ['credential-invalid', 'credential-expired'],
      product: 'kubernetes',
      code: none ? 'authentication-no-credentials' : 'authentication-failed',
      words: bounded(message ?? 'Unauthorized'),
      fix: {
        title: none
          ? 'Send a credential with the request: a bearer token or a client certificate (kubeconfig user)'
          : 'Send a credential the API server accepts: a token that has not expired, a client certificate its CA signed',
        difficulty: 'easy',
        commands: ['kubectl auth whoami', 'kubectl config view --minify'],
        verify: 'kubectl auth whoami names the user instead of answering Unauthorized.',
        docs: 'https://kubernetes.io/docs/reference/access-authn-authz/authentication/',
      },
    };
  }
  return undefined;
}

function recordOf(e: AuditEvent): AccessRecord | undefined {
  const status = codeOf(e) ?? (e.stage === 'Panic' ? 500 : undefined);
  if (status === undefined) return undefined;
  const time = str(e.stageTimestamp) ? new Date(e.stageTimestamp as string) : undefined;
  const client = Array.isArray(e.sourceIPs) ? str(e.sourceIPs[0]) : undefined;
  const principal = str(e.user?.username);
  const method = str(e.verb);
  const path = (e.requestURI as string).split('?')[0];
  const reason = reasonOf(e, status, principal);
  return {
    kind: 'access',
    ...(time && !Number.isNaN(time.getTime()) ? { time } : {}),
    ...(client ? { client } : {}),
    ...(principal ? { principal } : {}),
    ...(method ? { method } : {}),
    ...(path ? { path } : {}),
    status,
    ...(reason ? { reason } : {}),
  };
}

export default {
  id: 'kubernetes-audit',
  product: 'kubernetes',
  kind: 'access',
  description: 'Kubernetes API server audit log (audit.k8s.io/v1 events, JSON lines)',
  docs: [
    'https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/',
    'https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/#audit-k8s-io-v1-Event',
  ],
  parse(line) {
    const e = eventOf(line);
    return e && final(e) ? recordOf(e) : undefined;
  },
  isComment(line) {
    const e = eventOf(line);
    return e !== undefined && !final(e);
  },
} satisfies LogFormat;
